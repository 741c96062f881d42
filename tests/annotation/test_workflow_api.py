"""The labeling workflow over the real API: queue and leases, drafts, submissions, skips, review."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from annotation.models import Annotation, AnnotationRevision, Assignment, Item, ReviewDecision
from annotation.workflow.services.labeling import lease_release_expired
from core.models import AuditEvent
from projects import services as project_services
from tests.annotation.workflow_kit import Lab, make_lab

pytestmark = pytest.mark.django_db


def world() -> tuple:
    return (
        Annotation.objects.count(),
        AnnotationRevision.objects.count(),
        Assignment.objects.count(),
        ReviewDecision.objects.count(),
        tuple(Item.objects.order_by("id").values_list("state", "leased", "done", "target")),
    )


# --- queue and leases -----------------------------------------------------------------------------


def test_next_item_leases_one_item_and_a_reload_gives_the_same_one(people):
    lab = make_lab(people)
    first = lab.next(lab.annotators[0])
    again = lab.next(lab.annotators[0])

    assert first["assignment"]["item"]["id"] == lab.items[0].id
    assert first["assignment"]["status"] == "leased"
    assert first["assignment"]["schema"]["version"] == 1
    assert (first["resumed"], again["resumed"]) == (False, True)
    assert again["assignment"]["id"] == first["assignment"]["id"]
    assert lab.item(lab.items[0].id).leased == 1
    assert "is_gold" not in first["assignment"]["item"]  # gold items look like any other


def test_overlap_two_gives_each_item_to_two_annotators_and_never_a_third(people):
    lab = make_lab(people, overlap=2, items=2)
    a, b, c = lab.annotators
    got = [lab.next(user)["assignment"]["item"]["id"] for user in (a, b, c)]

    assert got == [lab.items[0].id, lab.items[0].id, lab.items[1].id]
    item = lab.item(lab.items[0].id)
    assert (item.leased, item.target) == (2, 2)


def test_the_queue_runs_dry_with_a_reason(people):
    lab = make_lab(people, items=1)
    lab.next(lab.annotators[0])

    assert lab.next(lab.annotators[1]) == {"assignment": None, "reason": "queue_empty", "resumed": False}


def test_priority_then_id_orders_the_queue_and_excluded_items_are_never_served(people):
    lab = make_lab(people, items=3)
    Item.objects.filter(pk=lab.items[2].id).update(priority=5)
    Item.objects.filter(pk=lab.items[0].id).update(excluded=True)
    a, b, c = lab.annotators

    assert lab.next(a)["assignment"]["item"]["id"] == lab.items[2].id
    assert lab.next(b)["assignment"]["item"]["id"] == lab.items[1].id
    assert lab.next(c)["reason"] == "queue_empty"


def test_pools_reserve_items_for_a_person_or_a_group(people):
    lab = make_lab(people, items=2)
    a, b, c = lab.annotators
    manager = lab.client(people.manager)
    manager.post(
        lab.url("items-workflow/"), {"item_ids": [lab.items[0].id], "pool": f"@{b.username}"}, format="json"
    )
    manager.post(
        lab.url("items-workflow/"), {"item_ids": [lab.items[1].id], "pool": "linguists"}, format="json"
    )
    membership = c.project_memberships.get(project=lab.project)
    response = manager.patch(
        lab.url(f"members/{membership.id}/workflow/"), {"groups": ["linguists"]}, format="json"
    )

    assert response.status_code == 200 and response.json()["groups"] == ["linguists"]
    assert lab.next(a)["reason"] == "queue_empty"
    assert lab.next(b)["assignment"]["item"]["id"] == lab.items[0].id
    assert lab.next(c)["assignment"]["item"]["id"] == lab.items[1].id


def test_quota_stops_the_queue_for_that_person(people):
    lab = make_lab(people, items=3, quota=1)
    a = lab.annotators[0]
    assignment = lab.next(a)["assignment"]
    lab.submit(a, assignment["id"])

    assert lab.next(a) == {"assignment": None, "reason": "quota_reached", "resumed": False}
    assert lab.next(lab.annotators[1])["assignment"] is not None


def test_a_paused_annotator_is_told_why_until_resumed(people):
    lab = make_lab(people)
    a = lab.annotators[0]
    membership = a.project_memberships.get(project=lab.project)
    manager = lab.client(people.manager)
    manager.post(
        lab.url(f"members/{membership.id}/pause/"), {"reason": "Gold accuracy fell to 40%."}, format="json"
    )

    response = lab.client(a).post(lab.url("queue/next/"))
    assert response.status_code == 409
    assert response.json()["code"] == "annotator_paused"
    assert "Gold accuracy fell to 40%." in response.json()["detail"]

    manager.post(lab.url(f"members/{membership.id}/resume/"))
    assert lab.next(a)["assignment"] is not None
    assert list(
        AuditEvent.objects.filter(action__startswith="project_member.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["project_member.paused", "project_member.resumed"]


def test_new_guidelines_must_be_acknowledged_and_the_annotation_records_the_version(people):
    lab = make_lab(people)
    a = lab.annotators[0]
    project_services.guideline_version_create(project=lab.project, actor=people.manager, body="# Read me")

    refused = lab.client(a).post(lab.url("queue/next/"))
    assert refused.status_code == 409
    assert refused.json() | {"detail": ""} == {
        "code": "guidelines_not_acknowledged",
        "detail": "",
        "guideline_version": 1,
    }
    stale = lab.client(a).post(lab.url("guideline-versions/2/acknowledge/"))
    assert stale.status_code == 404  # there is no version 2
    assert lab.client(a).post(lab.url("guideline-versions/1/acknowledge/")).status_code == 200

    assignment = lab.next(a)["assignment"]
    created = lab.submit(a, assignment["id"])
    assert created.status_code == 201
    assert (created.json()["schema_version"], created.json()["guideline_version"]) == (1, 1)


def test_an_annotator_without_a_schema_gets_a_clear_409(people):
    response = (
        make_lab(people).client(people.manager).post(f"/api/projects/{people.other_project.id}/queue/next/")
    )
    other = project_services.project_create(
        organisation=people.organisation, actor=people.manager, name="Empty"
    )
    client = Lab.client(people.manager)
    empty = client.post(f"/api/projects/{other.id}/queue/next/")

    assert response.status_code == 404  # not their project
    assert (empty.status_code, empty.json()["code"]) == (409, "no_schema")


# --- submissions --------------------------------------------------------------------------------


def test_submit_records_the_annotation_and_completes_the_item(people):
    lab = make_lab(people)
    a = lab.annotators[0]
    assignment = lab.next(a)["assignment"]

    response = lab.submit(a, assignment["id"], "negative", active_ms=1500)

    assert response.status_code == 201
    body = response.json()
    assert (body["result"], body["revision"], body["review"], body["active_ms"]) == (
        {"sentiment": "negative"},
        1,
        "not_required",
        1500,
    )
    item = lab.item(assignment["item"]["id"])
    assert (item.state, item.leased, item.done) == ("completed", 0, 1)
    assert AnnotationRevision.objects.get().kind == "submit"
    assert list(
        AuditEvent.objects.filter(action__in=["annotation.submitted", "item.state_changed"])
        .order_by("id")
        .values_list("action", "changes__state")
    ) == [("item.state_changed", ["open", "completed"]), ("annotation.submitted", None)]


def test_an_annotation_that_breaks_the_schema_is_refused_with_every_issue_and_changes_nothing(people):
    lab = make_lab(people)
    a = lab.annotators[0]
    assignment = lab.next(a)["assignment"]
    before = world()

    response = lab.client(a).post(
        lab.url(f"assignments/{assignment['id']}/submit/"),
        {"result": {"sentiment": "<script>alert(1)</script>", "mood": "x"}},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_annotation"
    assert {(e["path"], e["code"]) for e in body["errors"]} == {
        ("mood", "unknown_control"),
        ("sentiment", "unknown_label"),
    }
    assert world() == before


@override_settings(ANNOTATION_MAX_BYTES=200)
def test_an_oversized_annotation_is_413_and_changes_nothing(people):
    lab = make_lab(people)
    a = lab.annotators[0]
    assignment = lab.next(a)["assignment"]
    before = world()

    response = lab.client(a).post(
        lab.url(f"assignments/{assignment['id']}/submit/"),
        {"result": {"sentiment": "positive", "note": "x" * 500}},
        format="json",
    )

    assert response.status_code == 413
    assert response.json()["code"] == "annotation_too_large"
    assert world() == before


def test_a_retried_submit_with_the_same_key_is_a_no_op(people):
    lab = make_lab(people)
    a = lab.annotators[0]
    assignment = lab.next(a)["assignment"]
    client = lab.client(a)
    url = lab.url(f"assignments/{assignment['id']}/submit/")

    first = client.post(
        url, {"result": {"sentiment": "positive"}}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1"
    )
    retry = client.post(
        url, {"result": {"sentiment": "positive"}}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1"
    )
    other_body = client.post(
        url, {"result": {"sentiment": "negative"}}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1"
    )
    no_key = client.post(url, {"result": {"sentiment": "positive"}}, format="json")

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert (other_body.status_code, other_body.json()["code"]) == (409, "idempotency_key_reused")
    assert (no_key.status_code, no_key.json()["code"]) == (409, "already_submitted")
    assert Annotation.objects.count() == 1 and AnnotationRevision.objects.count() == 1


def test_someone_elses_assignment_is_403_and_another_project_is_404(people):
    lab = make_lab(people)
    a, b = lab.annotators[:2]
    assignment = lab.next(a)["assignment"]
    before = world()

    theirs = lab.submit(b, assignment["id"])
    outsider = lab.client(people.outsider).post(
        lab.url(f"assignments/{assignment['id']}/submit/"), {"result": {}}, format="json"
    )
    reviewer = lab.client(people.reviewer).post(lab.url("queue/next/"))

    assert (theirs.status_code, theirs.json()["code"]) == (403, "not_your_assignment")
    assert outsider.status_code == 404
    assert reviewer.status_code == 403
    assert world() == before


def test_an_item_that_closed_takes_no_more_annotations(people):
    lab = make_lab(people)
    a = lab.annotators[0]
    assignment = lab.next(a)["assignment"]
    Item.objects.filter(pk=assignment["item"]["id"]).update(state="completed")
    before = world()

    response = lab.submit(a, assignment["id"])

    assert (response.status_code, response.json()["code"]) == (409, "item_closed")
    assert world() == before


# --- skips, drafts, expiry ----------------------------------------------------------------------


def test_skip_needs_a_reason_frees_the_slot_and_the_item_is_not_served_again(people):
    lab = make_lab(people, items=2)
    a, b = lab.annotators[:2]
    assignment = lab.next(a)["assignment"]
    url = lab.url(f"assignments/{assignment['id']}/skip/")

    assert lab.client(a).post(url, {"reason": "  "}, format="json").status_code == 400
    skipped = lab.client(a).post(url, {"reason": "Not English"}, format="json")

    assert skipped.status_code == 200 and skipped.json()["status"] == "skipped"
    assert lab.item(lab.items[0].id).leased == 0
    assert lab.next(a)["assignment"]["item"]["id"] == lab.items[1].id
    assert lab.next(b)["assignment"]["item"]["id"] == lab.items[0].id


def test_a_draft_survives_a_closed_tab(people):
    lab = make_lab(people)
    a = lab.annotators[0]
    assignment = lab.next(a)["assignment"]
    saved = lab.client(a).put(
        lab.url(f"assignments/{assignment['id']}/draft/"), {"draft": {"sentiment": "neutral"}}, format="json"
    )

    again = lab.next(a)

    assert saved.status_code == 200
    assert again["resumed"] is True
    assert again["assignment"]["draft"] == {"sentiment": "neutral"}


def test_an_expired_lease_frees_the_slot_keeps_the_draft_and_a_late_heartbeat_is_told(people):
    lab = make_lab(people, items=1)
    a, b = lab.annotators[:2]
    assignment = lab.next(a)["assignment"]
    lab.client(a).put(
        lab.url(f"assignments/{assignment['id']}/draft/"), {"draft": {"sentiment": "neutral"}}, format="json"
    )
    Assignment.objects.filter(pk=assignment["id"]).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert lease_release_expired() == 1
    assert lab.item(lab.items[0].id).leased == 0
    taken = lab.next(b)["assignment"]
    late = lab.client(a).post(lab.url(f"assignments/{assignment['id']}/heartbeat/"), {}, format="json")

    assert taken["item"]["id"] == lab.items[0].id
    assert (late.status_code, late.json()["code"]) == (409, "lease_lost")
    assert Assignment.objects.get(pk=assignment["id"]).draft == {"sentiment": "neutral"}
    assert Assignment.objects.get(pk=assignment["id"]).status == "expired"


def test_an_expired_lease_comes_back_with_its_draft_while_a_slot_is_free(people):
    lab = make_lab(people, items=2)
    a = lab.annotators[0]
    assignment = lab.next(a)["assignment"]
    lab.client(a).put(
        lab.url(f"assignments/{assignment['id']}/draft/"), {"draft": {"sentiment": "neutral"}}, format="json"
    )
    Assignment.objects.filter(pk=assignment["id"]).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    lease_release_expired()

    back = lab.next(a)

    assert back["resumed"] is True
    assert back["assignment"]["id"] == assignment["id"]
    assert back["assignment"]["draft"] == {"sentiment": "neutral"}
    assert lab.item(lab.items[0].id).leased == 1
    assert lab.submit(a, assignment["id"], "neutral").status_code == 201


# --- review and corrections -------------------------------------------------------------------------


def test_review_accept_reject_correct_and_fix(people):
    lab = make_lab(people, overlap=2, items=1, review_fraction=1.0)
    a, b = lab.annotators[:2]
    reviewer = lab.client(people.reviewer)
    for user, label in ((a, "positive"), (b, "negative")):
        lab.submit(user, lab.next(user)["assignment"]["id"], label)
    item_id = lab.items[0].id
    assert lab.item(item_id).state == "in_review"

    task = reviewer.post(lab.url("review/next/")).json()
    assert task["item"]["id"] == item_id
    first, second = task["annotations"]
    assert [x["annotator"] for x in task["annotations"]] == [a.username, b.username]

    bad_reason = reviewer.post(
        lab.url(f"annotations/{second['id']}/review/"),
        {"decision": "reject", "revision": 1, "reason": "meh"},
        format="json",
    )
    assert (bad_reason.status_code, bad_reason.json()["code"]) == (400, "unknown_reason")
    reviewer.post(
        lab.url(f"annotations/{first['id']}/review/"), {"decision": "accept", "revision": 1}, format="json"
    )
    rejected = reviewer.post(
        lab.url(f"annotations/{second['id']}/review/"),
        {
            "decision": "reject",
            "revision": 1,
            "reason": "wrong_label",
            "comment": "Read rule 2: factual is neutral.",
        },
        format="json",
    )
    assert rejected.status_code == 201
    assert lab.item(item_id).state == "correction"

    back = lab.next(b)
    assert back["resumed"] is True and back["assignment"]["status"] == "correction"
    assert back["assignment"]["correction"]["comment"] == "Read rule 2: factual is neutral."
    assert back["assignment"]["annotation"]["result"] == {"sentiment": "negative"}
    assignment_id = back["assignment"]["id"]
    stale = lab.submit(b, assignment_id, "neutral", base_revision=0)
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_revision")
    corrected = lab.submit(b, assignment_id, "neutral", base_revision=1)
    assert corrected.status_code == 201 and corrected.json()["revision"] == 2
    assert lab.item(item_id).state == "in_review"

    stale_review = reviewer.post(
        lab.url(f"annotations/{second['id']}/review/"), {"decision": "accept", "revision": 1}, format="json"
    )
    assert (stale_review.status_code, stale_review.json()["code"]) == (409, "stale_revision")
    fixed = reviewer.post(
        lab.url(f"annotations/{second['id']}/review/"),
        {"decision": "fix", "revision": 2, "result": {"sentiment": "positive"}},
        format="json",
    )
    assert fixed.status_code == 201
    assert lab.item(item_id).state == "completed"
    history = reviewer.get(lab.url(f"annotations/{second['id']}/history/")).json()
    assert [
        (r["number"], r["kind"], r["author"], r["result"]["sentiment"]) for r in history["revisions"]
    ] == [
        (1, "submit", b.username, "negative"),
        (2, "correction", b.username, "neutral"),
        (3, "review_fix", people.reviewer.username, "positive"),
    ]
    assert [d["decision"] for d in history["decisions"]] == ["reject", "fix"]


def test_a_reviewer_cannot_review_their_own_annotation_and_annotators_cannot_review(people):
    lab = make_lab(people, items=1, review_fraction=1.0)
    a = lab.annotators[0]
    lab.submit(a, lab.next(a)["assignment"]["id"])
    annotation = Annotation.objects.get()

    by_annotator = lab.client(a).post(
        lab.url(f"annotations/{annotation.id}/review/"), {"decision": "accept", "revision": 1}, format="json"
    )
    assert by_annotator.status_code == 403
    project_services.project_member_add(
        project=lab.project, actor=people.manager, username=people.org_member.username, role="reviewer"
    )
    Annotation.objects.filter(pk=annotation.id).update(annotator=people.org_member)
    own = lab.client(people.org_member).post(
        lab.url(f"annotations/{annotation.id}/review/"), {"decision": "accept", "revision": 1}, format="json"
    )
    assert (own.status_code, own.json()["code"]) == (403, "own_annotation")


def test_review_fraction_samples_items_deterministically(people):
    lab = make_lab(people, items=40, annotators=1, review_fraction=0.5)
    a = lab.annotators[0]
    for _ in range(40):
        lab.submit(a, lab.next(a)["assignment"]["id"])

    in_review = Item.objects.filter(state="in_review").count()
    assert 10 <= in_review <= 30
    assert Item.objects.filter(state="completed").count() == 40 - in_review


# --- blind labeling and visibility --------------------------------------------------------------------


def test_annotators_see_only_their_own_annotations_unless_the_project_allows(people):
    lab = make_lab(people, overlap=2, items=1)
    a, b = lab.annotators[:2]
    for user in (a, b):
        lab.submit(user, lab.next(user)["assignment"]["id"])

    mine = lab.client(a).get(lab.url("annotations/")).json()["results"]
    everyone = lab.client(people.reviewer).get(lab.url("annotations/")).json()["results"]
    lab.set_labeling(show_others=True)
    open_project = lab.client(a).get(lab.url("annotations/")).json()["results"]

    assert [x["annotator"] for x in mine] == [a.username]
    assert len(everyone) == 2 and len(open_project) == 2


# --- database backstops -----------------------------------------------------------------------------


def test_the_database_refuses_over_annotation_even_from_raw_sql(people):
    lab = make_lab(people, items=1)
    item = lab.items[0]

    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=item.id).update(leased=2)


def test_revisions_are_append_only_in_the_database(people):
    lab = make_lab(people, items=1)
    a = lab.annotators[0]
    lab.submit(a, lab.next(a)["assignment"]["id"])

    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE annotation_annotationrevision SET result = '{}'")
    assert AnnotationRevision.objects.get().result == {"sentiment": "positive"}


# --- failure paths that change nothing --------------------------------------------------------------


def test_review_refuses_a_second_decision_a_stray_reason_and_an_invalid_fix(people):
    lab = make_lab(people, items=1, review_fraction=1.0)
    a = lab.annotators[0]
    lab.submit(a, lab.next(a)["assignment"]["id"])
    annotation = Annotation.objects.get()
    reviewer = lab.client(people.reviewer)
    url = lab.url(f"annotations/{annotation.id}/review/")
    before = world()

    stray = reviewer.post(url, {"decision": "accept", "revision": 1, "reason": "wrong_label"}, format="json")
    bad_fix = reviewer.post(
        url, {"decision": "fix", "revision": 1, "result": {"sentiment": "joy"}}, format="json"
    )

    assert (stray.status_code, stray.json()["code"]) == (400, "unexpected_reason")
    assert (bad_fix.status_code, bad_fix.json()["code"]) == (400, "invalid_annotation")
    assert world() == before
    assert reviewer.post(url, {"decision": "accept", "revision": 1}, format="json").status_code == 201
    after_accept = world()
    again = reviewer.post(url, {"decision": "reject", "revision": 1, "reason": "other"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "not_in_review")  # the item completed
    assert world() == after_accept


@override_settings(ANNOTATION_MAX_BYTES=200)
def test_drafts_must_be_objects_within_the_size_limit(people):
    lab = make_lab(people)
    a = lab.annotators[0]
    assignment = lab.next(a)["assignment"]
    url = lab.url(f"assignments/{assignment['id']}/draft/")
    client = lab.client(a)

    not_object = client.put(url, {"draft": ["positive"]}, format="json")
    too_large = client.put(url, {"draft": {"note": "x" * 500}}, format="json")

    assert (not_object.status_code, not_object.json()["code"]) == (400, "invalid_draft")
    assert (too_large.status_code, too_large.json()["code"]) == (413, "draft_too_large")
    assert Assignment.objects.get(pk=assignment["id"]).draft is None


def test_a_skipped_item_takes_no_heartbeat_draft_or_submission(people):
    lab = make_lab(people, items=2)
    a = lab.annotators[0]
    assignment = lab.next(a)["assignment"]
    client = lab.client(a)
    client.post(lab.url(f"assignments/{assignment['id']}/skip/"), {"reason": "Not English"}, format="json")
    before = world()

    replies = [
        client.post(lab.url(f"assignments/{assignment['id']}/heartbeat/"), {}, format="json"),
        client.put(lab.url(f"assignments/{assignment['id']}/draft/"), {"draft": {}}, format="json"),
        lab.submit(a, assignment["id"]),
    ]

    assert [(r.status_code, r.json()["code"]) for r in replies] == [(409, "assignment_skipped")] * 3
    assert world() == before


def test_bad_manager_levers_are_refused(people):
    lab = make_lab(people, items=1)
    manager = lab.client(people.manager)

    pool = manager.post(
        lab.url("items-workflow/"), {"item_ids": [lab.items[0].id], "pool": "two words"}, format="json"
    )
    nothing = manager.post(lab.url("items-workflow/"), {"item_ids": [lab.items[0].id]}, format="json")
    by_annotator = lab.client(lab.annotators[0]).post(
        lab.url("items-workflow/"), {"item_ids": [lab.items[0].id], "priority": 5}, format="json"
    )

    assert (pool.status_code, pool.json()["code"]) == (400, "invalid_pool")
    assert (nothing.status_code, nothing.json()["code"]) == (400, "nothing_to_change")
    assert by_annotator.status_code == 403
    assert list(Item.objects.values_list("pool", "priority")) == [("", 0)]
