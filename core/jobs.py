"""Long jobs prove they are alive; the reaper tells the truth about the ones whose worker died.

- `job_heartbeat(kind, object_id)` (a context manager around a job's body, used by the thin Celery
  tasks) records the job in `JobHeartbeat` and refreshes `beat_at` every CORE_JOB_HEARTBEAT_SECONDS
  from a small thread with its own database connection. The beat is written outside the job's
  transaction, so it is visible while a long import or build holds one open, and it keeps beating
  during a single long statement (a set-based insert of millions of rows) where a beat tied to
  progress callbacks would fall silent and get a live job reaped. It stops when the process dies.
- `jobs_reap()` (beat every 30 s; in embedded mode the in-process scheduler) finds heartbeats older
  than CORE_JOB_STALE_SECONDS and marks their job failed with a reason people can act on ("the
  worker running it stopped; nothing was imported; upload again"). Failing, not re-queueing: a job
  that killed its worker (out of memory on a huge file, a poison record) would kill the next one
  too, and the user who is waiting should see the truth within a minute and decide. Each job's run
  is one transaction or is idempotent, so a failed job left nothing half-done; a late redelivery of
  its Celery message finds it finished and does nothing. The one exception is the quality
  recompute, derived data nobody waits on: it is scheduled again.
- `worker_heartbeat()` (Celery's worker signals) records each worker process, for /healthz.

Kinds are described as data (model label, the statuses that mean unfinished, the fields that
fail it), so core imports no domain app.
"""

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import JobHeartbeat

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobKind:
    model: str  # app_label.Model
    key: str  # the field the heartbeat's object_id matches
    unfinished: dict  # filter of a job that has not ended
    fail: dict  # fields that mark it failed; "{reason}" and "{now}" are filled in
    reason: str  # what people read
    requeue: str = ""  # dotted path called with object_id instead of failing (derived data only)


KINDS: dict[str, JobKind] = {
    "import": JobKind(
        model="annotation.ImportJob",
        key="id",
        unfinished={"status__in": ["queued", "running"]},
        fail={"status": "failed", "detail": "{reason}", "finished_at": "{now}", "updated_at": "{now}"},
        reason="The worker running this import stopped (no heartbeat for {stale} s); nothing was imported. "
        "Upload the file again.",
    ),
    "split": JobKind(
        model="annotation.SplitOperation",
        key="id",
        unfinished={"status": "queued"},
        fail={"status": "failed", "detail": "{reason}"},
        reason="The worker running this split stopped (no heartbeat for {stale} s); no item changed split. "
        "Request the split again.",
    ),
    "bulk": JobKind(
        model="annotation.ItemBulkAction",
        key="id",
        unfinished={"status__in": ["queued", "running"]},
        fail={"status": "failed", "detail": "{reason}", "finished_at": "{now}"},
        reason="The worker applying this bulk action stopped (no heartbeat for {stale} s); the items it "
        "reached before are changed (see the counts). Apply the action again to finish.",
    ),
    "release": JobKind(
        model="exports.Release",
        key="id",
        unfinished={"status": "building"},
        fail={"status": "failed", "error": "{reason}"},
        reason="The worker building this release stopped (no heartbeat for {stale} s); nothing was "
        "published. Retry the build.",
    ),
    "reproduction": JobKind(
        model="exports.ReleaseReproduction",
        key="id",
        unfinished={"status__in": ["queued", "running"]},
        fail={"status": "failed", "error": "{reason}", "finished_at": "{now}"},
        reason="The worker rebuilding this release stopped (no heartbeat for {stale} s); the published "
        "release is unchanged. Reproduce it again.",
    ),
    "quality": JobKind(
        model="quality.QualityRun",
        key="project_id",
        unfinished={"status": "running"},
        fail={"status": "failed", "error": "{reason}", "finished_at": "{now}"},
        reason="The worker computing quality stopped (no heartbeat for {stale} s); it is scheduled again.",
        requeue="quality.scheduling.quality_reschedule",
    ),
}


def _stale_seconds() -> int:
    return settings.CORE_JOB_STALE_SECONDS


# --- the job side ------------------------------------------------------------------------------------

# Jobs running in this process. Embedded mode (SQLite, one process) cannot write beats while the job's
# transaction holds SQLite's write lock, so the reaper trusts this registry for this process's jobs.
_local_jobs: dict[tuple[str, int], int] = {}
_local_lock = threading.Lock()


def _beat(kind: str, object_id: int, *, first: bool) -> None:
    now = timezone.now()
    if first:
        JobHeartbeat.objects.update_or_create(
            kind=kind, object_id=object_id, worker="", defaults={"started_at": now, "beat_at": now}
        )
    else:
        JobHeartbeat.objects.filter(kind=kind, object_id=object_id, worker="").update(beat_at=now)


@contextmanager
def job_heartbeat(kind: str, object_id: int) -> Iterator[None]:
    """Keep `kind` #`object_id` marked alive while the body runs (see the module doc)."""
    interval = settings.CORE_JOB_HEARTBEAT_SECONDS
    stop = threading.Event()
    with _local_lock:
        _local_jobs[(kind, object_id)] = _local_jobs.get((kind, object_id), 0) + 1

    try:
        _beat(kind, object_id, first=True)  # before the job opens its transaction: visible at once
    except Exception as error:
        logger.warning("heartbeat of %s %s not written: %s", kind, object_id, error)

    def run() -> None:
        from django.db import connections

        try:
            while not stop.wait(interval):
                try:
                    _beat(kind, object_id, first=False)
                except Exception as error:  # the database is briefly away: beat again next time
                    logger.warning("heartbeat of %s %s not written: %s", kind, object_id, error)
                    connections.close_all()
        finally:
            connections.close_all()

    # In-process jobs (embedded mode, eager tests) share this process's fate: _local_jobs is their
    # heartbeat. A worker beats from a thread with its own connection.
    beater = None
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        beater = threading.Thread(target=run, name=f"heartbeat-{kind}-{object_id}", daemon=True)
        beater.start()
    try:
        yield
    finally:
        stop.set()
        if beater is not None:
            beater.join(timeout=5)
        with _local_lock:
            count = _local_jobs.get((kind, object_id), 1) - 1
            if count:
                _local_jobs[(kind, object_id)] = count
            else:
                _local_jobs.pop((kind, object_id), None)
        try:
            JobHeartbeat.objects.filter(kind=kind, object_id=object_id, worker="").delete()
        except Exception:  # the reaper removes it after the stale time
            logger.warning("heartbeat of %s %s not removed", kind, object_id, exc_info=True)


# --- the reaper --------------------------------------------------------------------------------------


def _fill(template: dict, *, reason: str, now) -> dict:
    values = {}
    for field, value in template.items():
        if value == "{reason}":
            values[field] = reason
        elif value == "{now}":
            values[field] = now
        else:
            values[field] = value
    return values


def jobs_reap(*, now=None) -> int:
    """Fail (or re-schedule) every job whose heartbeat is stale. Returns how many jobs it ended.
    Idempotent and safe to run from several places: rows are locked with SKIP LOCKED and each job
    is ended by a conditional UPDATE that only matches while it is unfinished."""
    now = now or timezone.now()
    stale = _stale_seconds()
    cutoff = now - timedelta(seconds=stale)
    ended = 0
    with transaction.atomic():
        rows = list(
            JobHeartbeat.objects.select_for_update(skip_locked=True)
            .filter(beat_at__lt=cutoff)
            .exclude(kind="worker")
            .order_by("id")[:500]
        )
        for row in rows:
            with _local_lock:
                alive_here = (row.kind, row.object_id) in _local_jobs
            if alive_here:
                continue  # this very process runs it (embedded mode: see _local_jobs)
            job = KINDS.get(row.kind)
            if job is not None:
                ended += _end(job, row.object_id, stale=stale, now=now)
            row.delete()
        # Dead workers' liveness rows: kept 10x the stale time for /healthz to name them, then dropped.
        JobHeartbeat.objects.filter(kind="worker", beat_at__lt=now - timedelta(seconds=stale * 10)).delete()
    return ended


def _end(job: JobKind, object_id: int, *, stale: int, now) -> int:
    model = apps.get_model(job.model)
    reason = job.reason.format(stale=stale)
    matched = model.objects.filter(**{job.key: object_id}, **job.unfinished)
    changed = matched.update(**_fill(job.fail, reason=reason, now=now))
    if changed:
        logger.warning("reaped %s %s=%s: %s", job.model, job.key, object_id, reason)
    if job.requeue:
        import_string(job.requeue)(**{job.key: object_id})
        return changed or 1
    return changed


# --- worker liveness (for /healthz) -----------------------------------------------------------------


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_heartbeat(*, started: bool = False) -> None:
    now = timezone.now()
    name = worker_name()
    defaults = {"beat_at": now, **({"started_at": now} if started else {})}
    updated = JobHeartbeat.objects.filter(kind="worker", object_id=0, worker=name).update(**defaults)
    if not updated:
        JobHeartbeat.objects.update_or_create(
            kind="worker", object_id=0, worker=name, defaults={"beat_at": now, "started_at": now}
        )


def worker_gone() -> None:
    JobHeartbeat.objects.filter(kind="worker", object_id=0, worker=worker_name()).delete()


def workers_status(*, now=None) -> dict:
    """{"alive": n, "dead": [names]} from the workers' liveness rows."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=_stale_seconds())
    rows = list(JobHeartbeat.objects.filter(kind="worker").values_list("worker", "beat_at"))
    alive = sum(1 for _, beat in rows if beat >= cutoff)
    dead = sorted(name for name, beat in rows if beat < cutoff)
    return {"alive": alive, "dead": dead}
