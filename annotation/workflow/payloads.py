"""The labeling API's response bodies as plain dicts: the ONE place each shape is built.

The hot path (POST queue/next/, POST assignments/<id>/submit/) builds its answer here without DRF
serializer machinery (field binding, per-field to_representation, ReturnDict copies); the serializers
in serializers.py delegate their `to_representation` to these functions, so lists, retrieves and the
OpenAPI schema (drf-spectacular reads the serializer fields) describe exactly what is returned.
Every value is JSON-ready (datetimes as DRF writes them: ISO 8601, UTC as `Z`).

Personal-data masking (annotation/pii; docs/GOVERNANCE.md) happens here too: an item's data in
`task_item`, a stored answer's spans in `_viewable_result` (annotations and predictions), for the
`viewer` the payload is built for (None counts as an annotator). With masking off (the default) it
costs no query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse

from ..models import Annotation, Assignment, Item, Prediction, ReviewDecision
from ..pii.services import pii_masked_data, pii_masking_applies, pii_result_for_viewer
from .services.labeling import media_facts
from .services.queue import prediction_for
from .services.review import last_rejection


def iso(value: datetime | None) -> str | None:
    """A datetime as DRF's DateTimeField writes it (settings: UTC, ISO 8601)."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def task_item(item: Item, *, viewer=None, project=None) -> dict:
    """The item as an annotator sees it: data and media, no workflow internals (gold stays hidden)."""
    media_url = (
        reverse("item-media", kwargs={"project_pk": item.project_id, "item_pk": item.id})
        if (item.media or item.media_url)
        else None
    )
    return {
        "id": item.id,
        "external_id": item.external_id,
        "data": pii_masked_data(item=item, viewer=viewer, project=project),
        "meta": item.meta,
        "media_type": item.media_type,
        "media_url": media_url,
        "media": media_facts(item),
    }


def _viewable_result(result: Any, *, item_of, viewer, project) -> Any:
    """A stored answer as `viewer` may see it (pii_result_for_viewer); the item is read only when the
    masking may apply, so the default path adds no query."""
    if not isinstance(result, dict):
        return result
    if project is not None and not pii_masking_applies(project=project, user=viewer):
        return result
    return pii_result_for_viewer(item=item_of(), viewer=viewer, result=result, project=project)


def prediction_payload(prediction: Prediction, *, viewer=None, project=None) -> dict:
    return {
        "id": prediction.id,
        "item": prediction.item_id,
        "model_name": prediction.model_name,
        "model_version": prediction.model_version,
        "score": prediction.score,
        "result": _viewable_result(
            prediction.result, item_of=lambda: prediction.item, viewer=viewer, project=project
        ),
        "created_at": iso(prediction.created_at),
    }


def annotation_payload(annotation: Annotation, *, viewer=None, project=None) -> dict:
    """An annotation; its annotator, schema and guideline versions are read through their relations
    (select_related them, or have them in hand as submit does)."""
    guidelines = annotation.guideline_version
    return {
        "id": annotation.id,
        "item": annotation.item_id,
        "annotator": annotation.annotator.username,
        "result": _viewable_result(
            annotation.result, item_of=lambda: annotation.item, viewer=viewer, project=project
        ),
        "revision": annotation.revision,
        "schema_version": annotation.schema_version.version,
        "guideline_version": guidelines.version if guidelines is not None else None,
        "review": annotation.review,
        "prediction": annotation.prediction_id,
        "lead_ms": annotation.lead_ms,
        "active_ms": annotation.active_ms,
        "created_at": iso(annotation.created_at),
        "updated_at": iso(annotation.updated_at),
    }


def _assignment_annotation(assignment: Assignment) -> Annotation | None:
    if assignment.status not in (Assignment.Status.SUBMITTED, Assignment.Status.CORRECTION):
        return None  # leased, skipped or expired assignments have no annotation
    if Assignment.annotation.is_cached(assignment):  # lists: selectors loaded it (no query per row)
        try:
            return assignment.annotation
        except Annotation.DoesNotExist:
            return None
    return (
        Annotation.objects.select_related("annotator", "schema_version", "guideline_version")
        .filter(assignment=assignment)
        .first()
    )


def _correction(assignment: Assignment, annotation: Annotation | None) -> dict | None:
    if assignment.status != Assignment.Status.CORRECTION or annotation is None:
        return None
    decision: ReviewDecision | None
    if hasattr(annotation, "rejections"):
        decision = annotation.rejections[0] if annotation.rejections else None
    else:
        decision = last_rejection(annotation)
    if decision is None:
        return None
    return {
        "reason": decision.reason,
        "comment": decision.comment,
        "reviewer": decision.reviewer.username,
        "at": iso(decision.created_at),
    }


def _offered_prediction(item: Item) -> Prediction | None:
    offered = getattr(item, "offered_predictions", None)  # lists: selectors prefetched them
    if offered is None:
        return prediction_for(item)
    return offered[0] if offered else None


def assignment_payload(assignment: Assignment, *, schema=None, viewer=None, project=None) -> dict:
    """An assignment with its item, schema, annotation, correction and offered prediction."""
    annotation = _assignment_annotation(assignment)
    prediction = _offered_prediction(assignment.item)
    return {
        "id": assignment.id,
        "status": assignment.status,
        "item": task_item(assignment.item, viewer=viewer, project=project),
        "leased_at": iso(assignment.leased_at),
        "lease_expires_at": iso(assignment.lease_expires_at),
        "draft": assignment.draft,
        "draft_saved_at": iso(assignment.draft_saved_at),
        "active_ms": assignment.active_ms,
        "schema": {"version": schema.version, "definition": schema.definition} if schema else None,
        "annotation": annotation_payload(annotation, viewer=viewer, project=project) if annotation else None,
        "correction": _correction(assignment, annotation),
        "prediction": prediction_payload(prediction, viewer=viewer, project=project) if prediction else None,
    }


def next_item_payload(outcome: Any, *, viewer=None, project=None) -> dict:
    """POST queue/next/'s body (also under `next` in a submit-and-next response)."""
    assignment = (
        assignment_payload(outcome.assignment, schema=outcome.schema, viewer=viewer, project=project)
        if outcome.assignment
        else None
    )
    return {"assignment": assignment, "reason": outcome.reason, "resumed": outcome.resumed}
