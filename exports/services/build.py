"""Building and publishing a release: the worker's job (claim, write, upload, publish or fail), its
advisory lock and its live progress."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from annotation.items.selectors import exports as item_selectors
from core.audit import audit_record
from core.realtime import broadcast, broadcast_on_commit, project_group
from exports.itemset import encode_ids
from exports.manifest import (
    MANIFEST_NAME,
    sort_entries,
)
from exports.models import Release, ReleaseFile
from projects.models import Project

from .. import events
from .common import BuildProblem
from .storage import Target, storage_delete_prefix
from .writer import WrittenRelease, erasure_generation_of, write_release

logger = logging.getLogger("exports.services")


# Erasures committed while a build reads are found by _publish (the written items must all still
# exist); the build then starts again from a fresh snapshot, at most this many times.
_ERASURE_REBUILDS = 3

_LOCK_CLASS = 7007  # first key of the advisory lock a build holds (the second is the release id)


def progress_key(release_id: int) -> str:
    return f"exports:release-progress:{release_id}"


def release_progress(*, release: Release) -> dict[str, int]:
    """The live progress of a build (from the cache the build writes), zeros before the first chunk."""
    state = cache.get(progress_key(release.id)) or {}
    return {"records_done": state.get("records_done", 0), "records_total": state.get("records_total", 0)}


def release_summary(release: Release) -> dict[str, Any]:
    return {
        "project_id": release.project_id,
        "release_id": release.id,
        "number": release.number,
        "name": release.name,
        "status": release.status,
        "records_done": release.records_done,
        "records_total": release.records_total,
    }


def release_build(*, release_id: int) -> Release | None:
    """Build and publish a release. Idempotent: a published or failed release is left as it is, and
    a second delivery of the task while a build runs does nothing (the build's advisory lock).

    Side effects: files under the release's prefix in default_storage; `release.progress` events
    while it runs; then, in one transaction, the ReleaseFile rows, the manifest and the status flip
    to published (`release.published`), or failed with the files deleted (`release.failed`).
    """
    with _build_lock(release_id) as acquired:
        if not acquired:
            return Release.objects.filter(pk=release_id).first()
        for _ in range(_ERASURE_REBUILDS + 1):
            release = _claim(release_id)
            if release is None:
                return Release.objects.filter(pk=release_id).first()
            target = None
            try:
                target = Target(release.storage_prefix)
                written = write_release(
                    release, target.output, on_progress=_progress_reporter(release), target=target
                )
                target.upload([entry.path for entry in written.entries] + [MANIFEST_NAME])
            except Exception as error:
                logger.exception("release %s failed", release.id)
                if target is not None:
                    target.discard()
                else:
                    storage_delete_prefix(release.storage_prefix)
                reason = str(error) if isinstance(error, BuildProblem) else type(error).__name__
                return _fail(release, f"The build failed ({reason}); nothing was published.")
            target.cleanup()
            published = _publish(release, written)
            if published is not None:
                return published
            # Items were erased while this attempt read them: its files are deleted and never served.
            logger.info("release %s: items erased during the build; building again", release.id)
            storage_delete_prefix(release.storage_prefix)
        return _fail(release, "Items kept being erased while the release was built; nothing was published.")


def _claim(release_id: int) -> Release | None:
    """Start an attempt: a release that is not building is never built (tasks are at-least-once).
    Deletes what an earlier attempt left and gives this attempt a fresh prefix."""
    with transaction.atomic():
        release = (
            Release.objects.select_for_update(of=("self",))
            .select_related("project", "project__organisation")
            .filter(pk=release_id)
            .first()
        )
        if release is None or release.status != Release.Status.BUILDING:
            return None
        storage_delete_prefix(release.storage_prefix)
        release.attempts += 1
        release.storage_prefix = f"releases/{release.project_id}/{release.number}/a{release.attempts}/"
        release.started_at = timezone.now()
        release.records_done = release.records_total = 0
        release.save(
            update_fields=["attempts", "storage_prefix", "started_at", "records_done", "records_total"]
        )
    storage_delete_prefix(release.storage_prefix)  # a stale prefix of the same attempt number
    return release


def build_running(release: Release) -> bool:
    """Whether a live build holds this release. PostgreSQL: the build's advisory lock (released by
    the server when the build's connection dies). Elsewhere: started less than the stale time ago."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, release.id])
            free = cursor.fetchone()[0]
            if free:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, release.id])
        return not free
    stale = timedelta(seconds=settings.EXPORTS_BUILD_STALE_SECONDS)
    return release.started_at is not None and timezone.now() - release.started_at < stale


@contextmanager
def _build_lock(release_id: int) -> Iterator[bool]:
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, release_id])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, release_id])


def _progress_reporter(release: Release):
    last = [0.0]

    def report(done: int, total: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - last[0] < 0.25:
            return
        last[0] = now
        state = {**release_summary(release), "records_done": done, "records_total": total}
        cache.set(progress_key(release.id), state, timeout=3600)
        # Sent now, not on commit: the build reads inside one long read-only transaction.
        broadcast(project_group(release.project_id), events.RELEASE_PROGRESS, state)

    return report


@transaction.atomic
def _publish(release: Release, written: WrittenRelease) -> Release | None:
    """Publish, unless an item the build wrote was erased meanwhile (then None, nothing changes).

    The project row lock orders this against erasures (governance.erasure.services takes it too): an
    erasure that commits first has bumped the project's ErasureGeneration past what the build's
    snapshot read, and then the written items are checked (one query per 100,000 ids); one that
    commits after sees this release published with its item ids and withdraws it
    (exports.services.erasure). No erasure since the snapshot: no check at all."""
    Project.objects.select_for_update().filter(pk=release.project_id).first()
    erased_since = erasure_generation_of(release.project_id) != written.erasure_generation
    if erased_since and item_selectors.export_items_missing(
        project=release.project, item_ids=written.item_ids
    ):
        return None
    release = Release.objects.select_for_update().get(pk=release.pk)
    release.item_ids = encode_ids(written.item_ids)
    ReleaseFile.objects.filter(release=release).delete()
    ReleaseFile.objects.bulk_create(
        [
            ReleaseFile(release=release, path=entry.path, sha256=entry.sha256, size=entry.bytes)
            for entry in sort_entries([*written.entries, written.manifest_entry])
        ]
    )
    release.status = Release.Status.PUBLISHED
    release.published_at = timezone.now()
    release.manifest = written.manifest
    release.records_done = release.records_total = written.records
    release.save()
    cache.delete(progress_key(release.id))
    audit_record(
        actor=None,
        organisation_id=release.project.organisation_id,
        project_id=release.project_id,
        action="release.published",
        target=release,
        changes={"records": written.records, "merkle_root": written.manifest["merkle_root"]},
    )
    broadcast_on_commit(project_group(release.project_id), events.RELEASE_PUBLISHED, release_summary(release))
    return release


@transaction.atomic
def _fail(release: Release, message: str) -> Release:
    release = Release.objects.select_for_update().get(pk=release.pk)
    release.status = Release.Status.FAILED
    release.error = message[:1000]
    release.save(update_fields=["status", "error"])
    cache.delete(progress_key(release.id))
    broadcast_on_commit(
        project_group(release.project_id),
        events.RELEASE_FAILED,
        {**release_summary(release), "error": release.error},
    )
    return release
