from celery import shared_task

from core import task_names


@shared_task(
    name=task_names.QUALITY_RECOMPUTE, acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def quality_recompute_task(project_id: int) -> None:
    """Entry point only (scheduled through the outbox). Rules live in quality.scheduling (the coalescing
    loop) and quality.services.quality_compute (one pass)."""
    from core.jobs import job_heartbeat
    from quality.scheduling import quality_recompute_loop
    from quality.services import quality_compute

    with job_heartbeat("quality", project_id):  # a dead worker's recompute is scheduled again
        quality_recompute_loop(project_id=project_id, compute=quality_compute)
