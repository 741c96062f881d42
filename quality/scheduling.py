"""Scheduling a quality recompute: the one quality entry point the annotation services call (the
back-edge STYLE.md allows). Kept apart from quality.services so that importing it costs nothing."""

from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from core import task_names
from core.services import outbox_enqueue

from .models import QualityState

RECOMPUTE_TASK = task_names.QUALITY_RECOMPUTE
PENDING_STALE = timedelta(minutes=10)


def quality_schedule(*, project_id: int, full: bool = False) -> bool:
    """Ask for a recompute of the project's quality after this transaction commits.

    Cheap enough for every submission: one conditional UPDATE that matches only when nothing is
    pending yet, so a burst of submissions schedules one job. Returns whether a job was enqueued.
    """
    now = timezone.now()
    # A job that was enqueued but never started (its message lost after the outbox handed it to
    # the broker) would leave `pending` set for ever: after PENDING_STALE it counts as not pending.
    stale = now - PENDING_STALE
    updated = (
        QualityState.objects.filter(project_id=project_id)
        .filter(Q(pending=False) | Q(requested_at__lt=stale))
        .update(pending=True, requested_at=now, full_requested=True if full else F("full_requested"))
    )
    if not updated:
        if full:
            QualityState.objects.filter(project_id=project_id).update(full_requested=True)
        if QualityState.objects.filter(project_id=project_id).exists():
            return False
        _, created = QualityState.objects.get_or_create(
            project_id=project_id, defaults={"pending": True, "requested_at": now, "full_requested": full}
        )
        if not created:
            return False
    if settings.QUALITY_ENQUEUE:
        outbox_enqueue(task_name=RECOMPUTE_TASK, kwargs={"project_id": project_id})
    return True
