"""The item page and gold from the UI (from consensus in one click, or by answering the item in the
labeling widget). Quality's, because the page composes annotation's item with consensus and gold.
URLs (quality/urls.py): /projects/<id>/items/<item>/ (project-item) and .../gold/, .../gold/promote/,
.../gold/remove/. Thin: access check, then a selector or one service."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotation.models import Item
from annotation.pii.selectors import pii_item_view
from annotation.workflow.serializers import TaskItemSerializer
from annotation.workflow.views import _page_config
from core.exceptions import DomainError
from projects import access
from projects.access import ProjectAction
from projects.views import _project_context

from ..services import gold_promote, gold_remove
from .selectors import item_detail


@login_required
@require_GET
def item_page(request, project_id: int, item_id: int):
    """Everything about one item (quality.item_page.selectors.item_detail), for managers and reviewers."""
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.VIEW_ITEMS
    )
    detail = item_detail(project=project, item_id=item_id, user=request.user)
    controls = detail["controls"]
    side_by_side = [
        {
            "control": control,
            "answers": [a["text"].get(control["name"], "—") for a in detail["annotations"]],
            "consensus": next((c for c in detail["consensus"] if c["control"] == control["name"]), None),
            "gold": (detail["gold"] or {}).get("text", {}).get(control["name"]),
        }
        for control in controls
    ]
    pii = _personal_data(request, project, item_id)
    segments = (pii or {}).get("fields") or {}
    context = _project_context(
        request,
        project,
        detail=detail,
        side_by_side=side_by_side,
        text_fields=[(*field, segments.get(field[0])) for field in _data_fields(detail["data"])],
        can_manage_workflow=access.can_do_in_project(
            user=request.user, project=project, action=ProjectAction.MANAGE_WORKFLOW
        ),
        has_consensus=any(c["answer"] is not None for c in detail["consensus"]),
        pii=pii,
        governance=_governance(request, project, item_id),
        provenance_terms=[
            (key, ", ".join(map(str, value)) if isinstance(value, list) else value)
            for key, value in ((detail.get("provenance") or {}).get("terms") or {}).items()
        ],
    )
    return render(request, "annotation/item_detail.html", context)


def _personal_data(request, project, item_id: int) -> dict | None:
    """Findings highlighted in the data, with confirm/dismiss: for those who manage personal data."""
    if not access.can_do_in_project(
        user=request.user, project=project, action=ProjectAction.MANAGE_PERSONAL_DATA
    ):
        return None
    return pii_item_view(item=Item.objects.get(project=project, pk=item_id))


def _governance(request, project, item_id: int) -> dict:
    """The item's consent and licence, their change history and whether the viewer may edit them."""
    from annotation.items.consent import item_governance_history

    values = Item.objects.filter(project=project, pk=item_id).values("consent", "licence").first() or {}
    return {
        **values,
        "choices": Item.Consent.choices,
        "history": item_governance_history(project=project, item_id=item_id, limit=20),
        "can_edit": not project.is_archived
        and access.can_do_in_project(user=request.user, project=project, action=ProjectAction.MANAGE_CONSENT),
    }


def _data_fields(data) -> list[tuple[str, str, bool]]:
    """(key, shown value, is plain text) per top-level field; structures as indented JSON (escaped)."""
    if not isinstance(data, dict):
        return [("data", json.dumps(data, ensure_ascii=False, indent=1), False)]
    return [
        (key, value, True)
        if isinstance(value, str)
        else (key, json.dumps(value, ensure_ascii=False, indent=1), False)
        for key, value in data.items()
    ]


@login_required
@require_POST
def item_gold_promote(request, project_id: int, item_id: int):
    """ "Set as gold from consensus": one click on the item page."""
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.MANAGE_WORKFLOW
    )
    try:
        gold_promote(project=project, actor=request.user, item_id=item_id)
    except DomainError as error:
        if error.status_code == 404:
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, "This item is gold now, with its consensus answer as the reference.")
    return redirect("project-item", project.id, item_id)


@login_required
@require_POST
def item_gold_remove(request, project_id: int, item_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.MANAGE_WORKFLOW
    )
    gold_remove(project=project, actor=request.user, item_id=item_id)
    messages.success(request, "This item is no longer gold; its reference answer was deleted.")
    return redirect("project-item", project.id, item_id)


@login_required
@require_GET
def item_gold_author(request, project_id: int, item_id: int):
    """ "Set as gold" by answering the item in the labeling widget itself: the labeling workspace in a
    gold-authoring mode that saves the answer as the item's gold reference (PUT /api/.../gold/<item>/)."""
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.MANAGE_WORKFLOW
    )
    detail = item_detail(project=project, item_id=item_id, user=request.user)
    config = _page_config(request, project)
    config["gold"] = {
        "item": TaskItemSerializer(
            Item.objects.get(project=project, pk=item_id), context={"viewer": request.user}
        ).data,
        "key": detail["key"],
        "result": (detail["gold"] or {}).get("result") or {},
        "itemUrl": reverse("project-item", args=[project.id, item_id]),
    }
    context = _project_context(request, project, labeling_config=config, detail=detail)
    return render(request, "annotation/item_gold.html", context)
