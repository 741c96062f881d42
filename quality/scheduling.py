"""Scheduling a quality recompute: the one quality entry point the annotation services call (the
back-edge STYLE.md allows), and the job's loop. Kept apart from quality.services so that importing it
costs nothing.

Coalescing (one job per project in flight; a pass covers everything since the last):

- `quality_schedule` (every annotation change, in the change's transaction): the first change while
  nothing is in flight sets `pending`, bumps `QualityState.generation` and enqueues the job through
  the outbox; later changes bump the generation after their commit (no row lock held inside the
  change's transaction: that ordering deadlocked against the job under 50 annotators). One
  conditional UPDATE claims the right to enqueue, so two racing submissions enqueue one job (the
  row lock serialises them; the loser's WHERE no longer matches); a burst of a thousand enqueues one.
- `quality_recompute_loop` (the job): claims the project (`running_since`, so a duplicate delivery
  of the message, or a second message, returns at once), then repeats: read the generation, compute,
  and clear `pending` only WHERE the generation is still the one it computed. A change committed
  before that UPDATE makes it match nothing, and the job passes again; a change after it finds
  `pending` clear and enqueues a new job. Nothing is missed and nothing runs twice at once.
- Passes are debounced (QUALITY_DEBOUNCE_SECONDS after the change that woke the job, and
  QUALITY_RECOMPUTE_GAP_SECONDS between the starts of two passes, within a job or across jobs), so
  people labeling nonstop cost one recompute pass per gap, not one per burst.
  After QUALITY_RECOMPUTE_MAX_PASSES the job hands over to a new message, so one busy project never
  holds a worker for ever.
- A job that fails clears its claim and `pending` (the next change schedules again); a job whose
  worker died is re-scheduled by the reaper (core.jobs) through `quality_reschedule`; a flag left
  behind by a lost message counts as clear after PENDING_STALE.
"""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from core import task_names
from core.services import outbox_enqueue

from .models import QualityState

RECOMPUTE_TASK = task_names.QUALITY_RECOMPUTE
PENDING_STALE = timedelta(minutes=10)


def quality_schedule(*, project_id: int, full: bool = False) -> bool:
    """Ask for a recompute of the project's quality after this transaction commits.

    Cheap enough for every submission, and it takes no lock on the QualityState row inside the
    caller's transaction when a job is already in flight (almost always): the conditional claim
    below matches nothing, and the generation bump that tells the running job "there is more" runs
    after commit, on its own (holding that row's lock until the caller commits, while the caller
    also holds item locks, deadlocked against the job, which locks the row and then items). The first
    change of a burst claims `pending` in the transaction and enqueues the job through the outbox
    (durable with the change). Returns whether a job was enqueued.
    """
    now = timezone.now()
    # A job that was enqueued but never started (its message lost after the outbox handed it to
    # the broker) would leave `pending` set for ever: after PENDING_STALE it counts as not pending.
    stale = now - PENDING_STALE
    full_value = True if full else F("full_requested")
    state = QualityState.objects.filter(project_id=project_id)
    free = Q(pending=False) | Q(requested_at__lt=stale) | Q(requested_at__isnull=True)
    if state.filter(free).update(
        pending=True, requested_at=now, generation=F("generation") + 1, full_requested=full_value
    ):
        _enqueue(project_id)
        return True
    if not state.exists():
        try:
            with transaction.atomic():  # a savepoint: a racing creator must not break our transaction
                QualityState.objects.create(
                    project_id=project_id, pending=True, requested_at=now, generation=1, full_requested=full
                )
        except IntegrityError:
            pass  # a racing change created it: tell its job after commit, below
        else:
            _enqueue(project_id)
            return True
    transaction.on_commit(lambda: _tell_running_job(project_id=project_id, full=full))
    return False


# The claim of quality_schedule as SQL, for callers that fold it into their own write statement (the
# lean submit path: annotation.workflow.services.submit). Parameters from quality_claim_params; the
# statement returns a row when it claimed. Hand the outcome to quality_schedule_claimed.
QUALITY_CLAIM_SQL = """
UPDATE quality_qualitystate SET pending = true, requested_at = %(quality_now)s, generation = generation + 1
WHERE project_id = %(quality_project)s
  AND (NOT pending OR requested_at < %(quality_stale)s OR requested_at IS NULL)
RETURNING 1
"""
QUALITY_STATE_EXISTS_SQL = (
    "EXISTS (SELECT 1 FROM quality_qualitystate WHERE project_id = %(quality_project)s)"
)


def quality_claim_params(*, project_id: int) -> dict:
    now = timezone.now()
    return {"quality_project": project_id, "quality_now": now, "quality_stale": now - PENDING_STALE}


def quality_schedule_claimed(*, project_id: int, claimed: bool, exists: bool) -> bool:
    """quality_schedule after its claim ran as QUALITY_CLAIM_SQL in the caller's statement: the same
    outcome (enqueue when claimed; create the row when there is none; else tell the running job)."""
    if claimed:
        _enqueue(project_id)
        return True
    if not exists:
        return quality_schedule(project_id=project_id)
    transaction.on_commit(lambda: _tell_running_job(project_id=project_id, full=False))
    return False


def _tell_running_job(*, project_id: int, full: bool) -> None:
    """After commit: bump the generation so the job in flight passes again and sees this change. If
    that job finished in between (it cleared `pending` before the bump), schedule a new one."""
    with connection.cursor() as cursor:  # one plain statement: this runs after every submission
        cursor.execute(
            "UPDATE quality_qualitystate SET generation = generation + 1,"
            " full_requested = full_requested OR %s WHERE project_id = %s AND pending",
            [full, project_id],
        )
        bumped = cursor.rowcount
    if not bumped:
        with transaction.atomic():
            quality_schedule(project_id=project_id, full=full)


def quality_reschedule(*, project_id: int) -> bool:
    """The reaper's re-queue for a recompute whose worker died mid-run: drop its claim and schedule
    again (a full pass is not needed: the snapshot was not written by the dead run)."""
    QualityState.objects.filter(project_id=project_id).update(pending=False, running_since=None)
    return quality_schedule(project_id=project_id)


def _enqueue(project_id: int) -> None:
    if settings.QUALITY_ENQUEUE:
        outbox_enqueue(task_name=RECOMPUTE_TASK, kwargs={"project_id": project_id})


def quality_recompute_loop(*, project_id: int, compute: Callable[..., Any]) -> Any:
    """The job's body: claim the project, then `compute(project_id=..., full=...)` until caught up.

    Returns the last pass's result, or None when another job owns the project (it will catch up) or
    the project is gone. Safe to run twice and under at-least-once delivery (see the module doc).
    """
    now = timezone.now()
    state = QualityState.objects.filter(project_id=project_id)
    claimed = state.filter(Q(running_since__isnull=True) | Q(running_since__lt=now - PENDING_STALE)).update(
        running_since=now, pending=True
    )
    if not claimed:
        return None
    result = None
    try:
        requested_at, last_pass = state.values_list("requested_at", "snapshot_at").first() or (None, None)
        _debounce(since=requested_at, last_pass=last_pass)
        for _ in range(max(1, settings.QUALITY_RECOMPUTE_MAX_PASSES)):
            with transaction.atomic():
                row = state.select_for_update().values("generation", "full_requested").first()
                if row is None:
                    return result
                started = timezone.now()
                state.update(full_requested=False, running_since=started, requested_at=started)
            result = compute(project_id=project_id, full=row["full_requested"]) or result
            generation = row["generation"]
            caught_up = state.filter(generation=generation).update(
                pending=False, running_since=None, computed_generation=generation
            )
            if caught_up:
                return result
            state.update(computed_generation=generation)
            _debounce(since=None, last_pass=started)  # let the next burst gather: one pass per gap
        # Still behind: hand over to a fresh message (other projects' jobs get the worker in between).
        with transaction.atomic():
            state.update(running_since=None, requested_at=timezone.now())
            _enqueue(project_id)
        return result
    except BaseException:
        # The next change schedules again (a poison project must not loop through the outbox).
        state.update(pending=False, running_since=None)
        raise


def _debounce(*, since, last_pass) -> None:
    """Wait until QUALITY_DEBOUNCE_SECONDS after the change that woke the job, and at least
    QUALITY_RECOMPUTE_GAP_SECONDS after the previous pass started (a new job of a busy project)."""
    now = timezone.now()
    remaining = 0.0
    if since is not None:
        remaining = settings.QUALITY_DEBOUNCE_SECONDS - (now - since).total_seconds()
    if last_pass is not None:
        remaining = max(remaining, settings.QUALITY_RECOMPUTE_GAP_SECONDS - (now - last_pass).total_seconds())
    limit = max(settings.QUALITY_DEBOUNCE_SECONDS, settings.QUALITY_RECOMPUTE_GAP_SECONDS)
    if remaining > 0:
        time.sleep(min(remaining, limit))
