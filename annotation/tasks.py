from celery import shared_task

# Celery autodiscovery imports only this module: register the tasks kept beside it.
from .tasks_neardup import near_duplicates_detect_task  # noqa: F401
from .tasks_sources import bucket_source_sync_task  # noqa: F401


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def import_job_run_task(job_id: int) -> None:
    """Entry point only. Rules live in annotation.services.imports.import_job_run."""
    from annotation.services.imports import import_job_run

    import_job_run(job_id=job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def split_run_task(operation_id: int) -> None:
    """Entry point only. Rules live in annotation.services.splits.split_run."""
    from annotation.services.splits import split_run

    split_run(operation_id=operation_id)
