"""The project settings page and the per-member overrides of the Members tab. Thin: read the form,
one access check, one service call (the same `project_update` as `PATCH /api/projects/<id>/`, with a
JSON merge patch), errors next to their fields."""

import re
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import DomainError

from .. import access, selectors, services
from ..access import OrgAction, ProjectAction
from ..labeling import DEFAULT_GOLD_RATE, labeling_settings_from
from ..quality_settings import control_counts, quality_settings_from
from ..views import _project_context
from . import levers as lv
from .services import organisation_settings_update

_SETTING_IN_MESSAGE = re.compile(r"settings\.(labeling|quality|privacy|release|retention)\.(\w+)")
_FIELD_OF_CODE = {"invalid_overlap": "overlap", "invalid_gold_rate": "labeling.gold_rate"}


def _control_rows(project, post=None) -> list[dict]:
    """One row per control of the newest schema: whether it counts for escalation, gold pass/fail
    and pausing (free text is reported but does not count unless turned on)."""
    latest = selectors.schema_version_list(project=project).first()
    knobs = quality_settings_from(project.settings)
    rows = []
    for control in latest.definition.get("controls", []) if latest else []:
        name = control.get("name")
        if not isinstance(name, str):
            continue
        free_text = control.get("type") == "text"
        counts = control_counts(knobs, name, free_text=free_text)
        if post is not None:
            counts = post.get(f"counts.{name}") == "on"
        rows.append(
            {
                "name": name,
                "title": control.get("title") or name,
                "type": control.get("type"),
                "counts": counts,
                "default": not free_text,
            }
        )
    return rows


def _rows(project, values: dict, errors: dict) -> list[dict]:
    groups = []
    for key, title, intro in lv.GROUPS:
        rows = []
        for lever in lv.LEVERS:
            if lever.group != key:
                continue
            default = lever.default
            if lever.name == "labeling.gold_rate":
                default = DEFAULT_GOLD_RATE
            elif lever.name == "overlap":
                default = None
            rows.append(
                {
                    "lever": lever,
                    "value": values.get(lever.name),
                    "default": (
                        "none"
                        if lever.kind in ("patterns", "wordlists")
                        else "keep forever"
                        if lever.section == "retention"
                        else "no limit"
                    )
                    if lever.optional and default is None
                    else lv.display(lever, default),
                    "is_default": not lv.is_stored(project.settings, lever),
                    "error": errors.get(lever.name),
                }
            )
        groups.append({"key": key, "title": title, "intro": intro, "rows": rows})
    return groups


def _error_field(error: DomainError) -> str | None:
    if error.code in _FIELD_OF_CODE:
        return _FIELD_OF_CODE[error.code]
    if error.code == "unknown_setting":
        return None
    found = _SETTING_IN_MESSAGE.search(error.message)
    if found and f"{found[1]}.{found[2]}" in lv.BY_NAME:
        return f"{found[1]}.{found[2]}"
    return None


@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request, project_id: int):
    """Every lever of the project, grouped (labeling, review, quality, gold; members on the Members
    tab), with a sentence and the default each, and the warnings of settings that keep work from
    finishing at the top."""
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.UPDATE
    )
    current = lv.current_values(project.settings, project.overlap)
    values = {lever.name: lv.display(lever, current[lever.name]) for lever in lv.LEVERS}
    values["labeling.gold_rate"] = lv.display(
        lv.BY_NAME["labeling.gold_rate"], labeling_settings_from(project.settings).gold_rate
    )
    errors: dict[str, str] = {}
    general_error = None
    controls = _control_rows(project)
    status = 200
    if request.method == "POST":
        post = request.POST
        controls = _control_rows(project, post)
        counts = {row["name"]: (row["counts"], row["default"]) for row in controls}
        changes, errors = lv.form_to_patch(post, project.settings, project.overlap, counts)
        values.update({lever.name: post.get(lever.name, "") for lever in lv.LEVERS})
        if not errors:
            expected = (
                parse_datetime(post.get("expected_updated_at", ""))
                if post.get("expected_updated_at")
                else None
            )
            try:
                if changes:
                    services.project_update(
                        project=project,
                        actor=request.user,
                        expected_updated_at=expected if isinstance(expected, datetime) else None,
                        **changes,
                    )
            except DomainError as error:
                field = _error_field(error)
                if field:
                    errors[field] = error.message
                else:
                    general_error = error.message
            else:
                quality_changed = "quality" in (changes.get("settings_patch") or {})
                messages.success(
                    request,
                    ("Settings saved." if changes else "Nothing changed.")
                    + (
                        " Quality results use them from the next recompute (Quality tab)."
                        if quality_changed
                        else ""
                    ),
                )
                return redirect("project-settings", project_id=project.id)
        status = 400
    context = _project_context(
        request,
        project,
        groups=_rows(project, values, errors),
        controls=controls,
        general_error=general_error,
        has_errors=bool(errors or general_error),
        warnings=selectors.project_settings_warnings(project=project),
        members=selectors.project_member_list(project=project),
        expected_updated_at=project.updated_at.isoformat(),
        api_path=f"/api/projects/{project.id}/",
    )
    return render(request, "projects/project_settings.html", context, status=status)


def _optional_number(raw: str, kind):
    raw = (raw or "").strip()
    if raw == "":
        return None
    try:
        return kind(raw)
    except ValueError as error:
        raise DomainError("invalid_number", f"“{raw}” is not a number.") from error


@login_required
@require_POST
def project_member_overrides(request, project_id: int, membership_id: int):
    """A manager sets one member's quota, groups and gold rate, or pauses / resumes them (the same
    services as the members API's `workflow`, `pause` and `resume`; all audited)."""
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.MANAGE_WORKFLOW
    )
    action = request.POST.get("action", "save")
    try:
        if action == "pause":
            services.project_member_pause(
                project=project,
                actor=request.user,
                membership_id=membership_id,
                reason=request.POST.get("reason") or "Paused by a manager.",
            )
            messages.success(request, "Member paused: they get no new items until resumed.")
        elif action == "resume":
            services.project_member_resume(project=project, actor=request.user, membership_id=membership_id)
            messages.success(request, "Member resumed.")
        else:
            groups = [g for g in re.split(r"[\s,]+", request.POST.get("groups", "")) if g]
            services.project_member_workflow_update(
                project=project,
                actor=request.user,
                membership_id=membership_id,
                quota=_optional_number(request.POST.get("quota", ""), int),
                gold_rate=_optional_number(request.POST.get("gold_rate", ""), float),
                groups=groups,
            )
            messages.success(request, "Member overrides saved.")
    except DomainError as error:
        if error.status_code == 404:
            raise
        messages.error(request, error.message)
    return redirect(f"/projects/{project.id}/members/#overrides")


@login_required
@require_POST
def organisation_settings(request, organisation_id: int):
    """An organisation admin chooses who may create projects (the organisation members page)."""
    organisation = access.organisation_get_for_user(
        user=request.user, organisation_id=organisation_id, action=OrgAction.MANAGE_MEMBERS
    )
    try:
        organisation_settings_update(
            organisation=organisation,
            actor=request.user,
            project_creators=request.POST.get("project_creators", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Saved: who may create projects.")
    return redirect("organisation-members", organisation_id=organisation.id)
