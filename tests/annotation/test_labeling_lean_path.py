"""The lean labeling path (PostgreSQL: next item and first submissions in a few set-based statements)
decides exactly as the general ORM path: the same scenario, run once each way from the same starting
rows, leaves the same rows behind (items, assignments, annotations, revisions, audit rows, quality
state, outbox) and announces the same events. The general path is what SQLite runs, and what every
other case (corrections, expired leases, predictions, replays) takes on PostgreSQL."""

import pytest
from django.db import connection, transaction

from annotation.models import Annotation, AnnotationRevision, Assignment, Item
from annotation.workflow.services.labeling import request_hash
from core.models import AuditEvent, OutboxMessage
from projects.models import ProjectMembership
from quality.models import QualityState
from tests.annotation.workflow_kit import make_lab

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the lean path runs on PostgreSQL only"),
]


class _Rollback(Exception):
    pass


def _events(monkeypatch) -> list:
    sent: list = []
    monkeypatch.setattr(
        "core.realtime.broadcast", lambda group, event, data: sent.append((group, event, dict(data)))
    )
    return sent


def _count_lean_calls(monkeypatch) -> dict:
    """How many next and submit calls the lean path decided itself (it returns None to hand over)."""
    from annotation.workflow.services import claim, submit

    handled = {"next": 0, "submit": 0}
    for module, name, key in ((claim, "_next_lean", "next"), (submit, "_submit_lean", "submit")):
        original = getattr(module, name)

        def counting(*args, _original=original, _key=key, **kwargs):
            outcome = _original(*args, **kwargs)
            handled[_key] += outcome is not None
            return outcome

        monkeypatch.setattr(module, name, counting)
    return handled


def _snapshot(lab, sent) -> dict:
    """Every row the scenario wrote, with ids replaced by stable names (item index, username)."""
    items = {item.id: f"item{index}" for index, item in enumerate(lab.items)}
    assignments = {a.id: (items[a.item_id], a.annotator.username) for a in Assignment.objects.all()}
    annotations = {a.id: (items[a.item_id], a.annotator.username) for a in Annotation.objects.all()}

    def named(value):
        if isinstance(value, dict):
            return {
                key: (
                    items.get(item_value, item_value)
                    if key == "item_id"
                    else annotations.get(item_value, item_value)
                    if key == "annotation_id"
                    else assignments.get(item_value, item_value)
                    if key == "assignment_id"
                    else named(item_value)
                )
                for key, item_value in value.items()
            }
        return value

    audit_targets = {"annotation.item": items, "annotation.annotation": annotations}
    return {
        "items": sorted(
            (items[i.id], i.state, i.leased, i.done, i.state_changed_at is not None)
            for i in Item.objects.filter(project=lab.project)
        ),
        "assignments": sorted(
            (*assignments[a.id], a.status, a.is_gold, a.draft, a.submitted_at is not None, a.active_ms)
            for a in Assignment.objects.all()
        ),
        "annotations": sorted(
            (
                *annotations[a.id],
                a.result,
                a.revision,
                a.review,
                a.is_gold,
                a.schema_version_id,
                a.guideline_version_id,
                a.prediction_id,
                a.active_ms,
                a.created_at is not None,
            )
            for a in Annotation.objects.all()
        ),
        "revisions": sorted(
            (
                *annotations[r.annotation_id],
                r.number,
                r.kind,
                r.author.username,
                r.result,
                r.schema_version_id,
                r.guideline_version_id,
                r.idempotency_key,
                r.request_hash
                == request_hash(
                    {"assignment": r.annotation.assignment_id, "result": r.result, "base_revision": None}
                ),
            )
            for r in AnnotationRevision.objects.all()
        ),
        "audit": [
            (
                e.action,
                e.actor_label,
                e.actor_id,
                e.organisation_id,
                e.project_id,
                e.target_type,
                audit_targets.get(e.target_type, {}).get(int(e.target_id), e.target_id),
                named(e.changes),
            )
            for e in AuditEvent.objects.filter(project_id=lab.project.id).order_by("id")
            if e.action in ("annotation.submitted", "item.state_changed")
        ],
        "quality": list(
            QualityState.objects.filter(project=lab.project).values_list(
                "pending", "generation", "full_requested"
            )
        ),
        "outbox": sorted(OutboxMessage.objects.values_list("task_name", flat=True)),
        "events": [(group, event, named(data)) for group, event, data in sent],
    }


def _scenario(lab) -> None:
    """Two annotators at overlap 2 label every item (a gold item among them, an idempotent retry, an
    active-time report), so items complete, go to review (sampled by id) and audit their states."""
    first, second = lab.annotators
    ProjectMembership.objects.filter(project=lab.project, user=first).update(gold_rate=0.0)  # no draw
    ProjectMembership.objects.filter(project=lab.project, user=second).update(gold_rate=1.0)
    for turn in range(len(lab.items) + 1):
        for user in (first, second):
            body = lab.next(user)
            assignment = body["assignment"]
            if assignment is None:
                assert body["reason"] == "queue_empty"
                continue
            key = f"{user.username}-{turn}"
            label = "negative" if turn % 2 else "positive"
            extra = {"idempotency_key": key, "active_ms": 1200, "label": label}
            response = lab.submit(user, assignment["id"], **extra)
            assert response.status_code == 201, response.content
            again = lab.submit(user, assignment["id"], **extra)
            assert again.status_code == 200, again.content  # replayed: nothing new


@pytest.mark.parametrize("review_fraction", [0.0, 0.5, 1.0])
def test_lean_and_general_paths_leave_the_same_rows(people, settings, monkeypatch, review_fraction):
    lab = make_lab(people, overlap=2, annotators=2, items=6, review_fraction=review_fraction)
    Item.objects.filter(pk=lab.items[-1].pk).update(is_gold=True)
    snapshots, handled = {}, {}
    for lean in (True, False):
        settings.LABELING_LEAN_PATH = lean
        sent = _events(monkeypatch)
        handled[lean] = _count_lean_calls(monkeypatch)
        try:
            with transaction.atomic():
                _scenario(lab)
                snapshots[lean] = _snapshot(lab, sent)
                raise _Rollback
        except _Rollback:
            pass
    lean, general = snapshots[True], snapshots[False]
    # The lean run decided every first submission and every claim itself (retries replay through the
    # general path); the other run never took it.
    assert handled[True]["submit"] == len(lean["annotations"]), handled
    assert handled[True]["next"] >= len(lean["annotations"]), handled
    assert handled[False] == {"next": 0, "submit": 0}, handled
    assert lean["annotations"], "the scenario wrote nothing"
    assert any(row[0] == "item5" and row[3] for row in lean["assignments"])  # gold was served
    for key in general:
        assert lean[key] == general[key], key
