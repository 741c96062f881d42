"""Celery entry point for near-duplicate detection (thin). Registered by annotation/tasks.py."""

from celery import shared_task
from django.db import OperationalError

from core import task_names


@shared_task(
    name=task_names.NEAR_DUPLICATES_DETECT,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def near_duplicates_detect_task(project_id: int, full: bool = False) -> None:
    """Entry point only. Rules live in annotation.neardup.services.near_duplicates_detect_run, which
    is idempotent: a redelivered or repeated task flags nothing twice."""
    from annotation.neardup.services import near_duplicates_detect_run

    near_duplicates_detect_run(project_id=project_id, full=full)
