from celery import shared_task
from django.db import OperationalError

from core import task_names


@shared_task(
    name=task_names.PROJECT_STATS_REFRESH,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def project_stats_refresh_task(project_id: int) -> None:
    """Entry point only. Rules live in projects.services.project_stats_refresh."""
    from projects.services import project_stats_refresh

    project_stats_refresh(project_id=project_id)
