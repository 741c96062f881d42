"""A Celery worker with production's options (docker-compose.yml's command, prefork pool) outlives a
Redis outage: a job running while Redis is down finishes, a job sent after Redis is back runs, and
the worker logs no AttributeError (with gossip on, kombu's Redis transport raises one when gossip
restarts after the lost connection: `ignore_errors(None, channel.close)`)."""

import json
import time

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from annotation.models import ImportJob
from core.models import OutboxMessage
from core.services import outbox_relay
from projects import services as project_services
from projects.models import ProjectStats

from .conftest import ROOT, _database_url, wait_for
from .fault_kit import OwnedRedis, start_worker, stop_worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

QUEUE = "tessera-outage-test"


@pytest.fixture
def redis_and_app(tmp_path, settings):
    from config.celery import app

    server = OwnedRedis(tmp_path / "redis")
    server.start()
    var = tmp_path / "var"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(var / "media")},
        },
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.ANNOTATION_NEAR_DUPLICATES_AFTER_IMPORT = False
    previous = {key: app.conf[key] for key in ("task_always_eager", "task_default_queue", "broker_url")}
    app.conf.update(task_always_eager=False, task_default_queue=QUEUE, broker_url=server.url)
    _reset(app)
    try:
        yield server, var
    finally:
        _reset(app)
        app.conf.update(**previous)
        server.stop()


def _production_worker_options() -> list[str]:
    """The worker options docker-compose.yml runs with (minus the log level), so this test checks the
    deployed command: prefork pool, and whatever it says about gossip, mingle and heartbeats."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["worker"]["command"]
    assert command[:4] == ["celery", "-A", "config", "worker"]
    options = command[4:]
    if "-l" in options:
        del options[options.index("-l") : options.index("-l") + 2]
    return options


def _reset(app) -> None:
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None


def test_worker_survives_a_redis_outage_with_a_job_in_flight(people, redis_and_app, tmp_path):
    server, var = redis_and_app
    log_path = tmp_path / "worker.log"
    worker = start_worker(
        redis_url=server.url,
        database_url=_database_url(),
        queue=QUEUE,
        log_path=log_path,
        env_extra={
            "TESSERA_VAR_DIR": str(var),
            "TESSERA_TEST_IMPORT_ROW_DELAY": "0.01",
            "ANNOTATION_NEAR_DUPLICATES_AFTER_IMPORT": "0",
        },
        args=[
            *_production_worker_options(),
            "--pool=prefork",
            "--concurrency=1",
            "-I",
            "tests.integration.slow_jobs",
        ],
    )
    try:
        client = APIClient()
        client.force_authenticate(people.manager)
        lines = "".join(json.dumps({"text": f"outage item {i}"}) + "\n" for i in range(800)).encode()
        response = client.post(
            f"/api/projects/{people.project.id}/imports/",
            {"file": SimpleUploadedFile("items.jsonl", lines)},
            format="multipart",
        )
        assert response.status_code == 202, response.content
        job = ImportJob.objects.get(pk=response.json()["id"])
        wait_for(lambda: ImportJob.objects.get(pk=job.id).status == "running", timeout=20, what="the import")

        server.stop()  # the import is in flight (8 s of records)
        time.sleep(12)  # several reconnection attempts
        assert worker.poll() is None, log_path.read_text()[-3000:]
        server.start()

        finished = wait_for(
            lambda: ImportJob.objects.filter(pk=job.id, status__in=["succeeded", "failed"]).first(),
            timeout=30,
            what="the in-flight import to finish",
        )
        assert finished.status == "succeeded", finished.detail
        assert finished.created == 800

        # A job sent after the outage runs: the worker consumes again.
        ProjectStats.objects.filter(project=people.project).delete()
        project_services.project_member_add(
            project=people.project, actor=people.manager, username="org_member", role="reviewer"
        )
        OutboxMessage.objects.filter(dispatched_at__isnull=True).update(next_attempt_at=job.created_at)
        outbox_relay()
        wait_for(
            lambda: ProjectStats.objects.filter(project=people.project).exists(),
            timeout=40,
            what="a job sent after the outage to run",
        )
        assert worker.poll() is None
        log = log_path.read_text()
        assert "Unrecoverable error" not in log
        assert "AttributeError" not in log
    finally:
        stop_worker(worker)
