"""Submit-and-next: one round trip submits the answer and leases the next item (the response carries
it in the shape of POST queue/next/). The invariants hold as for two calls: no item is served past its
target, no (item, annotator) pair repeats, a retried submit replays and returns the lease it holds."""

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from annotation.models import Annotation, Assignment
from tests.annotation.workflow_kit import make_lab

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab(people):
    return make_lab(people, overlap=2, annotators=2, items=3)


def _submit(lab, user, assignment_id, *, query="", **body):
    payload = {"result": {"sentiment": "positive"}, **body}
    return lab.client(user).post(
        lab.url(f"assignments/{assignment_id}/submit/{query}"), payload, format="json"
    )


def test_submit_with_next_in_the_body_returns_the_next_lease(lab):
    user = lab.annotators[0]
    first = lab.next(user)["assignment"]

    response = _submit(lab, user, first["id"], next=True)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["item"] == first["item"]["id"]
    following = body["next"]
    assert set(following) == {"assignment", "reason", "resumed"}
    assert following["reason"] == "" and following["resumed"] is False
    assert following["assignment"]["item"]["id"] != first["item"]["id"]
    again = lab.next(user)["assignment"]  # the same lease, in the same shape (its expiry renewed)
    assert {**following["assignment"], "lease_expires_at": None} == {**again, "lease_expires_at": None}
    assert Assignment.objects.get(pk=following["assignment"]["id"]).status == Assignment.Status.LEASED


def test_submit_with_next_in_the_query_string(lab):
    user = lab.annotators[0]
    first = lab.next(user)["assignment"]

    response = _submit(lab, user, first["id"], query="?next=1")

    assert response.status_code == 201, response.content
    assert response.json()["next"]["assignment"]["item"]["id"] != first["item"]["id"]


def test_without_next_the_response_is_unchanged(lab):
    user = lab.annotators[0]
    first = lab.next(user)["assignment"]

    response = _submit(lab, user, first["id"])

    assert response.status_code == 201
    assert "next" not in response.json()
    assert not Assignment.objects.filter(annotator=user, status=Assignment.Status.LEASED).exists()


def test_an_empty_queue_says_why(lab):
    user = lab.annotators[0]
    assignment = lab.next(user)["assignment"]
    for _ in range(len(lab.items) - 1):
        assignment = _submit(lab, user, assignment["id"], next=True).json()["next"]["assignment"]

    response = _submit(lab, user, assignment["id"], next=True)

    assert response.status_code == 201
    assert response.json()["next"] == {"assignment": None, "reason": "queue_empty", "resumed": False}


def test_a_retried_submit_replays_and_returns_the_lease_it_already_took(lab):
    user = lab.annotators[0]
    first = lab.next(user)["assignment"]
    sent = _submit(lab, user, first["id"], next=True, idempotency_key="k-1").json()

    again = _submit(lab, user, first["id"], next=True, idempotency_key="k-1")

    assert again.status_code == 200
    assert again.json()["id"] == sent["id"]
    assert again.json()["next"]["assignment"]["id"] == sent["next"]["assignment"]["id"]
    assert again.json()["next"]["resumed"] is True
    assert Annotation.objects.filter(annotator=user).count() == 1


def test_a_refused_submit_leases_nothing(lab):
    user = lab.annotators[0]
    first = lab.next(user)["assignment"]

    response = _submit(lab, user, first["id"], next=True, result={"sentiment": "no such label"})

    assert response.status_code == 400
    assert Annotation.objects.filter(annotator=user).count() == 0
    assert list(Assignment.objects.filter(annotator=user).values_list("id", flat=True)) == [first["id"]]


def test_a_bad_next_flag_is_refused_with_a_code(lab):
    user = lab.annotators[0]
    first = lab.next(user)["assignment"]

    response = _submit(lab, user, first["id"], next="soon")

    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "validation_error"}
    assert Annotation.objects.filter(annotator=user).count() == 0


def test_two_annotators_emptying_the_queue_with_submit_and_next_never_over_serve(lab):
    leases = {user.pk: lab.next(user)["assignment"] for user in lab.annotators}
    while any(leases.values()):
        for user in lab.annotators:
            if leases[user.pk] is not None:
                body = _submit(lab, user, leases[user.pk]["id"], next=True).json()
                leases[user.pk] = body["next"]["assignment"]

    per_item = Annotation.objects.values("item").annotate(n=Count("id"))
    assert sorted(row["n"] for row in per_item) == [2] * len(lab.items)
    pairs = Annotation.objects.values("item", "annotator").annotate(n=Count("id"))
    assert {row["n"] for row in pairs} == {1}


def _statements(call) -> tuple[int, object]:
    connection.queries_log.clear()  # a full log (9,000 entries) would count nothing
    with CaptureQueriesContext(connection) as queries:
        result = call()
    return len(queries), result


def test_statements_of_one_next_and_submit(lab, capsys):
    """Not a limit: prints the statement counts of the labeling path (reported with the benchmark)."""
    user = lab.annotators[0]
    first = lab.next(user)["assignment"]  # warms the schema and settings caches
    assert lab.submit(user, first["id"]).status_code == 201

    next_count, current = _statements(lambda: lab.next(user)["assignment"])
    submit_count, response = _statements(lambda: lab.submit(user, current["id"]))
    assert response.status_code == 201
    current = lab.next(user)["assignment"]
    both_count, response = _statements(lambda: lab.submit(user, current["id"], next=True))

    with capsys.disabled():
        print(f"\nstatements: next {next_count}, submit {submit_count}, submit-and-next {both_count}")
    assert response.status_code == 201
    assert response.json()["next"]["reason"] == "queue_empty"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="bounds of the lean path (PostgreSQL)")
def test_statement_counts_of_the_labeling_path_stay_within_bounds(people):
    """Upper bounds, so the hot path cannot grow unnoticed (docs/WORKFLOW.md, "The hot path"). Counted
    inside the test's transaction: each service's atomic block adds a SAVEPOINT and a RELEASE."""
    lab = make_lab(people, overlap=1, annotators=1, items=5)
    user = lab.annotators[0]
    first = lab.next(user)["assignment"]
    assert lab.submit(user, first["id"]).status_code == 201  # the quality state row exists from here

    next_count, current = _statements(lambda: lab.next(user)["assignment"])
    submit_count, response = _statements(lambda: lab.submit(user, current["id"]))
    assert response.status_code == 201
    current = lab.next(user)["assignment"]
    both_count, response = _statements(lambda: lab.submit(user, current["id"], next=True))
    assert response.status_code == 201
    assert response.json()["next"]["assignment"] is not None

    print(f"\nbounded statements: next {next_count}, submit {submit_count}, submit-and-next {both_count}")
    # The lean path (PostgreSQL): 6, 6 and 10 today (10, 17 and 26 before it); one spare each for a
    # process-wide first-use fill (the schema and guideline version map, a cache miss).
    assert next_count <= 7, next_count
    assert submit_count <= 7, submit_count  # overlap 1: this submit also completes the item
    assert both_count <= 11, both_count
