"""Quality pages: the dashboard (a shell; the data comes from the quality API) and gold standards
(server-rendered forms, work without JavaScript). Thin: one access check, one service call."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from annotation.selectors.neardup import item_preview
from core.exceptions import DomainError
from projects import access
from projects.access import ProjectAction
from projects.views import _project_context

from . import selectors, services


def _can_manage(request, project) -> bool:
    role = access.project_role_of(user=request.user, project=project)
    return role in access.PROJECT_PERMISSIONS[ProjectAction.MANAGE_WORKFLOW]


@login_required
def quality_dashboard(request, project_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.VIEW_QUALITY
    )
    context = _project_context(
        request,
        project,
        api_base=f"/api/projects/{project.id}/",
        feed_path=f"/ws/projects/{project.id}/",
    )
    context["can_manage"] = _can_manage(request, project)
    return render(request, "quality/dashboard.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def gold_page(request, project_id: int):
    """Gold items: their reference answers and how annotators do on them; make an item gold with a
    reference answer (JSON, validated like an annotation) or with its consensus; unmark one."""
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.MANAGE_WORKFLOW
    )
    form = {"item": request.GET.get("item", ""), "result": ""}
    issues: list[dict] = []
    if request.method == "POST":
        action = request.POST.get("action", "")
        raw_item = request.POST.get("item", "").strip()
        form = {"item": raw_item, "result": request.POST.get("result", "")}
        try:
            item_id = int(raw_item) if raw_item.isdigit() else 0
            if not item_id:
                raise DomainError("invalid_item", "Give the item's number (its id in the Data tab).")
            if action == "remove":
                services.gold_remove(project=project, actor=request.user, item_id=item_id)
                messages.success(request, f"Item {item_id} is no longer a gold item.")
            elif action == "promote":
                services.gold_promote(project=project, actor=request.user, item_id=item_id)
                messages.success(
                    request, f"Item {item_id} is now gold, with its consensus as the reference answer."
                )
            else:
                try:
                    result = json.loads(form["result"] or "null")
                except ValueError as error:
                    raise DomainError(
                        "invalid_json", f"The reference answer is not valid JSON: {error}."
                    ) from None
                services.gold_set(project=project, actor=request.user, item_id=item_id, result=result)
                messages.success(request, f"Item {item_id} is now gold with your reference answer.")
            return redirect(request.path)
        except DomainError as error:
            messages.error(request, error.message)
            issues = (error.extra or {}).get("errors", [])
    flagged = selectors.flagged_gold(project=project)
    golds = [
        {
            "gold": gold,
            "preview": item_preview(gold.item.data),
            "reference": json.dumps(gold.result, ensure_ascii=False, indent=1),
            "flags": flagged.get(gold.item_id, []),
        }
        for gold in selectors.gold_list(project=project).select_related("item")[:500]
    ]
    context = _project_context(request, project, golds=golds, form=form, issues=issues, can_manage=True)
    return render(request, "quality/gold.html", context)
