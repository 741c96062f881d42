"""Celery entry points for bucket sources. Registered for workers by annotation/tasks.py."""

from celery import shared_task

from core import task_names


@shared_task(
    name=task_names.BUCKET_SOURCE_SYNC,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def bucket_source_sync_task(source_id: int) -> None:
    """Entry point only. Rules live in annotation.sources.sync.bucket_source_sync."""
    from annotation.sources.sync import bucket_source_sync

    bucket_source_sync(source_id=source_id)
