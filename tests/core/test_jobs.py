"""The stale-job reaper on every kind of job, worker liveness in /healthz, and outbox dispatch that
never fails a committed request."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from annotation.models import ImportJob, SplitOperation
from core.jobs import KINDS, job_heartbeat, jobs_reap, workers_status
from core.models import JobHeartbeat, OutboxMessage
from exports.models import Release, ReleaseReproduction
from projects import services as project_services
from quality.models import QualityRun, QualityState
from tests.factories import label_schema

pytestmark = pytest.mark.django_db


def _beat(kind: str, object_id: int, seconds_ago: float) -> None:
    at = timezone.now() - timedelta(seconds=seconds_ago)
    JobHeartbeat.objects.create(kind=kind, object_id=object_id, started_at=at, beat_at=at)


def test_every_kind_of_dead_job_is_failed_with_a_reason_and_live_ones_are_left_alone(people):
    project = people.project
    now = timezone.now()
    running_import = ImportJob.objects.create(
        project=project, status="running", format="jsonl", started_at=now
    )
    live_import = ImportJob.objects.create(project=project, status="running", format="jsonl", started_at=now)
    done_import = ImportJob.objects.create(project=project, status="succeeded", format="jsonl")
    split = SplitOperation.objects.create(project=project, ratios={"train": 1.0}, seed=1, status="queued")
    release = Release.objects.create(project=project, number=1, name="v1", formats=["jsonl"])
    QualityState.objects.create(project=project, pending=False)
    run = QualityRun.objects.create(project=project, kind="full", started_at=now)
    _beat("import", running_import.id, 120)
    _beat("import", live_import.id, 5)
    _beat("import", done_import.id, 120)
    _beat("split", split.id, 120)
    _beat("release", release.id, 120)
    _beat("quality", project.id, 120)
    published = Release.objects.create(
        project=project,
        number=2,
        name="v2",
        status="published",
        manifest={},
        storage_prefix=f"releases/{project.id}/2/a1/",
        published_at=now,
    )
    rebuild = ReleaseReproduction.objects.create(release=published, status="running", started_at=now)
    _beat("reproduction", rebuild.id, 120)

    assert jobs_reap() == 5  # import, split, release, reproduction, quality (re-scheduled)

    running_import.refresh_from_db()
    assert running_import.status == "failed" and running_import.finished_at is not None
    assert running_import.detail.startswith("The worker running this import stopped (no heartbeat for 60 s)")
    assert ImportJob.objects.get(pk=live_import.id).status == "running"
    assert ImportJob.objects.get(pk=done_import.id).status == "succeeded"  # a finished job is never touched
    split.refresh_from_db()
    assert split.status == "failed" and "no item changed split" in split.detail
    release.refresh_from_db()
    assert release.status == "failed" and "nothing was published" in release.error
    rebuild.refresh_from_db()
    assert rebuild.status == "failed" and "the published release is unchanged" in rebuild.error
    assert Release.objects.get(pk=published.pk).status == "published"
    run.refresh_from_db()
    assert run.status == "failed" and run.finished_at is not None
    assert QualityState.objects.get(project=project).pending  # scheduled again
    assert OutboxMessage.objects.filter(task_name="quality.tasks.quality_recompute_task").exists()
    assert list(JobHeartbeat.objects.values_list("object_id", flat=True)) == [live_import.id]
    assert jobs_reap() == 0


def test_a_job_of_this_process_is_never_reaped_even_without_fresh_beats(people):
    job = ImportJob.objects.create(project=people.project, status="running", format="jsonl")
    with job_heartbeat("import", job.id):  # eager: no beating thread; this process runs it
        JobHeartbeat.objects.filter(kind="import").update(beat_at=timezone.now() - timedelta(hours=1))
        assert jobs_reap() == 0
    assert not JobHeartbeat.objects.exists()
    assert ImportJob.objects.get(pk=job.id).status == "running"


def test_kinds_name_real_fields():
    from django.apps import apps

    for kind in KINDS.values():
        model = apps.get_model(kind.model)
        names = {field.name for field in model._meta.get_fields()} | {"project_id"}
        assert kind.key in names
        assert set(kind.fail) <= names


def test_healthz_reports_workers_when_jobs_run_in_workers(settings, people):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    now = timezone.now()
    JobHeartbeat.objects.create(kind="worker", object_id=0, worker="a:1", started_at=now, beat_at=now)
    old = now - timedelta(seconds=300)
    JobHeartbeat.objects.create(kind="worker", object_id=0, worker="b:2", started_at=old, beat_at=old)
    assert workers_status() == {"alive": 1, "dead": ["b:2"]}

    body = Client().get("/healthz").json()
    assert body["status"] == "ok"
    assert body["workers"] == {"status": "ok", "alive": 1, "dead": ["b:2"]}

    JobHeartbeat.objects.filter(worker="a:1").delete()
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "degraded"
    assert response.json()["workers"]["status"].startswith("error: no live worker")
    assert Client().get("/healthz?workers=required").status_code == 503


def test_a_failing_first_dispatch_never_fails_the_committed_request(
    people, monkeypatch, django_capture_on_commit_callbacks
):
    """The release row and its outbox entry are committed: whatever goes wrong in the first publish
    attempt after commit, the answer is 202 and the relay sends the job later."""
    from rest_framework.test import APIClient

    from core import services

    def broken(app, message):
        raise RuntimeError("the database blinked during the first dispatch")

    project_services.schema_version_create(
        project=people.project, actor=people.manager, definition=label_schema("positive", "negative")
    )
    monkeypatch.setattr(services, "_send", broken)  # with a broker
    monkeypatch.setattr(services, "_run_inline", broken)  # eager jobs, run in this thread
    client = APIClient()
    client.force_authenticate(people.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/projects/{people.project.id}/releases/",
            {"name": "v1", "formats": ["jsonl"]},
            format="json",
        )
    assert response.status_code == 202, response.content
    message = OutboxMessage.objects.get(task_name="exports.tasks.release_build_task")
    assert message.dispatched_at is None


def test_embedded_mode_runs_the_beat_schedule_in_process(people, settings):
    """`make run` has no beat: its scheduler thread runs every beat entry by task name (the reaper
    among them), so a job left running by a previous process is failed there too."""
    from core import scheduler

    job = ImportJob.objects.create(project=people.project, status="running", format="jsonl")
    _beat("import", job.id, 120)
    scheduler._embedded_sweep()
    assert ImportJob.objects.get(pk=job.id).status == "failed"
    assert scheduler.embedded_scheduler_start() is False  # only with in-process jobs in a thread
