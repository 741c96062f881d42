"""Reads on bucket sources, always scoped to one project the caller may see."""

from django.db.models import CharField, JSONField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Cast

from core.exceptions import NotFound
from core.models import AuditEvent
from projects.models import Project

from ..models import BucketSource

SYNC_SUCCEEDED = "bucket_source.synced"  # audit action (and feed event) of a finished sync
SYNC_FAILED = "bucket_source.sync_failed"
# Objects that are not items; erased_content: the object's item was erased (docs/GOVERNANCE.md#erasure).
SKIP_REASONS = ("folders", "empty", "too_large", "unsupported", "invalid_key", "erased_content")


def bucket_source_list(*, project: Project) -> QuerySet[BucketSource]:
    """The project's sources by name, each annotated with its last finished sync from the audit log:
    `last_sync_action` (SYNC_SUCCEEDED, SYNC_FAILED or None), `last_sync_changes` (the counts, and
    for a failure `code` and `detail`) and `last_sync_finished_at`. The audit row is the record of
    a failure, so the model needs no error column."""
    last_sync = AuditEvent.objects.filter(
        project_id=project.id,
        target_type=BucketSource._meta.label_lower,
        target_id=Cast(OuterRef("pk"), CharField()),
        action__in=[SYNC_SUCCEEDED, SYNC_FAILED],
    ).order_by("-id")
    return (
        BucketSource.objects.filter(project=project)
        .select_related("created_by")
        .annotate(
            last_sync_action=Subquery(last_sync.values("action")[:1]),
            last_sync_changes=Subquery(last_sync.values("changes")[:1], output_field=JSONField()),
            last_sync_finished_at=Subquery(last_sync.values("created_at")[:1]),
        )
        .order_by("name", "id")
    )


def bucket_source_get(*, project: Project, source_id: int) -> BucketSource:
    """One source of `project`, annotated like bucket_source_list; NotFound (404) otherwise."""
    source = bucket_source_list(project=project).filter(pk=source_id).first()
    if source is None:
        raise NotFound()
    return source


def bucket_source_for_object(*, project_id: int, bucket: str, key: str) -> BucketSource | None:
    """The source of the project that covers s3://bucket/key: same bucket, and the key starts with
    its prefix. The longest prefix wins (then the oldest source); None when no source covers it."""
    covering = [
        source
        for source in BucketSource.objects.filter(project_id=project_id, bucket=bucket).order_by("id")
        if key.startswith(source.prefix)
    ]
    return max(covering, key=lambda source: len(source.prefix), default=None)


def bucket_source_last_sync(source: BucketSource) -> dict | None:
    """The last finished sync of a source read through bucket_source_list, as one dict (status,
    finished_at, listed, created, existing, skipped by reason, code, detail); None before any."""
    action = getattr(source, "last_sync_action", None)
    if action is None:
        return None
    changes = source.last_sync_changes or {}
    skipped = changes.get("skipped") or {}
    return {
        "status": "failed" if action == SYNC_FAILED else "succeeded",
        "finished_at": source.last_sync_finished_at,
        "listed": changes.get("listed", 0),
        "created": changes.get("created", 0),
        "existing": changes.get("existing", 0),
        "skipped": {reason: skipped.get(reason, 0) for reason in SKIP_REASONS},
        "code": changes.get("code", ""),
        "detail": changes.get("detail", ""),
    }
