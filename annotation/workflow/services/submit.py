"""Submissions and what follows them: revisions, idempotent replays, the item's state after annotation
and after reviews."""

import json
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from annotation import events
from core.audit import audit_actor
from core.exceptions import DomainError
from projects.labeling import labeling_settings
from projects.models import (
    Project,
)
from projects.services import project_ensure_active
from quality.scheduling import (
    QUALITY_CLAIM_SQL,
    QUALITY_STATE_EXISTS_SQL,
    quality_claim_params,
    quality_schedule,
    quality_schedule_claimed,
)

from ...models import Annotation, AnnotationRevision, Assignment, Item, Prediction
from ...pii.services import pii_result_to_original
from .. import states
from .labeling import (
    LATEST_VERSIONS_SQL,
    RowReader,
    Submitted,
    _announce,
    _audit,
    _bounded_active,
    _ensure_workable,
    _own_assignment,
    checked_versions,
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
    if connection.vendor == "postgresql" and settings.LABELING_LEAN_PATH and prediction_id is None:
        lean = _submit_lean(
            project=project,
            annotator=annotator,
            assignment_id=assignment_id,
            result=result,
            idempotency_key=idempotency_key,
            base_revision=base_revision,
            active_ms=active_ms,
            body_hash=body_hash,
        )
        if lean is not None:
            return lean
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


def _check_key(key: str) -> None:
    if not key or len(key) > 100:
        raise DomainError("invalid_idempotency_key", "An idempotency key is 1 to 100 characters.")


def _replay(annotator, key: str, body_hash: str) -> Submitted | None:
    _check_key(key)
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


# --- the lean path (PostgreSQL) -----------------------------------------------------------------------
# A first submission of a live lease without a prediction (the common case) in three statements: lock
# the item and the assignment; read the idempotency key's earlier use, the newest versions and whether
# the item has an annotation flagged for review; then one statement writes the annotation, its
# revision, the assignment, the item's counters and state, the audit rows and the quality claim. The
# decisions are the general path's (same order of refusals, same states, same audit rows and events);
# everything else (corrections, expired leases, predictions, replays) goes the general way.

_ITEMS = RowReader(Item, "i.")
_LEAN_LOCK = f"""
SELECT a.annotator_id, a.status, a.is_gold, a.leased_at, a.active_ms, {_ITEMS.columns}
FROM annotation_item i JOIN annotation_assignment a ON a.item_id = i.id
WHERE a.id = %(assignment)s AND a.project_id = %(project)s AND i.project_id = %(project)s
FOR UPDATE OF i, a
"""  # noqa: S608 - column names from the model
_LEAN_CHECKS = f"""
SELECT
    (SELECT r.request_hash FROM annotation_annotationrevision r
     WHERE r.author_id = %(user)s AND r.idempotency_key = %(key)s LIMIT 1) AS replay_hash,
    {LATEST_VERSIONS_SQL},
    EXISTS (SELECT 1 FROM annotation_annotation x
            WHERE x.item_id = %(item)s AND NOT x.is_gold AND x.review = 'pending') AS flagged
"""  # noqa: S608
_LEAN_WRITE = f"""
WITH ann AS (
    INSERT INTO annotation_annotation (project_id, item_id, assignment_id, annotator_id, result, revision,
        schema_version_id, guideline_version_id, is_gold, review, prediction_id, lead_ms, active_ms,
        created_at, updated_at)
    VALUES (%(project)s, %(item)s, %(assignment)s, %(user)s, %(result)s::jsonb, 1, %(schema)s, %(guidelines)s,
        %(is_gold)s, %(review)s, NULL, %(lead_ms)s, %(active_ms)s, %(now)s, %(now)s)
    RETURNING id
), rev AS (
    INSERT INTO annotation_annotationrevision (annotation_id, number, kind, author_id, result,
        schema_version_id, guideline_version_id, idempotency_key, request_hash, created_at)
    SELECT ann.id, 1, 'submit', %(user)s, %(result)s::jsonb, %(schema)s, %(guidelines)s, %(key)s,
        %(body_hash)s, %(now)s
    FROM ann
), asg AS (
    UPDATE annotation_assignment SET status = 'submitted', submitted_at = %(now)s, draft = NULL,
        active_ms = %(active_ms)s
    WHERE id = %(assignment)s
), itm AS (
    UPDATE annotation_item SET leased = %(leased)s, done = %(done)s, state = %(state)s,
        state_changed_at = CASE WHEN %(closing)s THEN %(now)s ELSE state_changed_at END
    WHERE id = %(item)s AND NOT %(is_gold)s
), others AS (
    UPDATE annotation_annotation SET review = 'pending'
    WHERE item_id = %(item)s AND NOT is_gold AND review = 'not_required' AND %(to_review)s
), audit AS (
    INSERT INTO core_auditevent (created_at, actor_id, actor_label, organisation_id, project_id, action,
        target_type, target_id, changes)
    SELECT %(now)s, %(actor_id)s, %(actor_label)s, %(organisation)s, %(project)s, v.action, v.target_type,
        COALESCE(v.target_id, ann.id::text), v.changes::jsonb
    FROM ann, (VALUES
        (1, 'item.state_changed', 'annotation.item', %(item_text)s, %(state_changes)s),
        (2, 'annotation.submitted', 'annotation.annotation', NULL, %(submit_changes)s)
    ) AS v (n, action, target_type, target_id, changes)
    WHERE v.n >= %(first_audit)s
    ORDER BY v.n
), quality AS ({QUALITY_CLAIM_SQL})
SELECT (SELECT id FROM ann), EXISTS (SELECT 1 FROM quality), {QUALITY_STATE_EXISTS_SQL}
"""  # noqa: S608


def _submit_lean(
    *,
    project: Project,
    annotator,
    assignment_id: int,
    result: Any,
    idempotency_key: str | None,
    base_revision: int | None,
    active_ms: int,
    body_hash: str,
) -> Submitted | None:
    """annotation_submit's common case (see above), or None to let the general path decide."""
    params: dict[str, Any] = {"assignment": assignment_id, "project": project.id, "user": annotator.pk}
    with connection.cursor() as cursor:
        cursor.execute(_LEAN_LOCK, params)
        row = cursor.fetchone()
        if row is None:
            raise DomainError("not_found", "Not found.", status_code=404)
        annotator_id, status, is_gold, leased_at, held_ms, *item_values = row
        if annotator_id != annotator.pk:
            raise DomainError(
                "not_your_assignment",
                "This item is leased to someone else; ask for your next item.",
                status_code=403,
            )
        if status != Assignment.Status.LEASED:
            return None  # a correction, an expired lease or a refusal: the general path (rows stay locked)
        if idempotency_key is not None:
            _check_key(idempotency_key)
        item = _ITEMS.instance(item_values)
        params.update(key=idempotency_key, item=item.id)
        cursor.execute(_LEAN_CHECKS, params)
        replay_hash, guideline_id, schema_id, acknowledged, flagged = cursor.fetchone()
    if replay_hash is not None:
        return _replay(annotator, idempotency_key or "", body_hash)
    project_ensure_active(project)
    if item.state != Item.State.OPEN and not is_gold:
        raise DomainError("item_closed", "This item no longer takes annotations.", status_code=409)
    guidelines, schema = checked_versions(guideline_id, schema_id, acknowledged)
    result = pii_result_to_original(
        project=project, user=annotator, item=item, definition=schema.definition, result=result
    )
    validate_result(schema, item, result)
    if base_revision not in (None, 0):
        raise DomainError(
            "stale_revision",
            "This item has no annotation of yours yet; submit without a base revision.",
            status_code=409,
            extra={"revision": 0},
        )

    now = timezone.now()
    active = held_ms + _bounded_active(active_ms)
    previous_state = item.state
    closing = not is_gold and item.done + 1 >= item.target
    to_review = False
    if closing:
        to_review = flagged or states.sampled_for_review(item.id, labeling_settings(project).review_fraction)
        target = states.IN_REVIEW if to_review else states.COMPLETED
        states.ensure_transition(previous_state, target)
        why = "annotated; sampled for review" if to_review else "annotated"
        item.state, item.state_changed_at = target, now
    if not is_gold:
        item.leased, item.done = item.leased - 1, item.done + 1
    review = Annotation.Review.PENDING if to_review else Annotation.Review.NOT_REQUIRED
    actor_id, actor_label = audit_actor(annotator)
    serialized = json.dumps(result)
    params.update(
        result=serialized,
        schema=schema.id,
        guidelines=guidelines.id if guidelines is not None else None,
        is_gold=is_gold,
        review=review,
        lead_ms=max(0, int((now - leased_at).total_seconds() * 1000)),
        active_ms=active,
        now=now,
        body_hash=body_hash,
        leased=item.leased,
        done=item.done,
        state=item.state,
        closing=closing,
        to_review=to_review,
        actor_id=actor_id,
        actor_label=actor_label,
        organisation=project.organisation_id,
        item_text=str(item.id),
        state_changes=json.dumps({"state": [previous_state, item.state], "why": why}) if closing else "{}",
        submit_changes=json.dumps(
            {"item_id": item.id, "revision": 1, "schema_version": schema.version, "correction": False}
        ),
        first_audit=1 if closing else 2,
        **quality_claim_params(project_id=project.id),
    )
    with connection.cursor() as cursor:
        cursor.execute(_LEAN_WRITE, params)
        annotation_id, quality_claimed, quality_exists = cursor.fetchone()
    annotation = Annotation(
        id=annotation_id,
        project=project,
        item=item,
        assignment_id=assignment_id,
        annotator=annotator,
        result=result,
        revision=1,
        schema_version=schema,
        guideline_version=guidelines,
        is_gold=is_gold,
        review=review,
        prediction=None,
        lead_ms=params["lead_ms"],
        active_ms=active,
        created_at=now,
        updated_at=now,
    )
    annotation._state.adding, annotation._state.db = False, connection.alias
    if closing:
        _announce(
            project.id,
            events.ITEM_STATE_CHANGED,
            item_id=item.id,
            state=item.state,
            previous=previous_state,
            why=why,
        )
    _announce(
        project.id,
        events.ANNOTATION_SUBMITTED,
        item_id=item.id,
        annotation_id=annotation_id,
        revision=1,
        item_state=item.state,
    )
    quality_schedule_claimed(project_id=project.id, claimed=quality_claimed, exists=quality_exists)
    return Submitted(annotation)
