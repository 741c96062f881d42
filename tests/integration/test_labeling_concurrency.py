"""Fifty annotators at once, on PostgreSQL, through the real services and their own connections:
no item ever gets more annotations than its target, no submission is lost, retries never duplicate,
and abandoned leases come back to the queue while everyone works."""

import random
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone

from annotation.models import Annotation, AnnotationRevision, Assignment, Item
from annotation.workflow.services.claim import next_item_for_annotator
from annotation.workflow.services.labeling import lease_release_expired
from annotation.workflow.services.submit import annotation_submit
from core.exceptions import DomainError
from projects import services
from projects.models import ProjectMembership
from tests.factories import ProjectMembershipFactory, UserFactory, label_schema, make_items

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ANNOTATORS = 50
ITEMS = 300
OVERLAP = 2


@pytest.fixture
def crowd(people):
    if connection.vendor != "postgresql":
        pytest.skip("the concurrency guarantees are PostgreSQL's (row locks, SKIP LOCKED)")
    project = people.project
    # Escalation of low-agreement items (the quality app, on by default) would add annotators to the
    # crowd's random answers: this test is about the overlap alone.
    services.project_update(
        project=project,
        actor=people.manager,
        overlap=OVERLAP,
        settings={"quality": {"escalate_below": None}, "labeling": {"review_fraction": 0.0}},
    )
    services.schema_version_create(
        project=project, actor=people.manager, definition=label_schema("yes", "no")
    )
    project.refresh_from_db()
    users = [
        ProjectMembershipFactory(
            project=project, user=UserFactory(username=f"crowd{i:02d}"), role=ProjectMembership.Role.ANNOTATOR
        ).user
        for i in range(ANNOTATORS)
    ]
    make_items(project, *[f"sentence {i}" for i in range(ITEMS)])
    return project, users


def _run_threads(target, args_list) -> list:
    errors: list = []
    barrier = threading.Barrier(len(args_list))

    def wrapped(*args):
        try:
            barrier.wait()
            target(*args)
        except Exception as error:  # collected and asserted on below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped, args=args) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung (deadlock?)"
    return errors


def test_fifty_annotators_never_over_annotate_and_lose_nothing(crowd):
    project, users = crowd
    submitted: list[int] = []
    lock = threading.Lock()
    stop_sweeping = threading.Event()

    def annotate(user, seed):
        rng = random.Random(seed)
        while True:
            outcome = next_item_for_annotator(project=project, annotator=user)
            if outcome.assignment is None:
                assert outcome.reason == "queue_empty"
                return
            assignment = outcome.assignment
            if rng.random() < 0.05:  # walk away: the lease lapses and the sweeper frees the slot
                Assignment.objects.filter(pk=assignment.pk).update(
                    lease_expires_at=timezone.now() - timedelta(seconds=1)
                )
                lease_release_expired(project=project)
                continue
            key = str(uuid.uuid4())
            result = {"sentiment": rng.choice(["yes", "no"])}
            for _attempt in range(2 if rng.random() < 0.2 else 1):  # a retried request, same key
                try:
                    done = annotation_submit(
                        project=project,
                        annotator=user,
                        assignment_id=assignment.pk,
                        result=result,
                        idempotency_key=key,
                    )
                except DomainError as error:
                    if error.code == "lease_lost":  # the sweeper was faster; the item went to someone else
                        break
                    raise
                if not done.replayed:
                    with lock:
                        submitted.append(done.annotation.pk)

    def sweep():
        while not stop_sweeping.is_set():
            lease_release_expired()
            stop_sweeping.wait(0.01)

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    try:
        errors = _run_threads(annotate, [(user, i) for i, user in enumerate(users)])
    finally:
        stop_sweeping.set()
        sweeper.join()
        connections.close_all()

    assert errors == []
    per_item = dict(
        Annotation.objects.filter(project=project)
        .values("item")
        .annotate(n=Count("id"))
        .values_list("item", "n")
    )
    assert len(per_item) == ITEMS
    assert set(per_item.values()) == {OVERLAP}  # every item exactly N times: none over, none short
    assert len(submitted) == len(set(submitted)) == ITEMS * OVERLAP  # every submission is there, once
    assert AnnotationRevision.objects.count() == ITEMS * OVERLAP
    assert set(Item.objects.filter(project=project).values_list("state", "leased", "done")) == {
        ("completed", 0, OVERLAP)
    }
    pairs = Annotation.objects.values_list("item_id", "annotator_id")
    assert len(set(pairs)) == len(pairs)  # nobody annotated an item twice


def test_the_last_slot_goes_to_exactly_one_of_many(crowd):
    project, users = crowd
    Item.objects.filter(project=project).exclude(
        pk=Item.objects.filter(project=project).order_by("id")[0].pk
    ).update(excluded=True)
    winners: list = []
    lock = threading.Lock()

    def grab(user):
        outcome = next_item_for_annotator(project=project, annotator=user)
        if outcome.assignment is not None:
            with lock:
                winners.append(user.pk)

    errors = _run_threads(grab, [(user,) for user in users])

    assert errors == []
    assert len(winners) == OVERLAP  # one item, overlap 2: two leases, forty-eight told the queue is empty
    item = Item.objects.get(project=project, excluded=False)
    assert (item.leased, item.done) == (OVERLAP, 0)


def test_concurrent_retries_of_one_submission_make_one_annotation(crowd):
    project, users = crowd
    user = users[0]
    assignment = next_item_for_annotator(project=project, annotator=user).assignment
    outcomes: list = []
    lock = threading.Lock()

    def submit():
        try:
            done = annotation_submit(
                project=project,
                annotator=user,
                assignment_id=assignment.pk,
                result={"sentiment": "yes"},
                idempotency_key="same-key",
            )
            with lock:
                outcomes.append(("ok", done.annotation.pk, done.replayed))
        except DomainError as error:
            with lock:
                outcomes.append(("refused", error.code, None))

    errors = _run_threads(submit, [() for _ in range(8)])

    assert errors == []
    assert Annotation.objects.count() == 1
    annotation_id = Annotation.objects.get().pk
    # One made it; the seven retries waited for the item's lock and replayed it.
    assert (
        sorted(outcomes, key=lambda o: o[2])
        == [("ok", annotation_id, False)] + [("ok", annotation_id, True)] * 7
    )
