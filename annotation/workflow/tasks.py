"""Celery entry points of the labeling workflow (thin). Registered for workers by annotation/tasks.py."""

from celery import shared_task

from core import task_names


@shared_task(name=task_names.LEASE_RELEASE_EXPIRED, acks_late=True, ignore_result=True)
def lease_release_expired_task() -> int:
    """Beat, every 30 s. Rules live in annotation.workflow.services.labeling.lease_release_expired."""
    from annotation.workflow.services.labeling import lease_release_expired

    return lease_release_expired()


@shared_task(
    name=task_names.ITEM_TARGETS_SYNC, acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def item_targets_sync_task(project_id: int, escalation_cap: int | None = None) -> None:
    """After an overlap change, or escalation switched off / `max_escalation` lowered. Rules live in
    annotation.workflow.services.queue.item_targets_sync."""
    from annotation.workflow.services.queue import item_targets_sync

    item_targets_sync(project_id=project_id, escalation_cap=escalation_cap)


@shared_task(
    name=task_names.QUEUE_ORDER_APPLY, acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def queue_order_apply_task(
    project_id: int, import_job_id: int | None = None, only_unranked: bool = False
) -> None:
    """After an ordering change or an import. Rules live in workflow.services.queue.queue_order_apply."""
    from annotation.workflow.services.queue import queue_order_apply

    queue_order_apply(project_id=project_id, import_job_id=import_job_id, only_unranked=only_unranked)


@shared_task(
    name=task_names.LABEL_MIGRATION_APPLY, acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def label_migration_apply_task(migration_id: int) -> None:
    """After a label migration. Rules live in annotation.workflow.services.queue.label_migration_apply."""
    from annotation.workflow.services.queue import label_migration_apply

    label_migration_apply(migration_id=migration_id)
