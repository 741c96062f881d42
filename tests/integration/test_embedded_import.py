"""`make run`'s embedded default (SQLite, jobs in-process) stays writable while a file imports.

SQLite has one write lock for the whole database. An import that held it while parsing and staging
made every other writer (a submit, a session save) wait for the whole import and then fail with
`database is locked`. The probe takes the lock from a second connection, without waiting, halfway
through staging: it must be free (only the final insert holds it), and again while the personal-data
scan that follows runs its detectors. Speed: `make bench` import_embedded.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def test_an_import_leaves_the_embedded_database_writable_while_it_stages(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["TESSERA_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "tests.integration.embedded_probe", "2000"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == "succeeded", outcome
    assert outcome["created"] == 1801  # lines 11, 21, ... repeat the line before them
    assert outcome["duplicates"] == 199
    assert outcome["probes"] == ["write lock free"]
    # Repeated content is dropped before the write transaction; the first of each text is kept.
    assert outcome["first_lines_kept"] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12]
    assert outcome["ids_follow_lines"] is True
    assert outcome["cache_size"] == -2000  # the load's larger page cache was given back
    # The personal-data scan after the import holds the write lock only while it writes a chunk.
    assert outcome["pii_probes"] == ["write lock free"]
