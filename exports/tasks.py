from celery import shared_task

from core import task_names


@shared_task(name=task_names.RELEASE_BUILD, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def release_build_task(release_id: int) -> None:
    """Entry point only. Rules live in exports.services.release_build (idempotent)."""
    from core.jobs import job_heartbeat
    from exports.services import release_build

    with job_heartbeat("release", release_id):  # a dead worker's build is failed by core.jobs.jobs_reap
        release_build(release_id=release_id)


@shared_task(
    name=task_names.RELEASE_REPRODUCE, acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def release_reproduce_task(reproduction_id: int) -> None:
    """Entry point only. Rules live in exports.services.release_reproduce_run (idempotent)."""
    from core.jobs import job_heartbeat
    from exports.services import release_reproduce_run

    with job_heartbeat("reproduction", reproduction_id):  # a dead worker's rebuild is failed by the reaper
        release_reproduce_run(reproduction_id=reproduction_id)
