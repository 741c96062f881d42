"""Server-rendered project pages. Thin: forms in, one access check, one service call, a redirect out."""

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import DomainError, NotFound

from . import access, selectors, services
from .access import OrgAction, ProjectAction
from .forms import (
    GuidelineVersionForm,
    LabelStudioProjectForm,
    OrganisationMemberAddForm,
    ProjectCreateForm,
    ProjectMemberAddForm,
    ProjectMemberRoleForm,
    ProjectUpdateForm,
    SchemaVersionForm,
)
from .markdown import diff_lines, render_markdown
from .models import GuidelineAcknowledgement, OrganisationMembership
from .pages import project_page_context as _project_context  # also imported by annotation's pages
from .schema import CONTROLS
from .schema.examples import schema_examples
from .schema.spec import FIELD_TYPES
from .settings_pages.label_changes import (
    choice_name,
    operations_from,
    schema_save_with_migration,
    vanished_labels,
)


def _call(form, field: str | None, fn, **kwargs):
    """Run a service; a broken rule becomes a form error instead of a 500. Returns (result, ok)."""
    try:
        return fn(**kwargs), True
    except DomainError as error:
        form.add_error(field, error.message)
        return None, False


def _admin_organisations(user):
    """The organisations `user` may create projects in (admins; project managers by the organisation's
    `project_creators` setting: projects.access.project_creation_refusal)."""
    return access.project_creation_options(user=user)[0]


@login_required
@require_http_methods(["GET", "POST"])
def project_list(request):
    organisations = list(_admin_organisations(request.user))
    form = ProjectCreateForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        organisation = access.organisation_get_for_user(
            user=request.user, organisation_id=data["organisation"], action=OrgAction.CREATE_PROJECT
        )
        project, ok = _call(
            form,
            "name",
            services.project_create,
            organisation=organisation,
            actor=request.user,
            name=data["name"],
            description=data["description"],
            overlap=data["overlap"],
        )
        if ok:
            messages.success(request, f"Project “{project.name}” created.")
            return redirect("project-detail", project_id=project.id)
    show_archived = request.GET.get("archived") == "1"
    projects = selectors.project_list_visible_to(user=request.user, include_archived=show_archived)
    context = {
        "projects": projects,
        "form": form,
        "can_create": bool(organisations),
        "creation_refusals": access.project_creation_options(user=request.user)[1],
        "show_archived": show_archived,
    }
    return render(request, "projects/project_list.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def project_new_labelstudio(request):
    """New project from a Label Studio config: paste or upload, Preview (the derived controls and
    what was not translated, with reasons), then Create. Same permission as a normal new project."""
    organisations = list(_admin_organisations(request.user))
    if not organisations:
        raise NotFound()
    form = LabelStudioProjectForm(request.POST or None, request.FILES or None, organisations=organisations)
    preview = None
    refused = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        organisation = access.organisation_get_for_user(
            user=request.user, organisation_id=data["organisation"], action=OrgAction.CREATE_PROJECT
        )
        try:
            if request.POST.get("action") == "create":
                project, _, untranslated = services.project_create_from_labelstudio(
                    organisation=organisation,
                    actor=request.user,
                    name=data["name"],
                    description=data["description"],
                    overlap=data["overlap"],
                    labelstudio_config=data["labelstudio_config"],
                )
                note = (
                    f" {len(untranslated)} element(s) were not translated; see the audit log."
                    if untranslated
                    else ""
                )
                messages.success(
                    request, f"Project “{project.name}” created from a Label Studio config.{note}"
                )
                return redirect("project-detail", project_id=project.id)
            definition, untranslated = services.labelstudio_schema_preview(
                labelstudio_config=data["labelstudio_config"]
            )
            rows = [
                (c, [x["value"] for x in c.get("labels") or c.get("keypoints") or c.get("choices") or []])
                for c in definition["controls"]
            ]
            preview = {"schema": definition, "untranslated": untranslated, "rows": rows}
        except DomainError as error:
            if error.code == "invalid_labelstudio_config":
                refused = {"message": error.message, "untranslated": error.extra.get("untranslated", [])}
                form.add_error("labelstudio_config", error.message)
            else:
                form.add_error("name" if error.code == "name_taken" else None, error.message)
    context = {
        "form": form,
        "preview": preview,
        "refused": refused,
        "untranslated_list": (preview or refused or {}).get("untranslated", []),
        "editor_config": _schema_editor_config(
            editable=False, current=preview["schema"] if preview else None, issues=[]
        ),
    }
    return render(
        request, "projects/project_new_labelstudio.html", context, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_detail(request, project_id: int):
    project = access.project_get_for_user(user=request.user, project_id=project_id)
    form = None
    if request.method == "POST":
        project = access.project_get_for_user(
            user=request.user, project_id=project_id, action=ProjectAction.UPDATE
        )
        form = ProjectUpdateForm(request.POST)
        if form.is_valid():
            _, ok = _call(
                form, None, services.project_update, project=project, actor=request.user, **form.cleaned_data
            )
            if ok:
                messages.success(request, "Project settings saved.")
                return redirect("project-detail", project_id=project.id)
    context = _project_context(
        request,
        project,
        form=form
        or ProjectUpdateForm(
            initial={
                "name": project.name,
                "description": project.description,
                "overlap": project.overlap,
                "expected_updated_at": project.updated_at.isoformat(),
            }
        ),
        schema=selectors.schema_version_list(project=project).first(),
        guideline=selectors.guideline_version_list(project=project).first(),
        feed_config={"project_id": project.id, "ws_path": f"/ws/projects/{project.id}/"},
    )
    return render(
        request, "projects/project_detail.html", context, status=400 if form and form.errors else 200
    )


@login_required
@require_POST
def project_archive(request, project_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.ARCHIVE
    )
    if request.POST.get("archived") == "0":
        services.project_unarchive(project=project, actor=request.user)
        messages.success(request, "Project unarchived. It accepts changes again.")
    else:
        services.project_archive(project=project, actor=request.user)
        messages.success(request, "Project archived. It is read-only until you unarchive it.")
    return redirect("project-detail", project_id=project.id)


@login_required
@require_http_methods(["GET", "POST"])
def project_members(request, project_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.VIEW_MEMBERS
    )
    form = ProjectMemberAddForm(request.POST or None)
    if request.method == "POST":
        project = access.project_get_for_user(
            user=request.user, project_id=project_id, action=ProjectAction.MANAGE_MEMBERS
        )
        if form.is_valid():
            membership, ok = _call(
                form,
                "username",
                services.project_member_add,
                project=project,
                actor=request.user,
                **form.cleaned_data,
            )
            if ok:
                messages.success(
                    request, f"{membership.user.username} added as {membership.get_role_display().lower()}."
                )
                return redirect("project-members", project_id=project.id)
    context = _project_context(
        request,
        project,
        form=form,
        members=selectors.project_member_list(project=project),
        roles=ProjectMemberRoleForm.base_fields["role"].choices,
    )
    return render(request, "projects/project_members.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def project_member_change(request, project_id: int, membership_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.MANAGE_MEMBERS
    )
    if request.POST.get("remove") == "1":
        services.project_member_remove(project=project, actor=request.user, membership_id=membership_id)
        messages.success(request, "Member removed.")
    else:
        form = ProjectMemberRoleForm(request.POST)
        if not form.is_valid():
            raise DomainError("invalid_role", "Choose manager, reviewer or annotator.")
        services.project_member_change_role(
            project=project, actor=request.user, membership_id=membership_id, role=form.cleaned_data["role"]
        )
        messages.success(request, "Role changed.")
    return redirect("project-members", project_id=project.id)


# --- Label schema and guidelines ------------------------------------------------------------------
# Both are lists of immutable versions plus a form that saves the next one. The schema page is
# enhanced by the Vite entry schema-editor.ts (YAML, a form builder, a live preview); without
# JavaScript the same form posts the JSON text.

SCHEMA_STARTER = {"version": 1, "fields": [{"name": "text", "type": "text"}], "controls": []}
SCHEMA_DEFINITION_ERRORS = frozenset({"invalid_schema", "schema_too_large"})
# PostgreSQL's jsonb stores object keys in its own order; people read a definition in this one.
_KEY_ORDER = {
    "definition": ("version", "fields", "controls"),
    "fields": ("name", "type", "source", "title"),
    "controls": ("name", "type", "field", "required", "title", "description", "show_if"),
    "show_if": ("control", "equals", "in"),
    "labels": ("value", "hotkey", "color", "description", "children"),
}
_LABEL_LISTS = ("labels", "choices", "keypoints")
_CHILD_KINDS = {
    "definition": {"fields": "fields", "controls": "controls"},
    "controls": {"show_if": "show_if", **dict.fromkeys(_LABEL_LISTS, "labels")},
    "labels": {"children": "labels"},
}


def _in_reading_order(value, kind: str = "definition"):
    """A copy of a definition with keys in reading order (label lists last in a control)."""
    if isinstance(value, list):
        return [_in_reading_order(item, kind) for item in value]
    if not isinstance(value, dict):
        return value
    first = [key for key in _KEY_ORDER[kind] if key in value]
    rest = sorted((key for key in value if key not in first), key=lambda key: key in _LABEL_LISTS)
    children = _CHILD_KINDS.get(kind, {})
    return {
        key: _in_reading_order(value[key], children[key]) if key in children else value[key]
        for key in first + rest
    }


def _schema_text(definition) -> str:
    return json.dumps(_in_reading_order(definition), indent=2, ensure_ascii=False)


def _may_edit(can: access.ProjectCapabilities, project, action: ProjectAction) -> bool:
    return can[action] and not project.is_archived


def _version_param(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdecimal() else None


def _schema_editor_config(*, editable: bool, current: dict | None, issues: list[dict]) -> dict:
    """What schema-editor.ts needs: the control types (from the server's registry, so the form
    builder offers exactly what validates), the examples of docs/SCHEMA.md and the save errors."""
    return {
        "editable": editable,
        "current": current,
        "issues": issues,
        "field_types": list(FIELD_TYPES),
        "controls": [
            {
                "type": name,
                "field_types": sorted(control.field_types) if control.field_types is not None else None,
                "options": sorted(control.options),
                "required_options": list(control.required_options),
            }
            for name, control in CONTROLS.items()
        ],
        "examples": schema_examples() if editable else [],
    }


@login_required
@require_http_methods(["GET", "POST"])
def project_schema(request, project_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.VIEW_SCHEMA
    )
    versions = selectors.schema_version_list(project=project)
    latest = versions.first()
    base = versions.filter(version=_version_param(request, "base")).first() if "base" in request.GET else None
    start_from = base or latest
    form = SchemaVersionForm(
        request.POST or None,
        initial={"definition": _schema_text(start_from.definition if start_from else SCHEMA_STARTER)},
    )
    issues: list[dict] = []
    label_changes: list[dict] = []
    if request.method == "POST":
        project = access.project_get_for_user(
            user=request.user, project_id=project_id, action=ProjectAction.EDIT_SCHEMA
        )
        definition = form.cleaned_data.get("definition") if form.is_valid() else None
        # Labels the new definition drops: confirm the label migration first (settings_pages.label_changes).
        label_changes = (
            vanished_labels(latest.definition, definition) if latest and isinstance(definition, dict) else []
        )
        if label_changes and "migration_confirmed" not in request.POST:
            pass  # the page lists them with a choice each; nothing is saved yet
        elif form.is_valid():
            try:
                version = schema_save_with_migration(
                    project=project,
                    actor=request.user,
                    operations=operations_from(label_changes, request.POST),
                    **form.cleaned_data,
                )
            except DomainError as error:
                issues = list(error.extra.get("errors", []))
                field = "definition" if error.code in SCHEMA_DEFINITION_ERRORS else None
                # The issues are listed in full next to the editor (_schema_issues.html).
                form.add_error(field, "Fix the problems listed above." if issues else error.message)
            else:
                messages.success(request, f"Label schema v{version.version} saved.")
                return redirect(request.path)
    context = _project_context(
        request,
        project,
        form=form,
        versions=[(version, _schema_text(version.definition)) for version in versions],
        latest=latest,
        base=base,
        next_version=(latest.version if latest else 0) + 1,
        schema_issues=issues,
        label_changes=[
            {**change, "field": choice_name(change["control"], change["label"])} for change in label_changes
        ],
    )
    can_edit = _may_edit(context["can"], project, ProjectAction.EDIT_SCHEMA)
    context["can_edit"] = can_edit
    context["editor_config"] = _schema_editor_config(
        editable=can_edit, current=latest.definition if latest else None, issues=issues
    )
    return render(request, "projects/project_schema.html", context, status=400 if form.errors else 200)


def _parse_diff(value: str) -> tuple[int, int] | None:
    """Reads "1..3" as (1, 3); anything else is None."""
    old, sep, new = value.partition("..")
    if not sep or not old.isdecimal() or not new.isdecimal():
        return None
    return int(old), int(new)


def _guideline_diff(versions, value: str) -> dict:
    pair = _parse_diff(value)
    if pair is None:
        return {"error": "Choose two versions to compare, e.g. ?diff=1..2."}
    found = {v.version: v for v in versions.filter(version__in=pair)}
    missing = [str(number) for number in pair if number not in found]
    if missing:
        return {"error": f"There is no version {' or '.join(sorted(set(missing)))} of these guidelines."}
    old, new = found[pair[0]], found[pair[1]]
    return {"old": old, "new": new, "result": diff_lines(old.body, new.body)}


@login_required
@require_http_methods(["GET", "POST"])
def project_guidelines(request, project_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.VIEW_GUIDELINES
    )
    if request.method == "GET" and "from" in request.GET and "to" in request.GET:
        # The compare form's two selects become the one canonical ?diff=A..B address.
        old, new = _version_param(request, "from"), _version_param(request, "to")
        if old is not None and new is not None:
            return redirect(f"{request.path}?diff={old}..{new}#diff")
    versions = selectors.guideline_version_list(project=project)
    history = list(versions.defer("body"))
    latest = versions.first()
    shown = latest
    if "version" in request.GET:
        shown = versions.filter(version=_version_param(request, "version")).first() or latest
    if request.method == "POST" and "acknowledge" in request.POST:
        # Anyone who may read them confirms they read the newest version (annotators must, before
        # their next item). The service refuses a version that is not the newest.
        raw = request.POST.get("acknowledge", "")
        try:
            ack = services.guideline_acknowledge(
                project=project, user=request.user, version=int(raw) if raw.isdecimal() else 0
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Thanks: you confirmed guidelines v{ack.guideline_version.version}.")
        return redirect(request.path)
    form = GuidelineVersionForm(request.POST or None, initial={"body": latest.body} if latest else None)
    preview_html = None
    if request.method == "POST":
        project = access.project_get_for_user(
            user=request.user, project_id=project_id, action=ProjectAction.EDIT_GUIDELINES
        )
        if form.is_valid() and "preview" in request.POST:
            preview_html = render_markdown(form.cleaned_data["body"])
        elif form.is_valid():
            version, ok = _call(
                form,
                None,
                services.guideline_version_create,
                project=project,
                actor=request.user,
                **form.cleaned_data,
            )
            if ok:
                messages.success(request, f"Guidelines v{version.version} saved.")
                return redirect(request.path)
    context = _project_context(
        request,
        project,
        form=form,
        versions=history,
        latest=latest,
        shown=shown,
        shown_html=render_markdown(shown.body) if shown else "",
        preview_html=preview_html,
        diff=_guideline_diff(versions, request.GET["diff"]) if "diff" in request.GET else None,
        next_version=(latest.version if latest else 0) + 1,
        acknowledged=latest is not None
        and GuidelineAcknowledgement.objects.filter(guideline_version=latest, user=request.user).exists(),
    )
    context["can_edit"] = _may_edit(context["can"], project, ProjectAction.EDIT_GUIDELINES)
    return render(request, "projects/project_guidelines.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def organisation_members(request, organisation_id: int):
    organisation = access.organisation_get_for_user(
        user=request.user, organisation_id=organisation_id, action=OrgAction.VIEW_MEMBERS
    )
    form = OrganisationMemberAddForm(request.POST or None)
    if request.method == "POST":
        organisation = access.organisation_get_for_user(
            user=request.user, organisation_id=organisation_id, action=OrgAction.MANAGE_MEMBERS
        )
        if form.is_valid():
            data = form.cleaned_data
            membership, ok = _call(
                form,
                None,
                services.organisation_member_add,
                organisation=organisation,
                actor=request.user,
                username=data["username"],
                role=data["role"],
                password=data["password"] or None,
                email=data["email"],
            )
            if ok:
                messages.success(request, f"{membership.user.username} added to {organisation.name}.")
                return redirect("organisation-members", organisation_id=organisation.id)
    context = {
        "organisation": organisation,
        "members": selectors.organisation_member_list(organisation=organisation),
        "form": form,
        "is_admin": access.can_do_in_organisation(
            user=request.user, organisation_id=organisation.id, action=OrgAction.MANAGE_MEMBERS
        ),
        "show_emails": access.can_see_member_emails(user=request.user, organisation_id=organisation.id),
    }
    return render(request, "projects/organisation_members.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def organisation_member_revoke_credentials(request, organisation_id: int, membership_id: int):
    """An organisation admin signs a member out everywhere and revokes their API tokens."""
    organisation = access.organisation_get_for_user(
        user=request.user, organisation_id=organisation_id, action=OrgAction.MANAGE_MEMBERS
    )
    membership = OrganisationMembership.objects.filter(organisation=organisation, pk=membership_id).first()
    result = services.organisation_member_credentials_revoke(
        organisation=organisation, actor=request.user, membership_id=membership_id
    )
    tokens = result["tokens_revoked"]
    messages.success(
        request,
        f"{membership.user.username} was signed out everywhere; "
        f"{tokens} API token{'s' if tokens != 1 else ''} revoked.",
    )
    return redirect("organisation-members", organisation_id=organisation.id)


@login_required
def organisation_audit(request, organisation_id: int):
    organisation = access.organisation_get_for_user(
        user=request.user, organisation_id=organisation_id, action=OrgAction.VIEW_AUDIT_LOG
    )
    events = selectors.audit_event_list(organisation=organisation)
    before = request.GET.get("before", "")
    if before.isdecimal():
        events = events.filter(id__lt=int(before))
    page = list(events[:101])
    context = {
        "organisation": organisation,
        "events": [(event, json.dumps(event.changes, ensure_ascii=False)) for event in page[:100]],
        "next_before": page[99].id if len(page) > 100 else None,
        "api_url": reverse("organisation-audit-events", kwargs={"pk": organisation.id}),
    }
    return render(request, "projects/organisation_audit.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def organisation_member_delete_account(request, organisation_id: int, membership_id: int):
    """An organisation admin deletes a member's account (confirmation, then
    services.account_delete; docs/GOVERNANCE.md#deleting-accounts)."""
    organisation = access.organisation_get_for_user(
        user=request.user, organisation_id=organisation_id, action=OrgAction.DELETE_ACCOUNTS
    )
    membership = (
        OrganisationMembership.objects.select_related("user")
        .filter(organisation=organisation, pk=membership_id)
        .first()
    )
    if membership is None:
        raise NotFound()
    back = reverse("organisation-members", args=[organisation.id])
    error = None
    if request.method == "POST":
        username = membership.user.username
        try:
            services.account_delete(actor=request.user, user=membership.user, organisation=organisation)
        except DomainError as failure:
            if failure.status_code == 404:
                raise
            error = failure.message
        else:
            messages.success(request, f"The account of {username} was deleted.")
            return redirect(back)
    context = {"target": membership.user, "self_service": False, "back": back, "error": error}
    return render(request, "projects/account_delete.html", context, status=409 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def account_delete_own(request):
    """A person deletes their own account, confirming with their password."""
    back = reverse("password_change")
    error = None
    if request.method == "POST":
        if not request.user.check_password(request.POST.get("password", "")):
            error = "That is not your password."
        else:
            try:
                services.account_delete(actor=request.user, user=request.user)
            except DomainError as failure:
                error = failure.message
            else:
                logout(request)
                messages.success(request, "Your account was deleted.")
                return redirect("login")
    context = {"target": request.user, "self_service": True, "back": back, "error": error}
    return render(request, "projects/account_delete.html", context, status=400 if error else 200)
