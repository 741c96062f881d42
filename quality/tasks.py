from celery import shared_task

from core import task_names


@shared_task(
    name=task_names.QUALITY_RECOMPUTE, acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def quality_recompute_task(project_id: int) -> None:
    """Entry point only (scheduled through the outbox). Rules live in quality.services.quality_recompute."""
    from core.jobs import job_heartbeat
    from quality.services import quality_recompute

    with job_heartbeat("quality", project_id):  # a dead worker's recompute is scheduled again
        quality_recompute(project_id=project_id)
