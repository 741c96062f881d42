"""Retention services (docs/GOVERNANCE.md#retention). One rule each:

- retention_run(project, ...): apply the project's rules once and record a RetentionRun: stored media
  files of items older than N days are deleted (the item keeps its labels; `media_removed_at` says
  so), items in no published release after N days are erased through governance.erasure (reason
  "retention"), unsubmitted drafts not saved for N days are deleted. A dry run counts and changes
  nothing. Idempotent (what went is not found again) and resumable (work is committed in batches; a
  run that died leaves what it did done, and the next run does the rest).
- retention_run_due(): the daily schedule: every project with a rule and no finished run in the last
  RETENTION_INTERVAL (embedded mode calls it every 30 s; it costs one query then).

Never deletes what a building release reads: while a release of the project is building, the media
and unreleased-items rules wait for the next run (reported as `release_building`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotation.models import Assignment, Item
from core.audit import audit_record
from exports.itemset import decode_ids
from exports.models import Release
from governance.erasure import services as erasure
from governance.models import Erasure, RetentionRun
from projects.models import Project
from projects.retention_settings import RetentionSettings, retention_settings_from

logger = logging.getLogger("governance.retention")

RETENTION_INTERVAL = timedelta(hours=20)  # a daily schedule that tolerates a late beat
BATCH = 500  # media files deleted per committed batch
ERASE_BATCH = 10_000  # items per erasure (erase_items takes at most erasure.MAX_ITEMS)
STALE_RUN = timedelta(hours=6)  # a run "running" for longer died: it no longer blocks the next one


def _media_candidates(project: Project, cutoff: datetime):
    return Item.objects.filter(project=project, created_at__lt=cutoff, media_removed_at__isnull=True).exclude(
        media=""
    )


def _released_ids(project: Project) -> tuple[set[int], list[int]]:
    """Ids of items in any published release, and the numbers of published releases that predate
    item tracking (their items are unknown: the rule cannot run safely)."""
    released: set[int] = set()
    unknown: list[int] = []
    for number, blob in Release.objects.filter(
        project=project, status=Release.Status.PUBLISHED, withdrawn_at__isnull=True
    ).values_list("number", "item_ids"):
        if blob is None:
            unknown.append(number)
        else:
            released.update(decode_ids(blob))
    return released, unknown


def _unreleased_candidates(project: Project, cutoff: datetime, released: set[int]) -> list[int]:
    ids = Item.objects.filter(project=project, created_at__lt=cutoff).values_list("id", flat=True)
    return [item_id for item_id in ids.iterator(chunk_size=10_000) if item_id not in released]


def _draft_candidates(project: Project, cutoff: datetime):
    return (
        Assignment.objects.filter(project=project, draft__isnull=False)
        .filter(Q(draft_saved_at__lt=cutoff) | Q(draft_saved_at__isnull=True, leased_at__lt=cutoff))
        .exclude(status=Assignment.Status.SUBMITTED)
    )


def _building(project: Project) -> list[int]:
    return list(
        Release.objects.filter(project=project, status=Release.Status.BUILDING).values_list(
            "number", flat=True
        )
    )


def retention_preview(*, project: Project, now: datetime | None = None) -> dict:
    """What the next run would delete, by rule (a dry run that writes no RetentionRun)."""
    counts, errors = _apply(project, retention_settings_from(project.settings), now or timezone.now(), True)
    return {"rules": retention_settings_from(project.settings).as_dict(), "counts": counts, "errors": errors}


def _apply(project: Project, rules: RetentionSettings, now: datetime, dry_run: bool) -> tuple[dict, list]:
    counts: dict[str, int] = {}
    errors: list[dict] = []
    building = _building(project)

    if rules.raw_media_days is not None:
        cutoff = now - timedelta(days=rules.raw_media_days)
        if building and not dry_run:
            errors.append(_waiting("raw_media", building))
        elif dry_run:
            counts["raw_media"] = _media_candidates(project, cutoff).count()
        else:
            counts["raw_media"] = _delete_media(project, cutoff, errors)

    if rules.unreleased_items_days is not None:
        cutoff = now - timedelta(days=rules.unreleased_items_days)
        released, unknown = _released_ids(project)
        if unknown:
            errors.append(
                {
                    "rule": "unreleased_items",
                    "code": "release_items_unknown",
                    "detail": "Published release(s) "
                    + ", ".join(f"#{n}" for n in unknown)
                    + " predate item tracking: which items they hold is unknown, so no item is erased "
                    "by this rule. Build a new release to enable it.",
                }
            )
        elif building and not dry_run:
            errors.append(_waiting("unreleased_items", building))
        elif dry_run and not released:  # nothing released: a count in the database (the Settings page)
            counts["unreleased_items"] = Item.objects.filter(project=project, created_at__lt=cutoff).count()
        else:
            ids = _unreleased_candidates(project, cutoff, released)
            counts["unreleased_items"] = len(ids) if dry_run else _erase(project, ids, rules, errors)

    if rules.drafts_days is not None:
        cutoff = now - timedelta(days=rules.drafts_days)
        drafts = _draft_candidates(project, cutoff)
        counts["drafts"] = drafts.count() if dry_run else drafts.update(draft=None, draft_saved_at=None)
    return counts, errors


def _waiting(rule: str, building: list[int]) -> dict:
    return {
        "rule": rule,
        "code": "release_building",
        "detail": "Release(s) "
        + ", ".join(f"#{n}" for n in building)
        + " are being built and read these items: this rule runs again on the next run.",
    }


def _delete_media(project: Project, cutoff: datetime, errors: list[dict]) -> int:
    """Delete old media files in committed batches. Each batch holds the project's row lock, which
    release_create takes too, and checks again that no release is building: a build that starts
    mid-run waits for the batch, and the next batch stops (release_building) instead of deleting a
    file the build is about to copy."""
    deleted = 0
    while True:
        with transaction.atomic():
            Project.objects.select_for_update().filter(pk=project.pk).first()
            building = _building(project)
            if building:
                errors.append(_waiting("raw_media", building))
                return deleted
            batch = list(_media_candidates(project, cutoff).order_by("id").values_list("id", "media")[:BATCH])
            if not batch:
                return deleted
            done = []
            for item_id, name in batch:
                try:
                    default_storage.delete(name)  # a file already gone is not an error (Storage.delete)
                except Exception as error:  # storage down: keep the item as it is, report, go on
                    errors.append(
                        {
                            "rule": "raw_media",
                            "code": "media_delete_failed",
                            "detail": f"item {item_id}: {error}",
                        }
                    )
                    continue
                done.append(item_id)
            if done:
                Item.objects.filter(id__in=done).update(media="", media_removed_at=timezone.now())
                deleted += len(done)
        if len(done) < len(batch):
            return deleted  # failures stay candidates: stop instead of looping over them


def _erase(project: Project, ids: list[int], rules: RetentionSettings, errors: list[dict]) -> int:
    erased = 0
    reason = f"retention: in no published release {rules.unreleased_items_days} days after import"
    for start in range(0, len(ids), min(ERASE_BATCH, erasure.MAX_ITEMS)):
        chunk = ids[start : start + ERASE_BATCH]
        try:
            result = erase_for_retention(project=project, item_ids=chunk, reason=reason)
        except Exception as error:
            logger.exception("retention erasure failed for project %s", project.pk)
            errors.append({"rule": "unreleased_items", "code": "erasure_failed", "detail": str(error)[:500]})
            break
        erased += result.items
    return erased


def erase_for_retention(*, project: Project, item_ids: list[int], reason: str):
    """The one call into governance.erasure (reason and scope `retention`, no actor: the schedule)."""
    return erasure.erase_items(
        project=project, item_ids=item_ids, reason=reason, actor=None, scope=Erasure.Scope.RETENTION
    )


def retention_run(*, project: Project, actor=None, dry_run: bool = False, now: datetime | None = None):
    """Apply the project's retention rules once; returns the RetentionRun (see the module doc)."""
    now = now or timezone.now()
    rules = retention_settings_from(project.settings)
    run = RetentionRun.objects.create(
        project=project, dry_run=dry_run, rules=rules.as_dict(), actor=actor, started_at=now
    )
    try:
        counts, errors = _apply(project, rules, now, dry_run)
    except Exception as error:
        logger.exception("retention run %s failed", run.pk)
        run.status = RetentionRun.Status.FAILED
        run.errors = [{"rule": "", "code": "run_failed", "detail": str(error)[:500]}]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "errors", "finished_at"])
        return run
    with transaction.atomic():
        run.status = RetentionRun.Status.DONE
        run.counts = counts
        run.errors = errors
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "counts", "errors", "finished_at"])
        if not dry_run and any(counts.values()):
            audit_record(
                actor=actor,
                organisation_id=project.organisation_id,
                project_id=project.id,
                action="retention.applied",
                target=run,
                changes={"rules": rules.as_dict(), "counts": counts},
            )
    return run


def retention_run_due(*, now: datetime | None = None) -> list[int]:
    """The daily schedule: run every active project with a rule whose last real run is older than
    RETENTION_INTERVAL (and none running). Returns the ids of the runs made."""
    now = now or timezone.now()
    runs = []
    for project in Project.objects.filter(settings__has_key="retention").order_by("id"):
        if not retention_settings_from(project.settings).any:
            continue
        recent = RetentionRun.objects.filter(project=project, dry_run=False).filter(
            Q(status=RetentionRun.Status.DONE, started_at__gte=now - RETENTION_INTERVAL)
            | Q(status=RetentionRun.Status.RUNNING, started_at__gte=now - STALE_RUN)
        )
        if recent.exists():
            continue
        runs.append(retention_run(project=project, now=now).pk)
    return runs
