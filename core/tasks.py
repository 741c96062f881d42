from celery import shared_task


@shared_task(ignore_result=True)
def outbox_relay_task() -> int:
    """Entry point only (run by beat). Rules live in core.services.outbox_relay."""
    from core.services import outbox_relay

    return outbox_relay()
