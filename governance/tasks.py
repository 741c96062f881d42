from celery import shared_task

from core import task_names


@shared_task(name=task_names.RETENTION_RUN_DUE, acks_late=True, ignore_result=True)
def retention_run_due_task() -> None:
    """Entry point only (beat, daily; embedded mode every 30 s). Rules live in
    governance.retention.services.retention_run_due (idempotent: a project that ran within the
    interval is skipped)."""
    from governance.retention.services import retention_run_due

    retention_run_due()
