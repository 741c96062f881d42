"""Celery entry point for personal-data detection (thin). Registered by annotation/tasks.py."""

from celery import shared_task
from django.db import OperationalError

from core import task_names


@shared_task(
    name=task_names.PII_DETECT,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def pii_detect_task(project_id: int) -> None:
    """Entry point only. Rules live in annotation.pii.services.pii_detect, which is idempotent."""
    from annotation.pii.services import pii_detect

    pii_detect(project_id=project_id)
