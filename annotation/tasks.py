from celery import shared_task

from .items.manager_tasks import bulk_action_run_task  # noqa: F401

# Celery autodiscovery imports only this module: register the tasks kept beside it.
from .tasks_neardup import near_duplicates_detect_task  # noqa: F401
from .tasks_sources import bucket_source_sync_task  # noqa: F401


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def import_job_run_task(job_id: int) -> None:
    """Entry point only. Rules live in annotation.services.imports.import_job_run."""
    from annotation.services.imports import import_job_run
    from core.jobs import job_heartbeat

    with job_heartbeat("import", job_id):  # a dead worker's job is failed by core.jobs.jobs_reap
        import_job_run(job_id=job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def split_run_task(operation_id: int) -> None:
    """Entry point only. Rules live in annotation.services.splits.split_run."""
    from annotation.services.splits import split_run
    from core.jobs import job_heartbeat

    with job_heartbeat("split", operation_id):
        split_run(operation_id=operation_id)


@shared_task(acks_late=True, ignore_result=True)
def lease_release_expired_task() -> int:
    """Beat, every 30 s. Rules live in annotation.services.labeling.lease_release_expired."""
    from annotation.services.labeling import lease_release_expired

    return lease_release_expired()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def item_targets_sync_task(project_id: int, escalation_cap: int | None = None) -> None:
    """After an overlap change, or escalation switched off / `max_escalation` lowered. Rules live in
    annotation.services.queue.item_targets_sync."""
    from annotation.services.queue import item_targets_sync

    item_targets_sync(project_id=project_id, escalation_cap=escalation_cap)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def queue_order_apply_task(
    project_id: int, import_job_id: int | None = None, only_unranked: bool = False
) -> None:
    """After an ordering change or an import. Rules live in annotation.services.queue.queue_order_apply."""
    from annotation.services.queue import queue_order_apply

    queue_order_apply(project_id=project_id, import_job_id=import_job_id, only_unranked=only_unranked)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def label_migration_apply_task(migration_id: int) -> None:
    """After a label migration. Rules live in annotation.services.queue.label_migration_apply."""
    from annotation.services.queue import label_migration_apply

    label_migration_apply(migration_id=migration_id)
