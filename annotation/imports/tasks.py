"""Celery entry point for import jobs (thin). Registered for workers by annotation/tasks.py."""

from celery import shared_task

from core import task_names


@shared_task(name=task_names.IMPORT_JOB_RUN, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def import_job_run_task(job_id: int) -> None:
    """Entry point only. Rules live in annotation.imports.services.jobs.import_job_run."""
    from annotation.imports.services.jobs import import_job_run
    from core.jobs import job_heartbeat

    with job_heartbeat("import", job_id):  # a dead worker's job is failed by core.jobs.jobs_reap
        import_job_run(job_id=job_id)
