"""Manager levers on the workflow: gold, escalation, predictions, ordering, overlap, label migrations."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotation.models import Annotation, Assignment, Item, Prediction
from annotation.workflow import states
from annotation.workflow.services.queue import queue_order_apply
from core.models import AuditEvent
from projects import services as project_services
from projects.models import LabelMigration, LabelSchemaVersion
from tests.annotation.workflow_kit import Lab, make_lab
from tests.factories import make_items

pytestmark = pytest.mark.django_db


def test_gold_items_are_served_at_the_gold_rate_and_hold_no_slot(people):
    lab = make_lab(people, items=3, gold_rate=1.0)
    manager = lab.client(people.manager)
    manager.post(lab.url("items-workflow/"), {"item_ids": [lab.items[2].id], "is_gold": True}, format="json")
    a, b = lab.annotators[:2]

    first_a = lab.next(a)["assignment"]
    first_b = lab.next(b)["assignment"]

    assert first_a["item"]["id"] == first_b["item"]["id"] == lab.items[2].id  # everyone gets the gold item
    gold = lab.item(lab.items[2].id)
    assert (gold.leased, gold.done) == (0, 0)
    lab.submit(a, first_a["id"])
    assert Annotation.objects.get().is_gold is True
    assert lab.item(lab.items[2].id).state == "open"
    assert lab.next(a)["assignment"]["item"]["id"] == lab.items[0].id  # gold done: back to the queue


def test_escalation_reopens_an_item_for_more_annotators_up_to_the_limit(people):
    lab = make_lab(people, items=1, max_escalation=1)
    a, b = lab.annotators[:2]
    lab.submit(a, lab.next(a)["assignment"]["id"])
    manager = lab.client(people.manager)
    item_id = lab.items[0].id

    escalated = manager.post(
        lab.url(f"items-workflow/{item_id}/escalate/"), {"reason": "disagreement"}, format="json"
    )
    again = manager.post(lab.url(f"items-workflow/{item_id}/escalate/"), {}, format="json")

    assert escalated.status_code == 200
    assert escalated.json() == {"id": item_id, "state": "open", "target": 2, "done": 1}
    assert (again.status_code, again.json()["code"]) == (409, "escalation_limit")
    assert lab.next(b)["assignment"]["item"]["id"] == item_id
    assert lab.next(a)["reason"] == "queue_empty"  # never the same person twice


def test_predictions_are_validated_offered_and_recorded(people):
    lab = make_lab(people, items=2)
    manager = lab.client(people.manager)
    bad = manager.post(
        lab.url("predictions/"),
        {
            "predictions": [
                {
                    "item": lab.items[0].id,
                    "model": "m",
                    "model_version": "1",
                    "score": 0.4,
                    "result": {"sentiment": "joy"},
                },
                {"item": 999999, "model": "m", "model_version": "1", "result": {}},
            ]
        },
        format="json",
    )
    assert bad.status_code == 400
    assert [(e["path"], e["code"]) for e in bad.json()["errors"]] == [
        ("[0].result.sentiment", "unknown_label"),
        ("[1]", "unknown_item"),
    ]
    assert Prediction.objects.count() == 0

    good = manager.post(
        lab.url("predictions/"),
        {
            "predictions": [
                {
                    "item": lab.items[0].id,
                    "model": "bert",
                    "model_version": "2026-11",
                    "score": 0.4,
                    "result": {"sentiment": "negative"},
                },
            ]
        },
        format="json",
    )
    assert good.status_code == 201 and good.json() == {"created": 1}
    a = lab.annotators[0]
    assignment = lab.next(a)["assignment"]
    offered = assignment["prediction"]
    assert (offered["model_name"], offered["model_version"], offered["result"]) == (
        "bert",
        "2026-11",
        {"sentiment": "negative"},
    )
    created = lab.submit(a, assignment["id"], "negative", prediction=offered["id"])
    assert created.json()["prediction"] == offered["id"]


def test_uncertainty_ordering_serves_the_least_confident_item_first(
    people, django_capture_on_commit_callbacks
):
    lab = make_lab(people, items=3)
    manager = lab.client(people.manager)
    manager.post(
        lab.url("predictions/"),
        {
            "predictions": [
                {
                    "item": item.id,
                    "model": "m",
                    "model_version": "1",
                    "score": score,
                    "result": {"sentiment": "positive"},
                }
                for item, score in zip(lab.items, (0.9, 0.2, 0.6), strict=True)
            ]
        },
        format="json",
    )
    with django_capture_on_commit_callbacks(execute=True):  # the ordering job runs after commit
        lab.set_labeling(ordering="uncertainty")

    served = [lab.next(user)["assignment"]["item"]["id"] for user in lab.annotators]

    assert served == [lab.items[1].id, lab.items[2].id, lab.items[0].id]


def test_random_ordering_shuffles_and_sequential_restores_id_order(
    people, django_capture_on_commit_callbacks
):
    lab = make_lab(people, items=30, annotators=1)
    with django_capture_on_commit_callbacks(execute=True):
        lab.set_labeling(ordering="random")
    ranks = list(Item.objects.order_by("id").values_list("rank", flat=True))
    assert len(set(ranks)) == 30 and all(0 <= r < 1 for r in ranks)
    with django_capture_on_commit_callbacks(execute=True):
        lab.set_labeling(ordering="sequential")
    assert set(Item.objects.values_list("rank", flat=True)) == {0.0}
    assert queue_order_apply(project_id=lab.project.id) == 30


def test_raising_the_overlap_gives_open_items_more_slots_and_lowering_it_closes_full_ones(
    people, django_capture_on_commit_callbacks
):
    lab = make_lab(people, overlap=2, items=2)
    a = lab.annotators[0]
    lab.submit(a, lab.next(a)["assignment"]["id"])  # item 0: 1 of 2

    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_update(project=lab.project, actor=people.manager, overlap=1)

    first = lab.item(lab.items[0].id)
    assert (first.target, first.done, first.state) == (1, 1, "completed")
    assert lab.item(lab.items[1].id).target == 1
    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_update(project=lab.project, actor=people.manager, overlap=3)
    assert lab.item(lab.items[1].id).target == 3
    assert lab.item(lab.items[0].id).target == 1  # completed items keep theirs; escalate for more


def test_label_migrations_keep_old_annotations_and_send_affected_items_to_review(
    people, django_capture_on_commit_callbacks
):
    lab = make_lab(people, items=3, annotators=3)
    for user, label in zip(lab.annotators, ("positive", "neutral", "negative"), strict=True):
        lab.submit(user, lab.next(user)["assignment"]["id"], label)
    manager = lab.client(people.manager)

    renamed = manager.post(
        lab.url("schema-versions/migrate/"),
        {"operations": [{"op": "rename", "control": "sentiment", "from": "positive", "to": "good"}]},
        format="json",
    )
    assert renamed.status_code == 201
    assert renamed.json()["re_review"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        deleted = manager.post(
            lab.url("schema-versions/migrate/"),
            {"operations": [{"op": "delete", "control": "sentiment", "label": "neutral"}]},
            format="json",
        )
    assert deleted.status_code == 201
    assert (deleted.json()["from_version"], deleted.json()["to_version"]) == (2, 3)
    assert LabelMigration.objects.get(to_version__version=3).re_review == 1

    states_now = dict(Item.objects.values_list("id", "state"))
    assert [states_now[item.id] for item in lab.items] == ["completed", "in_review", "completed"]
    assert sorted(Annotation.objects.values_list("result__sentiment", "schema_version__version")) == [
        ("negative", 1),
        ("neutral", 1),
        ("positive", 1),
    ]
    newest = LabelSchemaVersion.objects.filter(project=lab.project).order_by("-version").first()
    assert [label["value"] for label in newest.definition["controls"][0]["labels"]] == ["good", "negative"]
    assert LabelMigration.objects.count() == 2
    assert AuditEvent.objects.filter(action="items.sent_to_review").count() == 1


@pytest.mark.parametrize(
    ("operations", "code_path"),
    [
        (
            [{"op": "rename", "control": "sentiment", "from": "nope", "to": "x"}],
            ("unknown_label", "operations[0].from"),
        ),
        (
            [{"op": "rename", "control": "sentiment", "from": "positive", "to": "negative"}],
            ("duplicate_label", "operations[0].to"),
        ),
        (
            [{"op": "rename", "control": "sentiment", "from": "positive", "to": "<b>"}],
            ("markup_in_label", "operations[0].to"),
        ),
        ([{"op": "explode", "control": "sentiment"}], ("invalid_operation", "operations[0].op")),
        ([], ("invalid_operations", "operations")),
    ],
    ids=["unknown-label", "clash", "markup", "unknown-op", "empty"],
)
def test_bad_label_migrations_change_nothing(people, operations, code_path):
    lab = make_lab(people, items=1)
    before = (LabelSchemaVersion.objects.count(), LabelMigration.objects.count())

    response = lab.client(people.manager).post(
        lab.url("schema-versions/migrate/"), {"operations": operations}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_migration"
    assert (response.json()["errors"][0]["code"], response.json()["errors"][0]["path"]) == code_path
    assert (LabelSchemaVersion.objects.count(), LabelMigration.objects.count()) == before


def test_progress_counts_items_by_state(people):
    lab = make_lab(people, items=3)
    a = lab.annotators[0]
    lab.submit(a, lab.next(a)["assignment"]["id"])
    lab.next(lab.annotators[1])

    progress = lab.client(people.manager).get(lab.url("queue/progress/")).json()

    assert progress["items"] == {"open": 2, "in_review": 0, "correction": 0, "completed": 1}
    assert progress["leased_now"] == 1
    assert progress["annotations"]["total"] == 1
    assert progress["mine"]["submitted"] == 0


def test_the_state_machine_allows_exactly_the_documented_transitions():
    allowed = {(a, b) for a, targets in states.TRANSITIONS.items() for b in targets}
    assert allowed == {
        ("open", "in_review"),
        ("open", "completed"),
        ("in_review", "completed"),
        ("in_review", "correction"),
        ("in_review", "open"),
        ("correction", "in_review"),
        ("correction", "open"),
        ("completed", "in_review"),
        ("completed", "open"),
    }
    with pytest.raises(states.InvalidTransition):
        states.ensure_transition("open", "correction")
    assert states.state_after_reviews(["accepted", "pending"]) == "in_review"
    assert states.state_after_reviews(["accepted", "rejected"]) == "correction"
    assert states.state_after_reviews(["accepted", "fixed"]) == "completed"
    share = sum(states.sampled_for_review(i, 0.25) for i in range(1, 10_001)) / 10_000
    assert 0.23 < share < 0.27
    assert states.sampled_for_review(7, 0.0) is False and states.sampled_for_review(7, 1.0) is True


def test_assignment_rows_are_unique_per_person_and_item(people):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    lab = make_lab(people, items=1)
    a = lab.annotators[0]
    lab.next(a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            project=lab.project,
            item=lab.items[0],
            annotator=a,
            leased_at=timezone.now(),
            lease_expires_at=timezone.now(),
        )


def test_boxes_are_checked_against_the_size_the_item_records(people):
    project = people.project
    project_services.schema_version_create(
        project=project,
        actor=people.manager,
        definition={
            "version": 1,
            "fields": [{"name": "image", "type": "image"}],
            "controls": [{"name": "objects", "type": "bbox", "field": "image", "labels": [{"value": "car"}]}],
        },
    )
    make_items(project, {"data": {"file": "street.png", "media_type": "image", "width": 100, "height": 50}})
    client = Lab.client(people.annotator)
    assignment = client.post(f"/api/projects/{project.id}/queue/next/").json()["assignment"]
    url = f"/api/projects/{project.id}/assignments/{assignment['id']}/submit/"
    box = {"x": 60, "y": 10, "width": 50, "height": 20, "label": "car"}

    outside = client.post(url, {"result": {"objects": [box]}}, format="json")
    inside = client.post(url, {"result": {"objects": [{**box, "width": 40}]}}, format="json")

    assert outside.status_code == 400
    assert [(e["path"], e["code"]) for e in outside.json()["errors"]] == [
        ("objects[0].width", "out_of_bounds")
    ]
    assert inside.status_code == 201


# --- queue cursors (PostgreSQL): an annotator far ahead does not rescan what they did --------------


def _claim(lab, user) -> int:
    return lab.next(user)["assignment"]["item"]["id"]


def test_an_annotator_ahead_at_overlap_two_continues_after_their_last_item(people):
    lab = make_lab(people, overlap=2, items=6)
    a, b = lab.annotators[:2]
    for _ in range(3):
        lab.submit(a, lab.next(a)["assignment"]["id"])

    with CaptureQueriesContext(connection) as queries:
        assert _claim(lab, a) == lab.items[3].id
    claims = [q["sql"] for q in queries.captured_queries if "FOR UPDATE OF i SKIP LOCKED" in q["sql"]]
    if connection.vendor == "postgresql":  # one claim, starting after the cursor: no rescan of items 0-2
        assert len(claims) == 1 and f"(i.rank, i.id) > (0.0, {lab.items[2].id})" in claims[0]
    assert _claim(lab, b) == lab.items[0].id  # others still start at the front
    lab.submit(b, Assignment.objects.get(annotator=b, status="leased").id)
    assert _claim(lab, b) == lab.items[1].id


@pytest.mark.parametrize("frees_the_slot", ["skip", "expiry"])
def test_a_slot_freed_behind_a_cursor_is_served_next(
    people, django_capture_on_commit_callbacks, frees_the_slot
):
    from datetime import timedelta

    from django.utils import timezone

    from annotation.workflow.services.labeling import lease_release_expired

    lab = make_lab(people, items=5)
    a, c = lab.annotators[0], lab.annotators[2]
    held = lab.next(c)["assignment"]  # c holds item 0
    for _ in range(2):
        lab.submit(a, lab.next(a)["assignment"]["id"])  # a does items 1 and 2: a's cursor is at 2
    with django_capture_on_commit_callbacks(execute=True):
        if frees_the_slot == "skip":
            lab.client(c).post(
                lab.url(f"assignments/{held['id']}/skip/"), {"reason": "Unclear"}, format="json"
            )
        else:
            Assignment.objects.filter(pk=held["id"]).update(
                lease_expires_at=timezone.now() - timedelta(seconds=1)
            )
            lease_release_expired()

    assert _claim(lab, a) == lab.items[0].id  # behind a's cursor, but the freed slot comes first


def test_a_raised_priority_behind_a_cursor_is_served_next(people, django_capture_on_commit_callbacks):
    lab = make_lab(people, items=5)
    a, b = lab.annotators[:2]
    first = lab.next(b)["assignment"]  # b holds item 0
    lab.submit(a, lab.next(a)["assignment"]["id"])  # a did item 1
    lab.submit(b, first["id"])
    Item.objects.filter(pk=lab.items[0].id).update(state="open", done=0, target=2)  # wants one more
    with django_capture_on_commit_callbacks(execute=True):
        lab.client(people.manager).post(
            lab.url("items-workflow/"), {"item_ids": [lab.items[0].id], "priority": 9}, format="json"
        )

    assert _claim(lab, a) == lab.items[0].id


def test_progress_says_where_gold_and_excluded_items_went(people):
    """Issue #16 walk: the Data tab counted 27 items by state in a 30-item project and never said the
    other 3 were gold items (checks, not work). Progress now counts the items it keeps apart."""
    lab = make_lab(people, items=5)
    Item.objects.filter(pk=lab.items[0].pk).update(is_gold=True)
    Item.objects.filter(pk=lab.items[1].pk).update(excluded=True)

    progress = lab.client(people.manager).get(lab.url("queue/progress/")).json()

    assert progress["items"] == {"open": 3, "in_review": 0, "correction": 0, "completed": 0}
    assert progress["total_items"] == 3
    assert progress["apart"] == {"gold": 1, "excluded": 1}
