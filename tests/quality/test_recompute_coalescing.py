"""The recompute scheduler coalesces: one job per project in flight, a pass covers every change since
the last, a change during a pass gets another pass (never a second job), duplicates of the message
return at once, failures and dead workers never leave the project stuck. The racing cases run on
PostgreSQL with real threads and their own connections."""

import threading

import pytest
from django.db import connection, connections, transaction

from core.jobs import KINDS
from core.models import OutboxMessage
from quality.models import QualityState
from quality.scheduling import RECOMPUTE_TASK, quality_recompute_loop, quality_reschedule, quality_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _after_commit_runs_now(request, monkeypatch):
    """Outside the racing tests every call runs in the test's wrapping transaction, where nothing
    commits: run after-commit work at once, as it does for a caller in autocommit mode."""
    if "postgres_project" in request.fixturenames:
        return
    from types import SimpleNamespace

    from quality import scheduling

    shim = SimpleNamespace(atomic=transaction.atomic, on_commit=lambda func, using=None, robust=False: func())
    monkeypatch.setattr(scheduling, "transaction", shim)


def _jobs() -> int:
    return OutboxMessage.objects.filter(task_name=RECOMPUTE_TASK).count()


def _state(project) -> QualityState:
    return QualityState.objects.get(project=project)


class Compute:
    """A stand-in for quality_compute that records its passes and can act during one."""

    def __init__(self, during=None):
        self.passes: list[bool] = []
        self.during = during

    def __call__(self, *, project_id: int, full: bool):
        self.passes.append(full)
        if self.during is not None:
            self.during(len(self.passes))
        return f"pass {len(self.passes)}"


def test_a_burst_enqueues_one_job_and_counts_every_change(people):
    project = people.project
    before = _jobs()

    outcomes = [quality_schedule(project_id=project.id) for _ in range(25)]

    assert outcomes == [True] + [False] * 24
    assert _jobs() == before + 1
    state = _state(project)
    assert (state.pending, state.generation, state.computed_generation) == (True, 25, 0)


def test_a_change_while_a_job_is_in_flight_locks_nothing_in_the_callers_transaction(people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    project = people.project
    quality_schedule(project_id=project.id)
    connection.queries_log.clear()

    with CaptureQueriesContext(connection) as queries:
        assert quality_schedule(project_id=project.id) is False

    # a claim that matches nothing (no row lock), an existence check, and the bump after commit
    assert len(queries) == 3
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["UPDATE", "SELECT", "UPDATE"]
    assert _state(project).generation == 2


def test_one_pass_covers_the_burst_and_clears_the_flag(people):
    project = people.project
    for _ in range(6):
        quality_schedule(project_id=project.id)
    compute = Compute()

    result = quality_recompute_loop(project_id=project.id, compute=compute)

    assert result == "pass 1" and compute.passes == [False]
    state = _state(project)
    assert (state.pending, state.running_since, state.computed_generation) == (False, None, 6)
    assert quality_schedule(project_id=project.id) is True  # the next change starts a new job


def test_a_change_during_a_pass_gets_another_pass_not_another_job(people):
    project = people.project
    quality_schedule(project_id=project.id)
    before = _jobs()

    def submit_during_first_pass(number):
        if number == 1:
            assert quality_schedule(project_id=project.id) is False  # the running job will see it

    compute = Compute(during=submit_during_first_pass)
    quality_recompute_loop(project_id=project.id, compute=compute)

    assert compute.passes == [False, False]
    assert _jobs() == before
    state = _state(project)
    assert (state.pending, state.generation, state.computed_generation) == (False, 2, 2)


def test_a_full_request_during_a_pass_makes_the_next_pass_full(people):
    project = people.project
    quality_schedule(project_id=project.id)
    compute = Compute(during=lambda n: n == 1 and quality_schedule(project_id=project.id, full=True))

    quality_recompute_loop(project_id=project.id, compute=compute)

    assert compute.passes == [False, True]
    assert _state(project).full_requested is False


def test_a_duplicate_message_returns_while_the_first_job_runs(people):
    project = people.project
    quality_schedule(project_id=project.id)
    duplicate = Compute()
    outcomes = []

    compute = Compute(
        during=lambda n: outcomes.append(quality_recompute_loop(project_id=project.id, compute=duplicate))
    )
    quality_recompute_loop(project_id=project.id, compute=compute)

    assert outcomes == [None] and duplicate.passes == []
    assert compute.passes == [False]
    assert _state(project).pending is False


def test_a_message_delivered_again_after_the_run_does_one_harmless_pass(people):
    project = people.project
    quality_schedule(project_id=project.id)
    quality_recompute_loop(project_id=project.id, compute=Compute())
    again = Compute()

    quality_recompute_loop(project_id=project.id, compute=again)

    assert again.passes == [False]
    state = _state(project)
    assert (state.pending, state.running_since) == (False, None)


def test_a_failing_pass_releases_the_project_for_the_next_change(people):
    project = people.project
    quality_schedule(project_id=project.id)

    def broken(*, project_id, full):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        quality_recompute_loop(project_id=project.id, compute=broken)

    state = _state(project)
    assert (state.pending, state.running_since) == (False, None)
    before = _jobs()
    assert quality_schedule(project_id=project.id) is True
    assert _jobs() == before + 1


def test_a_project_changing_nonstop_is_handed_to_a_new_message(people, settings):
    settings.QUALITY_RECOMPUTE_MAX_PASSES = 3
    project = people.project
    quality_schedule(project_id=project.id)
    before = _jobs()
    compute = Compute(during=lambda n: quality_schedule(project_id=project.id))

    quality_recompute_loop(project_id=project.id, compute=compute)

    assert len(compute.passes) == 3
    assert _jobs() == before + 1  # the hand-over
    state = _state(project)
    assert (state.pending, state.running_since, state.generation, state.computed_generation) == (
        True,
        None,
        4,
        3,
    )


def test_the_reaper_reschedules_a_recompute_whose_worker_died(people):
    project = people.project
    quality_schedule(project_id=project.id)
    from django.utils import timezone

    QualityState.objects.filter(project=project).update(running_since=timezone.now())  # the dead job's claim
    before = _jobs()

    assert KINDS["quality"].requeue == "quality.scheduling.quality_reschedule"
    assert quality_reschedule(project_id=project.id) is True

    assert _jobs() == before + 1
    state = _state(project)
    assert (state.pending, state.running_since) == (True, None)


# --- racing, on PostgreSQL ---------------------------------------------------------------------------


def _race(*targets) -> list:
    errors: list = []
    barrier = threading.Barrier(len(targets))

    def wrapped(target):
        try:
            barrier.wait()
            target()
        except Exception as error:  # asserted on below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return errors


@pytest.fixture
def postgres_project(people):
    if connection.vendor != "postgresql":
        pytest.skip("the racing guarantees are PostgreSQL's row locks")
    return people.project


@pytest.mark.django_db(transaction=True)
def test_racing_submissions_enqueue_exactly_one_job(postgres_project):
    project = postgres_project
    QualityState.objects.create(project=project)  # the common case: the row exists
    outcomes: list[bool] = []

    def submit():
        with transaction.atomic():
            outcomes.append(quality_schedule(project_id=project.id))

    errors = _race(*[submit] * 8)

    assert errors == []
    assert sorted(outcomes) == [False] * 7 + [True]
    assert _jobs() == 1
    state = _state(project)  # the one job ran after its commit (eager) and caught up with all eight
    assert (state.pending, state.generation, state.computed_generation) == (False, 8, 8)


@pytest.mark.django_db(transaction=True)
def test_racing_first_submissions_create_one_state_and_one_job(postgres_project):
    project = postgres_project

    errors = _race(*[lambda: quality_schedule(project_id=project.id)] * 6)

    assert errors == []
    assert _jobs() == 1
    state = _state(project)
    assert (state.pending, state.generation, state.computed_generation) == (False, 6, 6)


@pytest.mark.django_db(transaction=True)
def test_a_submission_committed_while_a_job_runs_is_covered_by_that_job(postgres_project):
    project = postgres_project
    quality_schedule(project_id=project.id)
    in_pass, submitted = threading.Event(), threading.Event()
    duplicate_outcome: list = []

    def first_pass_waits(number):
        if number == 1:
            in_pass.set()
            assert submitted.wait(30)

    compute = Compute(during=first_pass_waits)

    def job():
        quality_recompute_loop(project_id=project.id, compute=compute)

    def submit_and_redeliver():
        assert in_pass.wait(30)
        with transaction.atomic():
            assert quality_schedule(project_id=project.id) is False
        duplicate_outcome.append(quality_recompute_loop(project_id=project.id, compute=Compute()))
        submitted.set()

    errors = _race(job, submit_and_redeliver)

    assert errors == []
    assert duplicate_outcome == [None]
    assert compute.passes == [False, False]
    assert _jobs() == 1
    state = _state(project)
    assert (state.pending, state.running_since, state.generation, state.computed_generation) == (
        False,
        None,
        2,
        2,
    )
