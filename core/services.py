"""Outbox: Celery jobs recorded with the write that needs them, sent after commit, retried until sent."""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)


def outbox_enqueue(*, task_name: str, kwargs: dict) -> OutboxMessage:
    """Record a job in the caller's transaction and try to send it right after commit.

    If the broker is unreachable the row stays pending and outbox_relay sends it later, so a job
    is never lost between a commit and a crash or a Redis outage.
    """
    message = OutboxMessage.objects.create(task_name=task_name, kwargs=kwargs, next_attempt_at=timezone.now())

    # Robust: the caller's transaction has committed; a failing first attempt (even the database
    # blinking) must not turn its success into an error. The relay sends the row later.
    # (A function, not a functools.partial: Django logs a robust hook's failure by its __qualname__.)
    def dispatch() -> None:
        outbox_dispatch(message_id=message.id)

    transaction.on_commit(dispatch, robust=True)
    return message


_autodiscovered = threading.Event()


def autodiscover_tasks_once(app) -> None:
    """Import the task modules once per process (autodiscovery is lazy outside a worker). Celery's
    import_default_modules() also runs Django's system checks each time it is called: 1.3 s of CPU
    the first time, ~15 ms after, which embedded mode paid for every job, on the request thread that
    committed it (a submit scheduling a recompute)."""
    if not _autodiscovered.is_set():
        app.loader.import_default_modules()
        _autodiscovered.set()


def outbox_dispatch(*, message_id: int) -> bool:
    """Send one pending message. Returns whether it was sent. Safe to call twice (row lock)."""
    from config.celery import app

    if app.conf.task_always_eager and not settings.CORE_TASKS_IN_THREAD:
        return _run_inline(app, message_id)
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, dispatched_at__isnull=True)
            .first()
        )
        if message is None:
            return False
        return _send(app, message)


def _run_inline(app, message_id: int) -> bool:
    """Eager jobs run here, in this thread (tests, management commands), AFTER the message is claimed
    and committed: a job inside the claim's transaction would hold its row lock, and on SQLite the
    whole database's write lock, for as long as it runs (a 100,000-line import blocked every other
    writer of `make run`'s database until it failed with `database is locked`). A job that fails is
    put back as pending with its error, as a broker failure would be."""
    with transaction.atomic():
        claimed = OutboxMessage.objects.filter(pk=message_id, dispatched_at__isnull=True).update(
            dispatched_at=timezone.now(), attempts=models.F("attempts") + 1, last_error=""
        )
    if not claimed:
        return False
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        autodiscover_tasks_once(app)
        app.tasks[message.task_name].apply(kwargs=message.kwargs, throw=True)
    except Exception as error:
        logger.warning("outbox message %s (%s) failed in-process: %s", message.id, message.task_name, error)
        delay = settings.CORE_OUTBOX_RETRY_SECONDS * min(2 ** (message.attempts - 1), 60)
        OutboxMessage.objects.filter(pk=message_id).update(
            dispatched_at=None,
            last_error=f"{type(error).__name__}: {error}"[:2000],
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        return False
    return True


def outbox_relay(*, limit: int | None = None) -> int:
    """Send every pending message whose time has come. Idempotent; concurrent relays skip locked rows."""
    from config.celery import app

    limit = limit or settings.CORE_OUTBOX_BATCH
    sent = 0
    if app.conf.task_always_eager and not settings.CORE_TASKS_IN_THREAD:
        due_ids = (
            OutboxMessage.objects.filter(dispatched_at__isnull=True, next_attempt_at__lte=timezone.now())
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        return sum(_run_inline(app, message_id) for message_id in list(due_ids))
    with transaction.atomic():
        due = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(dispatched_at__isnull=True, next_attempt_at__lte=timezone.now())
            .order_by("id")[:limit]
        )
        for message in due:
            sent += _send(app, message)
    return sent


_executors: dict = {}
_executors_lock = threading.Lock()


def _background(task_name: str):
    """`make run`'s background threads: one per kind of job (config.celery.task_kind, the same kinds
    as the Celery queues), so a long near-duplicate scan never holds up an import, a recompute or a
    release build, and long jobs never block the request that started them."""
    from config.celery import task_kind

    kind = task_kind(task_name)
    with _executors_lock:
        executor = _executors.get(kind)
        if executor is None:
            from concurrent.futures import ThreadPoolExecutor

            executor = _executors[kind] = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=f"tessera-{kind}", initializer=_yield_to_requests
            )
    return executor


def _yield_to_requests() -> None:
    """Background jobs share `make run`'s process with the requests: their thread runs at the lowest
    CPU priority (Linux nice is per thread), so when both want a core the requests get it."""
    import os
    import threading

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not Linux, or not permitted: jobs still run, at normal priority
        logger.debug("could not lower the background thread's priority", exc_info=True)


def _run_in_thread(task, kwargs: dict) -> None:
    from django.db import connections

    try:
        task.apply(kwargs=kwargs, throw=True)
    except Exception:
        logger.exception("in-process task %s failed", task.name)
    finally:
        connections.close_all()  # this thread's own connections


def _send(app, message: OutboxMessage) -> bool:
    message.attempts += 1
    try:
        if app.conf.task_always_eager:
            # Embedded mode: no broker, run the job in-process. It commits its own transaction.
            autodiscover_tasks_once(app)
            task = app.tasks[message.task_name]
            if settings.CORE_TASKS_IN_THREAD:
                _background(message.task_name).submit(_run_in_thread, task, message.kwargs)
            else:
                task.apply(kwargs=message.kwargs, throw=True)
        else:
            app.send_task(message.task_name, kwargs=message.kwargs, retry=False)
    except Exception as error:  # broker down, or the eager job failed: keep it pending
        logger.warning("outbox message %s (%s) not sent: %s", message.id, message.task_name, error)
        message.last_error = f"{type(error).__name__}: {error}"[:2000]
        delay = settings.CORE_OUTBOX_RETRY_SECONDS * min(2 ** (message.attempts - 1), 60)
        message.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        message.save(update_fields=["attempts", "last_error", "next_attempt_at"])
        return False
    message.dispatched_at = timezone.now()
    message.last_error = ""
    message.save(update_fields=["attempts", "dispatched_at", "last_error"])
    return True
