"""Small periodic threads: a worker's liveness beat, and embedded mode's stand-in for celery beat.

- In a Celery worker (signal `worker_ready`), a daemon thread writes the worker's liveness row every
  CORE_JOB_HEARTBEAT_SECONDS (core.jobs.worker_heartbeat); a clean shutdown deletes it. /healthz
  reads the rows: a worker that stopped beating is reported dead by name.
- In embedded mode (no Redis, jobs in a thread of the web process: `make run`), there is no beat:
  `embedded_scheduler_start()` (from CoreConfig.ready, only when jobs run in a thread: the web
  server of `make run`) runs beat's schedule in-process every 30 s: the stale-job reaper, the lease
  sweep, the outbox relay. A job the previous process left running is reported failed within a
  minute.
"""

import logging
import threading

from django.conf import settings

logger = logging.getLogger(__name__)

_started = threading.Event()


def _repeat(name: str, interval: float, work) -> threading.Thread:
    stop = threading.Event()

    def run() -> None:
        from django.db import connections

        while not stop.wait(interval):
            try:
                work()
            except Exception:  # keep beating: a database blip must not end the thread
                logger.warning("%s failed", name, exc_info=True)
            finally:
                connections.close_all()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread


_worker_thread: threading.Thread | None = None


def on_worker_ready(sender=None, **kwargs) -> None:
    global _worker_thread
    from .jobs import worker_heartbeat

    try:
        worker_heartbeat(started=True)
    except Exception:
        logger.warning("worker heartbeat not written", exc_info=True)
    _worker_thread = _repeat("worker-heartbeat", settings.CORE_JOB_HEARTBEAT_SECONDS, worker_heartbeat)


def on_worker_shutdown(sender=None, **kwargs) -> None:
    from .jobs import worker_gone

    if _worker_thread is not None:
        _worker_thread.stop.set()  # type: ignore[attr-defined]
    try:
        worker_gone()
    except Exception:
        logger.warning("worker heartbeat not removed", exc_info=True)


def _embedded_sweep() -> None:
    """Run beat's schedule in-process, by task name (the stale-job reaper, the lease sweep, the
    outbox relay for a job whose in-process run failed)."""
    from config.celery import app

    from .services import autodiscover_tasks_once

    autodiscover_tasks_once(app)
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        try:
            app.tasks[entry["task"]].apply(throw=True)
        except Exception:
            logger.warning("embedded sweep %s failed", entry["task"], exc_info=True)


def embedded_scheduler_start() -> bool:
    """Start the embedded-mode sweeps once per process (only with in-process jobs in a thread)."""
    if not (settings.CELERY_TASK_ALWAYS_EAGER and settings.CORE_TASKS_IN_THREAD) or _started.is_set():
        return False
    _started.set()
    _repeat("embedded-scheduler", 30.0, _embedded_sweep)
    return True
