"""A second user of the embedded SQLite database while something else runs: every 50 ms it reads the
import jobs' status (what the progress bar polls) and writes one short transaction (what a submit or a
session save does). Prints the worst waits and every error as JSON when the stop file appears.

    python -m bench.workloads.embedded_writer STOP_FILE   (TESSERA_VAR_DIR points at the database)
"""

import json
import os
import sys
import time
from pathlib import Path

import django


def main(stop_file: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.utils import timezone

    from annotation.models import ImportJob

    reads, writes, errors = [], [], []
    stop = Path(stop_file)
    while not stop.exists():
        started = time.perf_counter()
        try:
            list(ImportJob.objects.values_list("status", "received"))
        except Exception as error:  # a reader that fails is what this measures
            errors.append(f"read: {error}")
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        try:
            with transaction.atomic():
                Session.objects.update_or_create(
                    session_key="bench-embedded-writer-000000000",
                    defaults={"session_data": "x", "expire_date": timezone.now()},
                )
        except Exception as error:
            errors.append(f"write: {error}")
        writes.append(time.perf_counter() - started)
        time.sleep(0.05)
    print(
        json.dumps(
            {
                "rounds": len(reads),
                "worst_read_ms": max(reads, default=0) * 1000,
                "worst_write_ms": max(writes, default=0) * 1000,
                "errors": errors[:5],
                "error_count": len(errors),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
