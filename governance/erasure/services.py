"""Erasure services (docs/GOVERNANCE.md#erasure). One rule each:

- erase_items: forget items of a project, with a reason. Idempotent: ids erased before are counted,
  not an error. Everything that holds an item's content goes with it (see `_erase`), a tombstone per
  item keeps the audit trail without content, and published releases holding the items are withdrawn
  with a successor requested (exports.services.releases_withdraw_for_erasure).
- erase_data_subject: every item whose metadata key K equals V.
- erase_source: every item of an import job or a bucket source. Per-item provenance sources (#18
  part 1) plug in at `_source_items`.

Every call may be a dry run: the same checks and counts, nothing changes.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q

from annotation.models import (
    BucketSource,
    ImportJob,
    Item,
    ItemBulkAction,
    MetadataField,
    NearDuplicateGroup,
)
from core.audit import audit_record
from core.exceptions import DomainError
from core.models import OutboxMessage
from exports import services as export_services
from governance.models import Erasure, ErasureTombstone
from projects.models import Project
from quality.models import QualityState
from quality.scheduling import quality_schedule

from . import keys

logger = logging.getLogger("governance.erasure")

MAX_ITEMS = 100_000  # per request; larger erasures are split by the caller (retention does)
REASON_MAX = 1000

# Django's deletion collector names what a cascade deleted by model label; people read these names.
_KIND = {
    "annotation.Item": "items",
    "annotation.Annotation": "annotations",
    "annotation.AnnotationRevision": "annotation_revisions",
    "annotation.Assignment": "assignments",
    "annotation.Prediction": "predictions",
    "annotation.ReviewDecision": "review_decisions",
    "annotation.ReviewLease": "review_leases",
    "quality.ConsensusResult": "consensus_results",
    "quality.GoldStandard": "gold_answers",
    "annotation.PiiFinding": "personal_data_findings",
    "annotation.NearDuplicateIndexed": "near_duplicate_index",
    "annotation.NearDuplicateBucket": "near_duplicate_index",
}


@dataclass
class ErasureResult:
    dry_run: bool
    scope: str
    items: int  # items erased (or that would be)
    already_erased: int  # asked for, erased before (idempotency)
    deleted: dict[str, int] = field(default_factory=dict)  # by kind
    releases: list[dict[str, Any]] = field(
        default_factory=list
    )  # {"number","name","erased_items","successor"}
    erasure_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "scope": self.scope,
            "items": self.items,
            "already_erased": self.already_erased,
            "deleted": dict(sorted(self.deleted.items())),
            "releases": self.releases,
            "erasure_id": self.erasure_id,
        }


def _clean_reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise DomainError("erasure_reason_required", "Say why these items are erased (a reason is required).")
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise DomainError("erasure_reason_too_long", f"A reason is at most {REASON_MAX} characters.")
    return reason


def erase_items(
    *,
    project: Project,
    item_ids: list[int],
    reason: str,
    actor,
    scope: str = Erasure.Scope.ITEM,
    detail: dict | None = None,
    dry_run: bool = False,
) -> ErasureResult:
    """Erase `item_ids` of `project`. Ids erased before count as `already_erased`; ids that are
    neither items of the project nor erased before are a 400 (`unknown_items`), nothing changes."""
    reason = _clean_reason(reason)
    if (
        not isinstance(item_ids, list)
        or not item_ids
        or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in item_ids)
    ):
        raise DomainError("invalid_item_ids", "item_ids is a non-empty list of item ids.")
    if len(item_ids) > MAX_ITEMS:
        raise DomainError("too_many_items", f"At most {MAX_ITEMS} items per erasure.")
    wanted = set(item_ids)
    with transaction.atomic():
        # The project row lock orders erasures against release publishing (exports.services.build).
        project = Project.objects.select_for_update().get(pk=project.pk)
        present = set(Item.objects.filter(project=project, id__in=wanted).values_list("id", flat=True))
        erased_before = set(
            ErasureTombstone.objects.filter(project=project, item_id__in=wanted - present).values_list(
                "item_id", flat=True
            )
        )
        unknown = sorted(wanted - present - erased_before)
        if unknown:
            raise DomainError(
                "unknown_items",
                f"{len(unknown)} id(s) are not items of this project: {', '.join(map(str, unknown[:20]))}.",
                extra={"item_ids": unknown[:100]},
            )
        return _erase(
            project=project,
            ids=present,
            already=len(erased_before),
            reason=reason,
            actor=actor,
            scope=scope,
            detail=detail or {},
            dry_run=dry_run,
        )


def erase_data_subject(
    *, project: Project, key: str, value: Any, reason: str, actor, dry_run: bool = False
) -> ErasureResult:
    """Erase every item of `project` whose metadata `key` equals `value` (a data subject). The value
    is kept only as a keyed hash. Nothing matched is a 200 with zero items (the subject may already
    be gone), not an error: an erasure request must be answerable either way."""
    reason = _clean_reason(reason)
    if not isinstance(key, str) or not MetadataField.objects.filter(project=project, name=key).exists():
        raise DomainError(
            "unknown_key", f"{key!r} is not a metadata key of this project.", extra={"key": str(key)[:100]}
        )
    if value is None or (isinstance(value, str) and not value.strip()) or isinstance(value, dict | list):
        raise DomainError("invalid_value", "value is the metadata value that identifies the data subject.")
    matches = Q(**{f"meta__{key}": value})
    if isinstance(value, str):
        for number in _as_number(value):
            matches |= Q(**{f"meta__{key}": number})
    ids = list(
        Item.objects.filter(project=project).filter(matches).values_list("id", flat=True)[: MAX_ITEMS + 1]
    )
    detail = {"key": key, "value_hash": keys.subject_value_hash(project.id, key, str(value))}
    return _erase_matched(project, ids, reason, actor, Erasure.Scope.SUBJECT, detail, dry_run)


def erase_source(
    *,
    project: Project,
    reason: str,
    actor,
    import_job_id: int | None = None,
    bucket_source_id: int | None = None,
    dry_run: bool = False,
) -> ErasureResult:
    """Erase every item that came from one import job or one bucket source of `project`."""
    reason = _clean_reason(reason)
    if (import_job_id is None) == (bucket_source_id is None):
        raise DomainError("invalid_source", "Name exactly one source: import_job or bucket_source.")
    ids, detail = _source_items(project, import_job_id, bucket_source_id)
    return _erase_matched(project, ids, reason, actor, Erasure.Scope.SOURCE, detail, dry_run)


def _source_items(project: Project, import_job_id: int | None, bucket_source_id: int | None):
    """The ids of a source's items and the erasure's detail. The extension point for per-item
    provenance sources: add a kind here (and in the API's choices)."""
    if import_job_id is not None:
        if not ImportJob.objects.filter(project=project, pk=import_job_id).exists():
            raise DomainError("unknown_source", f"Import job {import_job_id} is not in this project.")
        items = Item.objects.filter(project=project, import_job_id=import_job_id)
        detail = {"import_job": import_job_id}
    else:
        source = BucketSource.objects.filter(project=project, pk=bucket_source_id).first()
        if source is None:
            raise DomainError("unknown_source", f"Bucket source {bucket_source_id} is not in this project.")
        prefix = f"s3://{source.bucket}/{source.prefix}"
        items = Item.objects.filter(project=project, source=Item.Source.BUCKET, source_ref__startswith=prefix)
        detail = {"bucket_source": bucket_source_id}
    return list(items.values_list("id", flat=True)[: MAX_ITEMS + 1]), detail


def _erase_matched(project, ids, reason, actor, scope, detail, dry_run) -> ErasureResult:
    if len(ids) > MAX_ITEMS:
        raise DomainError("too_many_items", f"More than {MAX_ITEMS} items match; erase them in parts.")
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        present = set(Item.objects.filter(project=project, id__in=ids).values_list("id", flat=True))
        return _erase(
            project=project,
            ids=present,
            already=0,
            reason=reason,
            actor=actor,
            scope=scope,
            detail=detail,
            dry_run=dry_run,
        )


def _as_number(value: str) -> list[int | float]:
    try:
        return [int(value)]
    except ValueError:
        pass
    try:
        return [float(value)]
    except ValueError:
        return []


def _erase(*, project, ids: set[int], already: int, reason, actor, scope, detail, dry_run) -> ErasureResult:
    """In the caller's transaction, with the project row locked. What goes with each item:
    its row (data, metadata, search text), annotations and their revisions, assignments (drafts,
    leases), predictions, review decisions and leases, consensus and gold answers (FK cascade);
    its media file; its place in near-duplicate groups (a group left with one member goes); its id in
    the data manager's bulk-action records; pending outbox messages naming it; the uploaded import
    file and error report of its import job (deleted, not rewritten: they hold other rows' content
    too; the job says so); the quality snapshot (rebuilt by a full recompute); and the published
    releases holding it (withdrawn; a successor is built)."""
    result = ErasureResult(dry_run=dry_run, scope=scope, items=len(ids), already_erased=already)
    if not ids:
        return result  # nothing (left) to erase: no request row, no audit entry
    rows = list(
        Item.objects.filter(id__in=ids).values_list(
            "id", "external_id", "content_hash", "media", "import_job_id", "near_duplicate_group_id"
        )
    )
    media = [row[3] for row in rows if row[3]]
    jobs = sorted({row[4] for row in rows if row[4] is not None})
    job_files = [
        (job_id, name)
        for job_id, upload, report in ImportJob.objects.filter(id__in=jobs).values_list(
            "id", "file", "error_report"
        )
        for name in (upload, report)
        if name
    ]
    groups = {row[5] for row in rows if row[5] is not None}
    if dry_run:
        result.deleted = _counts_for(ids)
        result.deleted["media_files"] = len(media)
        result.deleted["import_files"] = len(job_files)
        result.releases = [
            {"number": r.number, "name": r.name, "erased_items": n, "successor": None}
            for r, n in export_services.releases_holding(project=project, item_ids=ids)
        ]
        return result

    erasure = Erasure.objects.create(
        project=project,
        scope=scope,
        detail=detail,
        reason=reason,
        actor=actor,
        items=len(ids),
        already_erased=already,
    )
    _, by_model = Item.objects.filter(id__in=ids).delete()
    deleted: Counter = Counter({_KIND.get(label, label): n for label, n in by_model.items() if n})
    ErasureTombstone.objects.bulk_create(
        [
            ErasureTombstone(
                erasure=erasure,
                project=project,
                item_id=item_id,
                external_id_hash=keys.external_id_hash(project.id, external_id) if external_id else "",
                content_key=keys.content_key(project.id, content_hash),
            )
            for item_id, external_id, content_hash, *_ in rows
        ]
    )
    deleted["media_files"] = len(media)
    deleted["near_duplicate_groups"] = _prune_groups(groups)
    deleted["bulk_action_references"] = _forget_in_bulk_actions(project, ids)
    deleted["outbox_messages"] = _forget_in_outbox(ids)
    deleted["import_files"] = len(job_files)
    if job_files:
        ImportJob.objects.filter(id__in=jobs).update(file="", error_report="")
    _reset_quality_snapshot(project)
    names = media + [name for _, name in job_files]
    transaction.on_commit(lambda: _delete_files(names), robust=True)

    withdrawn = export_services.releases_withdraw_for_erasure(project=project, item_ids=ids, actor=actor)
    result.releases = [
        {"number": w.number, "name": w.name, "erased_items": w.erased_items, "successor": w.successor}
        for w in withdrawn
    ]
    result.deleted = {k: v for k, v in deleted.items()}
    result.erasure_id = erasure.id
    erasure.deleted = result.as_dict()["deleted"]
    erasure.releases = result.releases
    erasure.save(update_fields=["deleted", "releases"])
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="governance.erasure",
        target=erasure,
        changes={
            "scope": scope,
            "reason": reason,
            "items": len(ids),
            "already_erased": already,
            "deleted": erasure.deleted,
            "releases": result.releases,
            **({"import_jobs": jobs} if jobs else {}),
        },
    )
    return result


def _counts_for(ids: set[int]) -> dict[str, int]:
    """What deleting the items would delete, by kind (the dry run): Django's collector, not run."""
    from django.db import router
    from django.db.models.deletion import Collector

    collector = Collector(using=router.db_for_write(Item))
    collector.collect(Item.objects.filter(id__in=ids))
    counts: Counter = Counter()
    for model, instances in collector.data.items():
        counts[_KIND.get(model._meta.label, model._meta.label)] += len(instances)
    for qs in collector.fast_deletes:
        counts[_KIND.get(qs.model._meta.label, qs.model._meta.label)] += qs.count()
    return {k: v for k, v in counts.items() if v}


def _prune_groups(groups: set[int]) -> int:
    """Near-duplicate groups of erased items with fewer than two members left go (a group of one says
    nothing, and its similarity was computed from the erased content)."""
    if not groups:
        return 0
    lonely = [
        group_id for group_id in groups if Item.objects.filter(near_duplicate_group_id=group_id).count() < 2
    ]
    Item.objects.filter(near_duplicate_group_id__in=lonely).update(near_duplicate_group=None)
    deleted, _ = NearDuplicateGroup.objects.filter(id__in=lonely).delete()
    return deleted


def _forget_in_bulk_actions(project, ids: set[int]) -> int:
    changed = 0
    for bulk in ItemBulkAction.objects.filter(project=project).exclude(item_ids=[]).only("id", "item_ids"):
        kept = [i for i in bulk.item_ids if i not in ids]
        if len(kept) != len(bulk.item_ids):
            changed += len(bulk.item_ids) - len(kept)
            ItemBulkAction.objects.filter(pk=bulk.pk).update(item_ids=kept)
    return changed


def _forget_in_outbox(ids: set[int]) -> int:
    """Messages that name an erased item (jobs carry ids, not content; a job for a gone item is moot):
    pending ones, scanned whole, and sent ones whose `item_id` is one of them."""
    doomed = []
    candidates = OutboxMessage.objects.filter(
        Q(dispatched_at__isnull=True) | Q(kwargs__item_id__in=sorted(ids))
    ).values_list("id", "kwargs")
    for message_id, kwargs in candidates:
        named = (
            {kwargs.get("item_id")} | set(kwargs.get("item_ids") or []) if isinstance(kwargs, dict) else set()
        )
        if named & ids:
            doomed.append(message_id)
    OutboxMessage.objects.filter(id__in=doomed).delete()
    return len(doomed)


def _reset_quality_snapshot(project) -> None:
    """The incremental quality snapshot holds coded answers of the erased items: dropped, and a full
    recompute rebuilds it from what is left."""
    QualityState.objects.filter(project=project).update(snapshot=None, snapshot_delta=None, snapshot_base=0)
    quality_schedule(project_id=project.id, full=True)


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # logged; the tombstone and the counts stand
            logger.exception("erasure: could not delete a stored file")
