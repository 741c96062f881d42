"""A release build in a real Celery worker, killed with SIGKILL midway: nothing is published, nothing
partial is served, and a retry on a fresh worker publishes a release that verifies."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
from rest_framework.test import APIClient

from exports.models import Release, ReleaseFile
from exports.services.build import build_running
from projects import services as project_services
from quality.models import ConsensusResult
from tests.factories import label_schema, make_items

from .conftest import ROOT, _database_url, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ITEMS = 400
CHUNK = 40  # ten chunks a pass


@contextmanager
def worker(env_extra: dict, names: dict, redis_url: str, log_path):
    """A `celery worker` process (like tests/integration/conftest.py's fixture) with extra settings;
    yields the Popen so the test can kill it."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": names["queue"],
        "TESSERA_TEST_REDIS_LAYER": "1",
        "CHANNELS_PREFIX": names["channels_prefix"],
        "PYTHONUNBUFFERED": "1",
        **env_extra,
    }
    log = log_path.open("w")
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1"]
    command += [
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "info",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 40
        while "ready." not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Celery worker did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


@pytest.fixture
def shared(tmp_path, settings, redis_url, isolated_names):
    """Storage and signing key shared by this process and the workers; the Celery app on the queue."""
    from config.celery import app

    var = tmp_path / "var"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(var / "media")},
        },
    }
    settings.EXPORTS_SIGNING_KEY_PATH = str(var / "release-signing-key.pem")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    previous = {key: app.conf[key] for key in ("task_always_eager", "task_default_queue", "broker_url")}
    app.conf.update(task_always_eager=False, task_default_queue=isolated_names["queue"], broker_url=redis_url)
    try:
        yield {"TESSERA_VAR_DIR": str(var), "EXPORTS_BUILD_CHUNK": str(CHUNK)}, var / "media"
    finally:
        app.conf.update(**previous)


def test_killed_build_publishes_nothing_and_a_retry_succeeds(
    people, shared, redis_url, isolated_names, tmp_path
):
    env, media_root = shared
    project = people.project
    project_services.schema_version_create(
        project=project, actor=people.manager, definition=label_schema("positive", "negative")
    )
    items = make_items(project, *[{"text": f"review {i}", "split": "train"} for i in range(ITEMS)])
    ConsensusResult.objects.bulk_create(
        ConsensusResult(
            project=project,
            item=item,
            control="sentiment",
            method="majority_vote",
            method_version="1",
            answer="positive" if i % 3 else "negative",
            confidence=0.75,
            agreement=1.0,
        )
        for i, item in enumerate(items)
    )
    client = APIClient()
    client.force_authenticate(people.manager)

    slow = {**env, "EXPORTS_BUILD_CHUNK_DELAY": "0.25"}  # 2.5 s a pass
    with worker(slow, isolated_names, redis_url, tmp_path / "worker-1.log") as first:
        response = client.post(
            f"/api/projects/{project.id}/releases/",
            {"name": "v1", "formats": ["jsonl", "csv"]},
            format="json",
        )
        assert response.status_code == 202, response.content
        release = Release.objects.get(project=project, number=1)
        partial = media_root / f"releases/{project.id}/1/a1"
        # the build has started writing (its first file exists; each pass takes 2.5 s): kill it midway
        wait_for(lambda: (partial / "jsonl" / "train.jsonl").exists(), timeout=30, what="the first file")
        time.sleep(0.5)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)

    release.refresh_from_db()
    assert (release.status, release.attempts, release.published_at) == (Release.Status.BUILDING, 1, None)
    assert ReleaseFile.objects.filter(release=release).exists() is False
    assert (partial / "jsonl" / "train.jsonl").exists()  # left on disk, but never served:
    download = client.get(f"/api/projects/{project.id}/releases/1/files/jsonl/train.jsonl")
    assert download.status_code == 404
    assert client.get(f"/api/projects/{project.id}/releases/1/").json()["files"] == []
    # the dead build's database session is gone, so its advisory lock is free and a retry is allowed
    wait_for(lambda: not build_running(release), timeout=15, what="the dead build's lock")

    with worker(env, isolated_names, redis_url, tmp_path / "worker-2.log"):
        retry = client.post(f"/api/projects/{project.id}/releases/1/retry/")
        assert retry.status_code == 202, retry.content
        wait_for(
            lambda: Release.objects.get(pk=release.pk).status == Release.Status.PUBLISHED,
            timeout=60,
            what="the retried build",
        )

    release.refresh_from_db()
    assert (release.attempts, release.records_done) == (2, ITEMS)
    assert not partial.exists()  # the retry deleted what the killed build left
    assert sorted(
        p.relative_to(media_root / release.storage_prefix).as_posix()
        for p in (media_root / release.storage_prefix).rglob("*")
        if p.is_file()
    ) == sorted(ReleaseFile.objects.filter(release=release).values_list("path", flat=True))
    verified = client.get(f"/api/projects/{project.id}/releases/1/verify/").json()
    assert verified["ok"] is True, verified
    assert release.manifest["counts"]["records"] == ITEMS
