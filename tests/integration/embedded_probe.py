"""Run by tests/integration/test_embedded_import.py in its own process, on `make run`'s settings
(SQLite under TESSERA_VAR_DIR, jobs in-process): import a JSONL file and, while its rows are being
staged, try to take SQLite's write lock from a second connection without waiting. Prints JSON."""

import json
import os
import sqlite3
import sys

import django


def main(lines: int) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ["CORE_TASKS_IN_THREAD"] = "0"
    os.environ["ANNOTATION_NEAR_DUPLICATES_AFTER_IMPORT"] = "0"
    django.setup()
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from accounts.services import user_create
    from annotation.imports.loader import ItemLoader
    from annotation.models import ImportJob
    from projects.services import organisation_create, project_create

    call_command("migrate", "--noinput", verbosity=0)
    user = user_create(username="probe", password="probe-password-123")
    organisation = organisation_create(name="Probe", slug="probe", creator=user)
    project = project_create(organisation=organisation, actor=user, name="Embedded import")
    # Every tenth line repeats the text of the line before it: a duplicate, skipped (the first is kept).
    texts = [f"line {i - 1 if i % 10 == 0 and i else i} of the probe" for i in range(lines)]
    body = "".join(json.dumps({"text": text}) + "\n" for text in texts).encode()

    probes: list[str] = []
    original_add = ItemLoader.add

    def add(self, row):
        original_add(self, row)
        if self.staged == lines // 2:  # halfway through staging: does the import hold the lock?
            other = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                probes.append("write lock free")
            except sqlite3.OperationalError as error:
                probes.append(str(error))
            finally:
                other.close()

    ItemLoader.add = add

    # The personal-data scan that follows the import runs its detectors outside any transaction.
    from annotation.pii import detectors

    pii_probes: list[str] = []
    original_detect = detectors.detect_item

    def detect_item(data, config):
        if not pii_probes:
            other = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                pii_probes.append("write lock free")
            except sqlite3.OperationalError as error:
                pii_probes.append(str(error))
            finally:
                other.close()
        return original_detect(data, config)

    detectors.detect_item = detect_item
    from annotation.imports.services.jobs import import_job_create

    upload = SimpleUploadedFile("probe.jsonl", body, content_type="application/x-ndjson")
    job = import_job_create(project=project, actor=user, upload=upload)  # runs in-process on commit
    job = ImportJob.objects.get(pk=job.pk)
    from django.db import connection

    from annotation.models import Item

    lines_by_id = [
        int(ref.rsplit(":", 1)[1]) for ref in Item.objects.order_by("id").values_list("source_ref", flat=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA main.cache_size")
        cache_size = cursor.fetchone()[0]
    print(
        json.dumps(
            {
                "status": job.status,
                "created": job.created,
                "duplicates": job.duplicates,
                "detail": job.detail,
                "probes": probes,
                "pii_probes": pii_probes,
                "ids_follow_lines": lines_by_id == sorted(lines_by_id),
                "first_lines_kept": lines_by_id[:11],
                "cache_size": cache_size,
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
