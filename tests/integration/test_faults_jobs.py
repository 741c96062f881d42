"""A worker killed with SIGKILL in the middle of an import: the job does not stay `running` for ever.
Its heartbeat stops, the reaper marks it failed with a reason within a minute (here: seconds), and
/healthz names the dead worker. A live, slow job is never reaped."""

import json
import os
import signal
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from annotation.models import ImportJob, Item
from core.jobs import jobs_reap
from core.models import JobHeartbeat

from .conftest import _database_url, wait_for
from .fault_kit import owned_redis, start_worker, stop_worker  # noqa: F401 - fixture

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

STALE = 4  # seconds without a heartbeat before a job counts as dead (60 in production)


@pytest.fixture
def slow_worker_env(tmp_path, settings, owned_redis):  # noqa: F811
    """Shared file storage; this process's Celery app on the owned Redis; short heartbeat times."""
    from config.celery import app

    var = tmp_path / "var"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(var / "media")},
        },
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CORE_JOB_STALE_SECONDS = STALE
    settings.ANNOTATION_NEAR_DUPLICATES_AFTER_IMPORT = False
    previous = {key: app.conf[key] for key in ("task_always_eager", "task_default_queue", "broker_url")}
    app.conf.update(
        task_always_eager=False, task_default_queue="tessera-jobs-test", broker_url=owned_redis.url
    )
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    env = {
        "TESSERA_VAR_DIR": str(var),
        "CORE_JOB_HEARTBEAT_SECONDS": "1",
        "CORE_JOB_STALE_SECONDS": str(STALE),
        "TESSERA_TEST_IMPORT_ROW_DELAY": "0.01",
        "ANNOTATION_NEAR_DUPLICATES_AFTER_IMPORT": "0",
    }
    try:
        yield env, owned_redis.url
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        if "amqp" in app.__dict__:
            app.amqp._producer_pool = None
        app.conf.update(**previous)


def _lines(n: int) -> bytes:
    return "".join(json.dumps({"text": f"Review number {i} of a camera"}) + "\n" for i in range(n)).encode()


def test_import_killed_with_its_worker_is_failed_by_the_reaper(people, slow_worker_env, tmp_path):
    env, redis_url = slow_worker_env
    project = people.project
    client = APIClient()
    client.force_authenticate(people.manager)
    worker = start_worker(
        redis_url=redis_url,
        database_url=_database_url(),
        queue="tessera-jobs-test",
        log_path=tmp_path / "worker.log",
        env_extra=env,
        args=["-I", "tests.integration.slow_jobs"],
    )
    try:
        health = Client().get("/healthz").json()
        assert health["workers"]["alive"] == 1 and health["workers"]["status"] == "ok", health

        response = client.post(
            f"/api/projects/{project.id}/imports/",
            {"file": SimpleUploadedFile("items.jsonl", _lines(3000))},  # 30 s at 10 ms a record
            format="multipart",
        )
        assert response.status_code == 202, response.content
        job = ImportJob.objects.get(pk=response.json()["id"])
        wait_for(
            lambda: JobHeartbeat.objects.filter(kind="import", object_id=job.id).exists(),
            timeout=20,
            what="the import to start and beat",
        )

        # Alive and slow: older than the stale time, still beating, never reaped.
        time.sleep(STALE + 1)
        assert jobs_reap() == 0
        job.refresh_from_db()
        assert job.status == ImportJob.Status.RUNNING

        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        time.sleep(STALE + 1.5)
        assert jobs_reap() == 1
    finally:
        stop_worker(worker)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "worker running this import stopped" in job.detail and "nothing was imported" in job.detail
    assert job.finished_at is not None
    assert not Item.objects.filter(project=project).exists()  # its transaction died with it
    assert not JobHeartbeat.objects.filter(kind="import").exists()
    assert jobs_reap() == 0  # idempotent

    api = client.get(f"/api/projects/{project.id}/imports/{job.id}/").json()
    assert api["status"] == "failed"

    health = Client().get("/healthz")
    assert health.status_code == 200  # web servers stay in rotation; the body says what is wrong
    body = health.json()
    assert body["status"] == "degraded"
    assert body["workers"]["alive"] == 0 and len(body["workers"]["dead"]) == 1
    assert Client().get("/healthz?workers=required").status_code == 503
