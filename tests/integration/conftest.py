"""Real components: a Celery worker process on Redis writing to the PostgreSQL test database."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parents[2]


def _service_or_skip(available: bool, what: str) -> None:
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (CI) but not configured/reachable")
    pytest.skip(f"{what} not available on this machine")


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("TESSERA_TEST_REDIS_URL", "")
    _service_or_skip(bool(url), "Redis")
    return url


def _database_url() -> str:
    db = connection.settings_dict
    _service_or_skip(connection.vendor == "postgresql", "PostgreSQL")
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def isolated_names() -> dict[str, str]:
    """A queue and a channel-layer prefix used by this test only, so parallel runs never cross."""
    suffix = uuid.uuid4().hex[:10]
    return {"queue": f"tessera-test-{suffix}", "channels_prefix": f"tessera-test-{suffix}"}


@pytest.fixture
def celery_worker(transactional_db, redis_url, isolated_names, settings, tmp_path):
    """Start `celery worker` in its own process against the test database and Redis, and point this
    process's Celery app at it (not eager, same queue). Yields the worker's log path."""
    from config.celery import app

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": isolated_names["queue"],
        "TESSERA_TEST_REDIS_LAYER": "1",
        "CHANNELS_PREFIX": isolated_names["channels_prefix"],
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path / "worker.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            # No -Q: the worker consumes every kind's queue under its default queue (config.celery).
            "-l",
            "info",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 40
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"Celery worker did not start:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.1)

    previous = {key: app.conf[key] for key in ("task_always_eager", "task_default_queue", "broker_url")}
    app.conf.update(task_always_eager=False, task_default_queue=isolated_names["queue"], broker_url=redis_url)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        yield log_path
    finally:
        app.conf.update(**previous)
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def wait_for(predicate, *, timeout: float = 20.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")
