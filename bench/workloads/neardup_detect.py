"""Run near_duplicates_detect over one project's items and print measurements as JSON.

    python -m bench.workloads.neardup_detect FILE   (DATABASE_URL points at a migrated PostgreSQL database)

FILE is JSONL of {"text": ...}; the items are loaded with COPY (not timed), as an import leaves them.
"""

import hashlib
import json
import os
import sys
import time

import django

from bench.workloads.import_run import PeakRss


def main(path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ["CORE_TASKS_IN_THREAD"] = "0"
    django.setup()
    from django.db import connection

    from accounts.services import user_create
    from annotation.imports.normalise import item_digest
    from annotation.neardup.services import near_duplicates_detect
    from projects.services import organisation_create, project_create

    user = user_create(username="bench", password="bench-password-123")
    organisation = organisation_create(name="Bench", slug="bench", creator=user)
    project = project_create(organisation=organisation, actor=user, name="Near-duplicate bench")
    columns = "project_id, data, meta, content_hash, checksum, source, source_ref, licence, consent, "
    columns += "synthetic, generator, split, search_text, predictions, created_at"
    with connection.cursor() as cursor, open(path, encoding="utf-8") as source:
        with cursor.cursor.copy(f"COPY annotation_item ({columns}) FROM STDIN") as copy:
            for line_number, line in enumerate(source, start=1):
                data = json.loads(line)
                digest = item_digest(data)
                unique = hashlib.sha256(f"{line_number}:{digest.content_hash}".encode()).hexdigest()
                copy.write_row(
                    (project.id, digest.data_json, "{}", unique, digest.checksum, "upload",
                     f"bench:{line_number}", "", "unknown", False, "", "", digest.search_text, "[]",
                     "2026-01-01T00:00:00Z")
                )  # fmt: skip
        cursor.execute("ANALYZE annotation_item")

    with PeakRss() as memory:
        started = time.perf_counter()
        groups = near_duplicates_detect(project_id=project.id)
        seconds = time.perf_counter() - started
    started = time.perf_counter()
    rerun_groups = near_duplicates_detect(project_id=project.id)
    rerun_seconds = time.perf_counter() - started
    items = project.items.filter(near_duplicate_group__isnull=False).count()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "groups": groups,
                "items": items,
                "rerun_seconds": rerun_seconds,
                "rerun_groups": rerun_groups,
                "rss_baseline_mb": memory.baseline / 1e6,
                "rss_peak_mb": memory.peak / 1e6,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
