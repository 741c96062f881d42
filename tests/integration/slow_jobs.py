"""Loaded into a test worker with `celery worker -I tests.integration.slow_jobs`: slows every import
record down by TESSERA_TEST_IMPORT_ROW_DELAY seconds, so a test can kill the worker midway (the
import equivalent of EXPORTS_BUILD_CHUNK_DELAY). Never imported by the application."""

import os
import time

from annotation.imports.services import jobs as imports

_DELAY = float(os.environ.get("TESSERA_TEST_IMPORT_ROW_DELAY", "0"))

if _DELAY:
    _row = imports._row

    def _slow_row(*args, **kwargs):
        time.sleep(_DELAY)
        return _row(*args, **kwargs)

    imports._row = _slow_row
