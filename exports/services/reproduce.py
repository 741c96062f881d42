"""Reproducing a published release: rebuilt from the database in the worker and compared file by file."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core import task_names
from core.audit import audit_record
from core.realtime import broadcast_on_commit, project_group
from core.services import outbox_enqueue
from exports.manifest import (
    DirectoryOutput,
)
from exports.models import Release

from .. import events
from .common import BuildProblem, require_published
from .writer import write_release

logger = logging.getLogger("exports.services")


REPRODUCE_TASK = task_names.RELEASE_REPRODUCE


def release_reproduce_request(*, release: Release, actor):
    """Ask the worker to rebuild a published release and compare it with what was published
    (through the outbox, like builds). While one is queued or running for the release, that one is
    returned instead of starting another. 409 `release_not_published` for a release not published."""
    from exports.models import ReleaseReproduction

    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        require_published(release)
        pending = (
            ReleaseReproduction.objects.filter(release=release, status__in=["queued", "running"])
            .order_by("-id")
            .first()
        )
        if pending is not None:
            return pending
        reproduction = ReleaseReproduction.objects.create(release=release, requested_by=actor)
        audit_record(
            actor=actor,
            organisation_id=release.project.organisation_id,
            project_id=release.project_id,
            action="release.reproduce_requested",
            target=release,
            changes={"reproduction": reproduction.id},
        )
        outbox_enqueue(task_name=REPRODUCE_TASK, kwargs={"reproduction_id": reproduction.id})
    return reproduction


def release_reproduce_run(*, reproduction_id: int):
    """The worker's part: rebuild into a temporary directory (deleted afterwards), compare, store
    the result (`identical`, `differences`) and announce `release.reproduced` on the project feed.
    Idempotent: a reproduction that is not queued (a second delivery) is left as it is."""
    from exports.models import ReleaseReproduction

    with transaction.atomic():
        reproduction = (
            ReleaseReproduction.objects.select_for_update()
            .select_related("release", "release__project", "release__project__organisation")
            .filter(pk=reproduction_id)
            .first()
        )
        if reproduction is None or reproduction.status != ReleaseReproduction.Status.QUEUED:
            return reproduction
        reproduction.status = ReleaseReproduction.Status.RUNNING
        reproduction.started_at = timezone.now()
        reproduction.save(update_fields=["status", "started_at"])
    release = reproduction.release
    key = reproduction_progress_key(reproduction.id)
    last = [0.0]

    def report(done: int, total: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - last[0] >= 0.25:
            last[0] = now
            cache.set(key, {"records_done": done, "records_total": total}, timeout=3600)

    directory = Path(tempfile.mkdtemp(prefix="tessera-reproduce-"))
    try:
        differences, files = _reproduce_differences(release, directory, report)
    except Exception as error:
        logger.exception("reproduction %s failed", reproduction.id)
        reproduction.status = ReleaseReproduction.Status.FAILED
        reason = str(error) if isinstance(error, BuildProblem) else type(error).__name__
        reproduction.error = f"The rebuild failed ({reason})."[:1000]
    else:
        reproduction.status = ReleaseReproduction.Status.DONE
        reproduction.identical = not differences
        reproduction.differences = differences
        reproduction.files = files
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        cache.delete(key)
    reproduction.finished_at = timezone.now()
    with transaction.atomic():
        reproduction.save(
            update_fields=["status", "identical", "differences", "files", "error", "finished_at"]
        )
        broadcast_on_commit(
            project_group(release.project_id), events.RELEASE_REPRODUCED, reproduction_summary(reproduction)
        )
    return reproduction


def reproduction_summary(reproduction) -> dict[str, Any]:
    """A reproduction as the API, the page and the feed show it (progress while it runs)."""
    state = {}
    if reproduction.status in ("queued", "running"):
        state = cache.get(reproduction_progress_key(reproduction.id)) or {}
    return {
        "id": reproduction.id,
        "release_id": reproduction.release_id,
        "number": reproduction.release.number,
        "status": reproduction.status,
        "identical": reproduction.identical,
        "files": reproduction.files,
        "differences": reproduction.differences,
        "error": reproduction.error,
        "created_at": reproduction.created_at.isoformat(),
        "finished_at": reproduction.finished_at.isoformat() if reproduction.finished_at else None,
        "progress": {
            "records_done": state.get("records_done", 0),
            "records_total": state.get("records_total", 0),
        },
    }


def reproduction_progress_key(reproduction_id: int) -> str:
    return f"exports:reproduction-progress:{reproduction_id}"


def release_reproduce(*, release: Release, directory: Path, on_progress=None) -> list[str]:
    """Build the published release again from the database into `directory` and compare with what
    was published: [] when every file (manifest.json included) is byte-identical, else one line per
    file ("missing: P", "extra: P", "changed: P")."""
    lines = []
    for difference in _reproduce_differences(release, directory, on_progress)[0]:
        kind = (
            "missing"
            if difference["actual"] is None
            else "extra"
            if difference["expected"] is None
            else "changed"
        )
        lines.append(f"{kind}: {difference['path']}")
    return lines


def _reproduce_differences(release: Release, directory: Path, on_progress=None) -> tuple[list[dict], int]:
    """(the files that differ, by path: {"path", "expected", "actual"} with {"sha256", "size"} or None
    for a file only one side has; the number of files compared)."""
    require_published(release)
    written = write_release(release, DirectoryOutput(directory), on_progress=on_progress)
    recorded = {f.path: (f.sha256, f.size) for f in release.files.all()}
    rebuilt = {e.path: (e.sha256, e.bytes) for e in [*written.entries, written.manifest_entry]}
    differences = []
    paths = sorted(set(recorded) | set(rebuilt))
    for path in paths:
        if recorded.get(path) != rebuilt.get(path):
            expected, actual = recorded.get(path), rebuilt.get(path)
            differences.append(
                {
                    "path": path,
                    "expected": {"sha256": expected[0], "size": expected[1]} if expected else None,
                    "actual": {"sha256": actual[0], "size": actual[1]} if actual else None,
                }
            )
    return differences, len(paths)
