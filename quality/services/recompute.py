"""Running a recompute: the worker's job (debounced, serialised per project) and the computation's
outline: read, compute, store the run and the snapshot, announce `quality.updated` after commit.
What a run computes is in job.py and the modules it names."""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from annotation.workflow.selectors import quality as answers_selector
from core.realtime import broadcast_on_commit, project_group
from projects import selectors as project_selectors
from projects.models import Project
from projects.quality_settings import quality_settings
from quality.models import QualityRun, QualityState
from quality.scheduling import quality_recompute_loop, quality_schedule

from .. import events
from .inputs import load
from .job import Job
from .snapshots import save_snapshot

CHANGE_MARGIN = timedelta(seconds=60)  # incremental runs re-read this much before the last run
RUNS_KEPT = 200


@transaction.atomic
def quality_request_full(*, project: Project, actor) -> bool:
    """A manager's "Recompute now": a full recompute (refits every model) in the worker. Audited."""
    from core.audit import audit_record

    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="quality.recompute_requested",
        target=project,
        changes={},
    )
    return quality_schedule(project_id=project.id, full=True)


def quality_recompute(*, project_id: int) -> QualityRun | None:
    """The job: claim the project and compute until caught up (quality.scheduling, coalesced and safe
    to run twice); the same body the Celery task runs."""
    return quality_recompute_loop(project_id=project_id, compute=quality_compute)


@transaction.atomic
def quality_compute(*, project_id: int, full: bool = False) -> QualityRun | None:
    """Compute and store a project's quality report (see the module docstring)."""
    _project_lock(project_id)
    project = Project.objects.select_related("organisation").filter(pk=project_id).first()
    if project is None:
        return None
    schema = project_selectors.schema_latest(project=project)
    if schema is None:
        return None
    state = QualityState.objects.get_or_create(project_id=project_id)[0]
    started = timezone.now()
    clock = time.perf_counter()
    incremental = (
        not full
        and state.snapshot is not None
        and state.snapshot_at is not None
        and state.snapshot_schema_version == schema.version
        and started - state.snapshot_at < timedelta(seconds=settings.QUALITY_FULL_EVERY_SECONDS)
    )
    run = QualityRun.objects.create(
        project=project,
        kind=QualityRun.Kind.INCREMENTAL if incremental else QualityRun.Kind.FULL,
        started_at=started,
        schema_version=schema.version,
        last_revision_id=answers_selector.newest_revision_id(),
        seen_at=started,
    )
    knobs = quality_settings(project)
    job = Job(project, schema.definition, knobs, run, incremental)
    previous = (
        QualityRun.objects.filter(project=project, status=QualityRun.Status.DONE).order_by("-id").first()
    )
    job.previous_report = previous.report if previous else {}
    load(job, state, since=(state.snapshot_at - CHANGE_MARGIN) if incremental else None)
    report = job.compute()
    run.report = report
    run.methods = report["run"]["methods"]
    run.annotations = report["run"]["seen"]["annotations"]
    run.items = report["run"]["seen"]["items"]
    run.status = QualityRun.Status.DONE
    run.finished_at = timezone.now()
    run.duration_ms = int((time.perf_counter() - clock) * 1000)
    report["run"].update(
        {
            "id": run.id,
            "status": run.status,
            "finished_at": run.finished_at.isoformat(),
            "duration_ms": run.duration_ms,
        }
    )
    run.save()
    save_snapshot(job, state, started, schema.version)
    stale = list(
        QualityRun.objects.filter(project=project).order_by("-id").values_list("id", flat=True)[RUNS_KEPT:]
    )
    if stale:
        QualityRun.objects.filter(pk__in=stale).delete()
    broadcast_on_commit(
        project_group(project.id),
        events.QUALITY_UPDATED,
        {
            "project_id": project.id,
            "run_id": run.id,
            "kind": run.kind,
            "finished_at": run.finished_at.isoformat(),
        },
    )
    return run


def _project_lock(project_id: int) -> None:
    """One recompute per project at a time (PostgreSQL advisory lock, released at commit). SQLite
    serialises writers anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x7E55, project_id])
