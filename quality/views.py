"""Quality pages: the dashboard (a shell; the data comes from the quality API) and gold standards
(server-rendered forms, work without JavaScript). Thin: one access check, one service call."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from annotation.items.display import item_preview
from core import parsers
from core.exceptions import DomainError
from projects import access
from projects.access import ProjectAction
from projects.views import _project_context

from . import selectors


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
    from . import services

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
            item_id = int(raw_item) if raw_item.isdecimal() else 0
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
                    result = parsers.loads(form["result"] or "null")  # refuses deep/NUL/infinite
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


_NUMBER_KNOBS = (
    ("escalate_below", "Escalate items whose agreement is below", "0 to 1; 0 or empty: never", float),
    ("min_gold_accuracy", "Pause annotators whose gold accuracy is below", "0 to 1", float),
    ("min_gold_answers", "… after at least this many gold answers", "whole number", int),
    ("new_annotator_gold_answers", "Annotators with fewer gold answers count as new", "whole number", int),
    ("gold_boost", "New and weak annotators see gold this many times as often", "1 to 10", float),
    ("flag_gold_failure_rate", "Flag a gold item when this share of annotators fail it", "0 to 1", float),
    ("flag_gold_min_answers", "… once it has at least this many answers", "whole number", int),
)


@login_required
@require_http_methods(["GET", "POST"])
def quality_settings_page(request, project_id: int):
    """The project's quality knobs (settings.quality) and gold rate (settings.labeling.gold_rate),
    with a consensus method per control chosen from those its type supports."""
    from annotation.workflow.services.labeling import latest_schema
    from projects.labeling import labeling_settings
    from projects.quality_settings import quality_settings
    from projects.services import project_update

    from . import services
    from .answers import adapter_for

    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.MANAGE_WORKFLOW
    )
    try:
        controls = latest_schema(project).definition.get("controls", [])
    except DomainError:
        controls = []
    knobs = quality_settings(project)
    choices = []
    for control in controls:
        adapter = adapter_for(control)
        if adapter is not None:
            chosen = knobs.methods.get(control["name"])
            methods = list(adapter.methods)
            choices.append(
                {
                    "name": control["name"],
                    "title": control.get("title") or control["name"],
                    "type": control.get("type"),
                    "methods": methods,
                    "chosen": chosen if chosen in methods else methods[0],
                }
            )
    values = {key: getattr(knobs, key) for key, *_ in _NUMBER_KNOBS}
    values["auto_pause"] = knobs.auto_pause
    gold_rate_set = labeling_settings(project).gold_rate
    values["gold_rate"] = "" if gold_rate_set is None else gold_rate_set  # empty: the default
    if request.method == "POST":
        post = request.POST
        quality: dict = {"methods": {}}
        problems = []
        for choice in choices:
            method = post.get(f"method_{choice['name']}", choice["chosen"])
            quality["methods"][choice["name"]] = method
            choice["chosen"] = method
        for key, label, _, kind in _NUMBER_KNOBS:
            raw = post.get(key, "").strip()
            values[key] = raw
            if raw == "" and key == "escalate_below":
                quality[key] = None
                continue
            try:
                quality[key] = kind(raw)
            except ValueError:
                problems.append(f"{label}: “{raw}” is not a number.")
        quality["auto_pause"] = post.get("auto_pause") == "on"
        values["auto_pause"] = quality["auto_pause"]
        raw_rate = post.get("gold_rate", "").strip()
        values["gold_rate"] = raw_rate
        try:
            gold_rate = float(raw_rate) if raw_rate else None  # empty: the default
        except ValueError:
            problems.append(f"Gold rate: “{raw_rate}” is not a number.")
            gold_rate = None
        if not problems:
            merged = dict(project.settings or {})
            merged["quality"] = {**(merged.get("quality") or {}), **quality}
            merged["labeling"] = {**(merged.get("labeling") or {}), "gold_rate": gold_rate}
            try:
                project_update(project=project, actor=request.user, settings=merged)
            except DomainError as error:
                problems.append(error.message)
            else:
                services.quality_request_full(project=project, actor=request.user)
                messages.success(request, "Quality settings saved; a full recompute is on its way.")
                return redirect(request.path)
        for problem in problems:
            messages.error(request, problem)
    knob_rows = [
        {"key": key, "label": label, "help": help_text, "value": values[key]}
        for key, label, help_text, _ in _NUMBER_KNOBS
    ]
    context = _project_context(request, project, choices=choices, knob_rows=knob_rows, values=values)
    return render(request, "quality/settings.html", context)
