from celery import shared_task

from core import task_names


@shared_task(name=task_names.OUTBOX_RELAY, ignore_result=True)
def outbox_relay_task() -> int:
    """Entry point only (run by beat). Rules live in core.services.outbox_relay."""
    from core.services import outbox_relay

    return outbox_relay()


@shared_task(name=task_names.JOBS_REAP, ignore_result=True)
def jobs_reap_task() -> int:
    """Entry point only (beat, every 30 s). Rules live in core.jobs.jobs_reap."""
    from core.jobs import jobs_reap

    return jobs_reap()
