"""Celery entry point for split operations (thin). Registered for workers by annotation/tasks.py."""

from celery import shared_task

from core import task_names


@shared_task(name=task_names.SPLIT_RUN, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def split_run_task(operation_id: int) -> None:
    """Entry point only. Rules live in annotation.splits.services.split_run."""
    from annotation.splits.services import split_run
    from core.jobs import job_heartbeat

    with job_heartbeat("split", operation_id):
        split_run(operation_id=operation_id)
