"""Everything about one item, for its page and `GET /api/projects/<id>/items/<item>/detail/`: its
data or media, every annotation side by side, consensus per control with its confidence, predictions,
review decisions, the gold reference, revision history and audit events. It composes annotation's
item with quality's consensus and gold, so it lives in quality (the higher layer).

A fixed number of queries whatever the number of annotations (tests/annotation/test_item_detail.py).
Parts a role may not see are left out: annotations and decisions need VIEW_ANNOTATIONS, consensus
VIEW_QUALITY, the gold reference answer MANAGE_WORKFLOW (reviewers see only that the item is gold).
"""

from typing import Any

from django.db.models import Q
from django.urls import reverse

from annotation.items.answer_text import answer_text
from annotation.items.keys import item_key
from annotation.models import Annotation, AnnotationRevision, Item, Prediction, ReviewDecision
from annotation.pii.services import pii_masked_data, pii_result_for_viewer
from core.exceptions import NotFound
from core.models import AuditEvent
from projects import selectors as project_selectors
from projects.access import PROJECT_PERMISSIONS, ProjectAction, project_role_of
from projects.models import Project

from ..models import ConsensusResult, GoldStandard

MAX_EVENTS = 100


def person(user) -> dict[str, Any]:
    """A user as the item page names them: imported annotators by their imported name."""
    imported = getattr(user, "imported_annotator", None) if user is not None else None
    if user is None:
        return {"id": None, "name": "system", "imported": False}
    if imported is not None:
        return {
            "id": user.id,
            "name": f"{imported.source} annotator {imported.external_ref}",
            "imported": True,
        }
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return {"id": user.id, "name": full or user.get_username(), "imported": False}


def _texts(definition: dict, result: Any, data: Any) -> dict[str, str]:
    if not isinstance(result, dict):
        return {}
    controls = {c.get("name"): c for c in definition.get("controls", [])}
    fields = list(definition.get("fields", []))
    return {name: answer_text(controls.get(name), answer, data, fields) for name, answer in result.items()}


def item_detail(*, project: Project, item_id: int, user) -> dict[str, Any]:
    """The item page's data. NotFound when the item is not in `project` (the caller checked VIEW_ITEMS)."""
    item = (
        Item.objects.filter(project=project, pk=item_id)
        .select_related("provenance_source")  # the same query: provenance on the item page (#18)
        .defer("search_text")
        .first()
    )
    if item is None:
        raise NotFound()
    role = project_role_of(user=user, project=project)
    may = {
        action: role in PROJECT_PERMISSIONS[action]
        for action in (
            ProjectAction.VIEW_ANNOTATIONS,
            ProjectAction.VIEW_QUALITY,
            ProjectAction.MANAGE_WORKFLOW,
        )
    }
    schema = project_selectors.schema_latest(project=project)
    definition = schema.definition if schema else {"fields": [], "controls": []}
    item.project = project  # the masking reads the project's settings: no query per call
    data = pii_masked_data(item=item, viewer=user)  # placeholders where the project masks for this role

    def seen(result: Any) -> Any:  # answers in the masked text's offsets, for the same viewers
        return pii_result_for_viewer(item=item, viewer=user, result=result)

    detail: dict[str, Any] = {
        "id": item.id,
        "key": item_key(item.external_id, item.checksum, item.id),
        "external_id": item.external_id,
        "data": data,
        "meta": item.meta,
        "media": (
            {
                "type": item.media_type,
                "url": reverse("item-media", kwargs={"project_pk": project.id, "item_pk": item.id}),
            }
            if item.media or item.media_url
            else None
        ),
        "media_removed_at": item.media_removed_at,  # a retention rule deleted the stored file
        "state": item.state,
        "done": item.done,
        "target": item.target,
        "priority": item.priority,
        "pool": item.pool,
        "split": item.split,
        "excluded": item.excluded,
        "is_gold": item.is_gold,
        "source": item.source,
        "source_ref": item.source_ref,
        "provenance": (
            {
                "id": item.provenance_source.id,
                "name": item.provenance_source.name,
                "kind": item.provenance_source.kind,
                "terms": item.provenance_source.terms,
            }
            if item.provenance_source is not None
            else None
        ),
        "created_at": item.created_at,
        "schema_version": schema.version if schema else None,
        "controls": [
            {"name": c.get("name"), "title": c.get("title") or c.get("name"), "type": c.get("type")}
            for c in definition.get("controls", [])
        ],
        "annotations": [],
        "decisions": [],
        "revisions": [],
        "consensus": [],
        "predictions": [],
        "gold": None,
        "events": [],
    }
    targets = Q(target_type="annotation.item", target_id=str(item.id))
    if may[ProjectAction.VIEW_ANNOTATIONS]:
        annotations = list(
            Annotation.objects.filter(item=item)
            .select_related("annotator__imported_annotator", "assignment")
            .order_by("id")
        )
        detail["annotations"] = [
            {
                "id": a.id,
                "annotator": person(a.annotator),
                "submitted_at": a.assignment.submitted_at or a.created_at,
                "updated_at": a.updated_at,
                "revision": a.revision,
                "review": a.review,
                "review_label": Annotation.Review(a.review).label
                if a.review in Annotation.Review.values
                else a.review,
                "is_gold": a.is_gold,
                "result": seen(a.result),
                "text": _texts(definition, seen(a.result), data),
            }
            for a in annotations
        ]
        ids = [a.id for a in annotations]
        if ids:
            targets |= Q(target_type="annotation.annotation", target_id__in=[str(i) for i in ids])
        detail["revisions"] = [
            {
                "annotation_id": r.annotation_id,
                "number": r.number,
                "kind": r.kind,
                "author": person(r.author),
                "created_at": r.created_at,
                "text": _texts(definition, seen(r.result), data),
            }
            for r in AnnotationRevision.objects.filter(annotation__item=item)
            .select_related("author__imported_annotator")
            .order_by("annotation_id", "number")
        ]
        detail["decisions"] = [
            {
                "annotation_id": d.annotation_id,
                "reviewer": person(d.reviewer),
                "decision": d.decision,
                "revision": d.revision,
                "reason": d.reason,
                "comment": d.comment,
                "created_at": d.created_at,
            }
            for d in ReviewDecision.objects.filter(item=item)
            .select_related("reviewer__imported_annotator")
            .order_by("id")
        ]
        detail["predictions"] = [
            {
                "model_name": p.model_name,
                "model_version": p.model_version,
                "score": p.score,
                "result": seen(p.result),
                "text": _texts(definition, seen(p.result), data),
                "created_at": p.created_at,
            }
            for p in Prediction.objects.filter(item=item).order_by("-id")
        ]
    if may[ProjectAction.VIEW_QUALITY]:
        controls = {c.get("name"): c for c in definition.get("controls", [])}
        fields = list(definition.get("fields", []))
        detail["consensus"] = [
            {
                "control": c.control,
                "answer": seen({c.control: c.answer})[c.control],
                "text": answer_text(
                    controls.get(c.control), seen({c.control: c.answer})[c.control], data, fields
                ),
                "confidence": c.confidence,
                "agreement": c.agreement,
                "annotations": c.annotations,
                "method": c.method,
            }
            for c in ConsensusResult.objects.filter(project=project, item=item).order_by("control")
        ]
    if item.is_gold or may[ProjectAction.MANAGE_WORKFLOW]:
        gold = GoldStandard.objects.filter(item=item).select_related("created_by__imported_annotator").first()
        if gold is not None:
            targets |= Q(target_type="quality.goldstandard", target_id=str(gold.id))
            detail["gold"] = {
                "source": gold.source,
                "created_by": person(gold.created_by) if gold.created_by_id else None,
                "updated_at": gold.updated_at,
                **(
                    {"result": seen(gold.result), "text": _texts(definition, seen(gold.result), data)}
                    if may[ProjectAction.MANAGE_WORKFLOW]
                    else {}
                ),
            }
    detail["events"] = [
        {
            "id": e.id,
            "created_at": e.created_at,
            "actor": e.actor_label,
            "action": e.action,
            "target": e.target_type,
            "changes": e.changes,
        }
        for e in AuditEvent.objects.filter(targets, project_id=project.id).order_by("-id")[:MAX_EVENTS]
    ]
    return detail
