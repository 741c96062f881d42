"""Readiness checks for /healthz: database, broker and storage, each reported by name."""

import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    if not settings.REDIS_URL:
        return  # embedded mode: tasks run in-process, there is no broker to reach
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def check_storage() -> None:
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as handle:
            if handle.read() != b"ok":
                raise OSError("storage returned different bytes")
    finally:
        default_storage.delete(name)


CHECKS = {"database": check_database, "broker": check_broker, "storage": check_storage}


def health_report() -> tuple[bool, dict[str, str]]:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # report every failing part, not only the first
            results[name] = f"error: {type(error).__name__}: {error}"[:300]
        else:
            results[name] = "ok"
    return all(value == "ok" for value in results.values()), results


def workers_report() -> dict | None:
    """Background workers, from their liveness rows (core.jobs): None in embedded mode (no workers).

    {"status": "ok" | "error: ...", "alive": n, "dead": ["host:pid", ...]}. A worker beats every
    CORE_JOB_HEARTBEAT_SECONDS; one silent for CORE_JOB_STALE_SECONDS is dead (killed, crashed, or
    its host lost); a clean shutdown removes its row.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    from .jobs import workers_status

    try:
        workers = workers_status()
    except Exception as error:
        return {"status": f"error: {type(error).__name__}: {error}"[:300], "alive": 0, "dead": []}
    if workers["alive"]:
        status = "ok"
    elif workers["dead"]:
        status = f"error: no live worker; {len(workers['dead'])} stopped beating"
    else:
        status = "error: no worker has reported"
    return {"status": status, **workers}
