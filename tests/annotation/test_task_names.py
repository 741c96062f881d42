"""annotation's Celery task names survive module moves (core/task_names.py is the registry): every
name that code enqueues, schedules or declares resolves to a registered task, and the names are exactly
the ones pending outbox rows carry."""

import re
from pathlib import Path

from config.celery import app
from core import task_names

ROOT = Path(__file__).resolve().parents[2]
# The names Celery derived from the old module paths: rows already in the outbox hold these strings.
PINNED = {
    "annotation.tasks.import_job_run_task",
    "annotation.tasks.split_run_task",
    "annotation.tasks.lease_release_expired_task",
    "annotation.tasks.item_targets_sync_task",
    "annotation.tasks.queue_order_apply_task",
    "annotation.tasks.label_migration_apply_task",
    "annotation.tasks_neardup.near_duplicates_detect_task",
    "annotation.tasks_sources.bucket_source_sync_task",
    "annotation.items.bulk_action_run",  # the data manager's bulk actions: explicit from its first day
    "annotation.items.metadata_indexes_ensure",  # range indexes after an import (PostgreSQL)
    "annotation.pii.detect",  # personal-data detection after an import or on demand (#18)
}
_LITERAL = re.compile(r"[\"'](annotation\.tasks[a-z_]*\.[a-z_]+)[\"']")


def _registered() -> set[str]:
    app.loader.import_default_modules()  # what a worker and the outbox relay do: autodiscovery
    return {name for name in app.tasks if name.startswith("annotation.")}


def test_the_registry_holds_the_pinned_names():
    registry = {name for name in task_names.all_task_names().values() if name.startswith("annotation.")}
    assert registry == PINNED


def test_every_annotation_task_is_registered_under_its_pinned_name():
    assert _registered() == PINNED


def test_every_task_name_written_in_code_resolves():
    registered = _registered()
    written = set()
    for folder in ("annotation", "projects", "quality", "exports", "core", "config"):
        for path in (ROOT / folder).rglob("*.py"):
            written.update(_LITERAL.findall(path.read_text(encoding="utf-8")))
    assert written, "the scan found no task names: the pattern is wrong"
    assert written - registered == set()


def test_beat_schedule_resolves():
    from django.conf import settings

    registered = set(app.tasks) | _registered()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in registered
