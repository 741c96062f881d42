"""Submissions and what follows them: revisions, idempotent replays, the item's state after annotation
and after reviews."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from annotation import events
from core.exceptions import DomainError
from projects.labeling import labeling_settings
from projects.models import (
    Project,
)
from projects.services import project_ensure_active
from quality.scheduling import quality_schedule

from ...models import Annotation, AnnotationRevision, Assignment, Item, Prediction
from ...pii.services import pii_result_to_original
from .. import states
from .labeling import (
    Submitted,
    _announce,
    _audit,
    _bounded_active,
    _ensure_workable,
    _own_assignment,
    ensure_guidelines_acknowledged,
    latest_schema,
    request_hash,
    validate_result,
)


@transaction.atomic
def annotation_submit(
    *,
    project: Project,
    annotator,
    assignment_id: int,
    result: Any,
    idempotency_key: str | None = None,
    base_revision: int | None = None,
    prediction_id: int | None = None,
    active_ms: int = 0,
) -> Submitted:
    """Submit (or, for a correction, resubmit) the annotator's answer for a leased item.

    Idempotent by key: a retried request with the same key and body returns the first result and
    writes nothing; the same key with another body is 409. The answer is validated against the
    newest schema version and records it and the guideline version. When the item's last slot is
    submitted it moves to review (if sampled) or completed.
    """
    body_hash = request_hash({"assignment": assignment_id, "result": result, "base_revision": base_revision})
    assignment = _own_assignment(project, annotator, assignment_id, lock_item=True)
    if idempotency_key is not None:
        # Checked under the item's lock, so a retry racing the first request waits for it and replays.
        replay = _replay(annotator, idempotency_key, body_hash)
        if replay is not None:
            return replay
    item = assignment.item
    project_ensure_active(project)
    correction = assignment.status == Assignment.Status.CORRECTION
    if not correction:
        reclaimed = assignment.status == Assignment.Status.EXPIRED and not assignment.is_gold
        _ensure_workable(assignment, project)
        item.leased += 1 if reclaimed else 0  # the slot it took back (the row is locked: this is exact)
        if item.state != Item.State.OPEN and not assignment.is_gold:
            raise DomainError("item_closed", "This item no longer takes annotations.", status_code=409)
    guidelines = ensure_guidelines_acknowledged(project, annotator)
    schema = latest_schema(project)
    result = pii_result_to_original(
        project=project, user=annotator, item=item, definition=schema.definition, result=result
    )
    validate_result(schema, item, result)
    prediction = None
    if prediction_id is not None:
        prediction = Prediction.objects.filter(pk=prediction_id, item_id=item.id).first()
        if prediction is None:
            raise DomainError("unknown_prediction", "That prediction is not one of this item's.")
    now = timezone.now()
    active = assignment.active_ms + _bounded_active(active_ms)

    if correction:
        annotation = Annotation.objects.select_for_update(of=("self",)).get(assignment=assignment)
        if base_revision != annotation.revision:
            raise DomainError(
                "stale_revision",
                f"The annotation is at revision {annotation.revision}; you edited revision {base_revision}. "
                "Reload it and apply your change again.",
                status_code=409,
                extra={"revision": annotation.revision},
            )
        annotation.revision += 1
        _append_revision(
            annotation,
            AnnotationRevision.Kind.CORRECTION,
            annotator,
            result,
            schema,
            guidelines,
            idempotency_key,
            body_hash,
        )
        annotation.result = result
        annotation.schema_version = schema
        annotation.guideline_version = guidelines
        annotation.review = Annotation.Review.PENDING
        annotation.active_ms = active
        annotation.save()
        assignment.status = Assignment.Status.SUBMITTED
        assignment.draft = None
        assignment.save(update_fields=["status", "draft"])
        _item_after_reviews(project, item, annotator)
    else:
        if base_revision not in (None, 0):
            raise DomainError(
                "stale_revision",
                "This item has no annotation of yours yet; submit without a base revision.",
                status_code=409,
                extra={"revision": 0},
            )
        annotation = Annotation.objects.create(
            project=project,
            item=item,
            assignment=assignment,
            annotator=annotator,
            result=result,
            revision=1,
            schema_version=schema,
            guideline_version=guidelines,
            is_gold=assignment.is_gold,
            prediction=prediction,
            lead_ms=max(0, int((now - assignment.leased_at).total_seconds() * 1000)),
            active_ms=active,
        )
        _append_revision(
            annotation,
            AnnotationRevision.Kind.SUBMIT,
            annotator,
            result,
            schema,
            guidelines,
            idempotency_key,
            body_hash,
        )
        assignment.status = Assignment.Status.SUBMITTED
        assignment.submitted_at = now
        assignment.draft = None
        assignment.active_ms = active
        assignment.save(update_fields=["status", "submitted_at", "draft", "active_ms"])
        if not assignment.is_gold:
            # The item's row is locked by this transaction, so the values in hand are current.
            item.leased, item.done = item.leased - 1, item.done + 1
            Item.objects.filter(pk=item.id).update(leased=item.leased, done=item.done)
            if item.done >= item.target:
                _close_annotation_phase(project, item, annotator)

    _audit(
        project,
        annotator,
        "annotation.submitted",
        annotation,
        {
            "item_id": item.id,
            "revision": annotation.revision,
            "schema_version": schema.version,
            "correction": correction,
        },
    )
    _announce(
        project.id,
        events.ANNOTATION_SUBMITTED,
        item_id=item.id,
        annotation_id=annotation.id,
        revision=annotation.revision,
        item_state=item.state,
    )
    quality_schedule(project_id=project.id)  # agreement, consensus, gold scores: recomputed after commit
    return Submitted(annotation)


def _replay(annotator, key: str, body_hash: str) -> Submitted | None:
    if not key or len(key) > 100:
        raise DomainError("invalid_idempotency_key", "An idempotency key is 1 to 100 characters.")
    revision = (
        AnnotationRevision.objects.filter(author=annotator, idempotency_key=key)
        .select_related("annotation")
        .first()
    )
    if revision is None:
        return None
    if revision.request_hash != body_hash:
        raise DomainError(
            "idempotency_key_reused",
            "This idempotency key was used for a different request; use a new key for new work.",
            status_code=409,
        )
    return Submitted(revision.annotation, replayed=True)


def _append_revision(
    annotation, kind, author, result, schema, guidelines, key, body_hash
) -> AnnotationRevision:
    return AnnotationRevision.objects.create(
        annotation=annotation,
        number=annotation.revision,
        kind=kind,
        author=author,
        result=result,
        schema_version=schema,
        guideline_version=guidelines,
        idempotency_key=key,
        request_hash=body_hash,
    )


def set_item_state(project: Project, item: Item, target: str, actor, *, why: str) -> None:
    """Move `item` (locked by the caller) along the state machine; audited and announced."""
    source = item.state
    if source == target:
        return
    states.ensure_transition(source, target)
    item.state = target
    item.state_changed_at = timezone.now()
    Item.objects.filter(pk=item.pk).update(state=target, state_changed_at=item.state_changed_at)
    _audit(project, actor, "item.state_changed", item, {"state": [source, target], "why": why})
    _announce(project.id, events.ITEM_STATE_CHANGED, item_id=item.pk, state=target, previous=source, why=why)


def _close_annotation_phase(project: Project, item: Item, actor) -> None:
    """All slots submitted: sample for review or complete."""
    fraction = labeling_settings(project).review_fraction
    flagged = Annotation.objects.filter(item=item, is_gold=False, review=Annotation.Review.PENDING).exists()
    if flagged or states.sampled_for_review(item.pk, fraction):
        Annotation.objects.filter(item=item, is_gold=False, review=Annotation.Review.NOT_REQUIRED).update(
            review=Annotation.Review.PENDING
        )
        set_item_state(project, item, states.IN_REVIEW, actor, why="annotated; sampled for review")
    else:
        set_item_state(project, item, states.COMPLETED, actor, why="annotated")


def _item_after_reviews(project: Project, item: Item, actor) -> None:
    reviews = list(
        Annotation.objects.filter(item=item, is_gold=False)
        .exclude(review=Annotation.Review.NOT_REQUIRED)
        .values_list("review", flat=True)
    )
    target = states.state_after_reviews(reviews)
    set_item_state(
        project, item, target, actor, why="review decided" if target != states.IN_REVIEW else "corrected"
    )
