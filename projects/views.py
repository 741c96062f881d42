"""Server-rendered project pages. Thin: forms in, one access check, one service call, a redirect out."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import DomainError

from . import access, selectors, services
from .access import OrgAction, ProjectAction
from .forms import (
    GuidelineVersionForm,
    OrganisationMemberAddForm,
    ProjectCreateForm,
    ProjectMemberAddForm,
    ProjectMemberRoleForm,
    ProjectUpdateForm,
    SchemaVersionForm,
)
from .models import OrganisationMembership, ProjectStats


def _call(form, field: str | None, fn, **kwargs):
    """Run a service; a broken rule becomes a form error instead of a 500. Returns (result, ok)."""
    try:
        return fn(**kwargs), True
    except DomainError as error:
        form.add_error(field, error.message)
        return None, False


def _admin_organisations(user):
    return selectors.organisation_list_visible_to(user=user).filter(
        memberships__user=user, memberships__role=OrganisationMembership.Role.ADMIN
    )


def _project_context(request, project, **extra):
    role = access.project_role_of(user=request.user, project=project)
    try:
        stats = project.stats
    except ProjectStats.DoesNotExist:
        stats = None
    return {
        "project": project,
        "role": role,
        "can_manage": role in access.PROJECT_PERMISSIONS[ProjectAction.UPDATE],
        "can_view_items": role in access.PROJECT_PERMISSIONS[ProjectAction.VIEW_ITEMS],
        "can_import": role in access.PROJECT_PERMISSIONS[ProjectAction.IMPORT_DATA],
        "stats": stats,
        **extra,
    }


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
        "show_archived": show_archived,
    }
    return render(request, "projects/project_list.html", context, status=400 if form.errors else 200)


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


def _versions_page(
    request,
    project_id,
    *,
    view_action,
    edit_action,
    form_class,
    create,
    list_versions,
    template,
    label,
    prefill,
):
    """A list of immutable versions plus a form that saves the next one, prefilled with the latest."""
    project = access.project_get_for_user(user=request.user, project_id=project_id, action=view_action)
    versions = list_versions(project=project)
    latest = versions.first()
    form = form_class(request.POST or None, initial=prefill(latest) if latest else None)
    if request.method == "POST":
        project = access.project_get_for_user(user=request.user, project_id=project_id, action=edit_action)
        if form.is_valid():
            version, ok = _call(form, None, create, project=project, actor=request.user, **form.cleaned_data)
            if ok:
                messages.success(request, f"{label} v{version.version} saved.")
                return redirect(request.path)
    context = _project_context(request, project, form=form, versions=versions)
    return render(request, template, context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def project_schema(request, project_id: int):
    return _versions_page(
        request,
        project_id,
        view_action=ProjectAction.VIEW_SCHEMA,
        edit_action=ProjectAction.EDIT_SCHEMA,
        form_class=SchemaVersionForm,
        create=services.schema_version_create,
        list_versions=selectors.schema_version_list,
        template="projects/project_schema.html",
        label="Label schema",
        prefill=lambda latest: {"definition": latest.definition_json},
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_guidelines(request, project_id: int):
    return _versions_page(
        request,
        project_id,
        view_action=ProjectAction.VIEW_GUIDELINES,
        edit_action=ProjectAction.EDIT_GUIDELINES,
        form_class=GuidelineVersionForm,
        create=services.guideline_version_create,
        list_versions=selectors.guideline_version_list,
        template="projects/project_guidelines.html",
        label="Guidelines",
        prefill=lambda latest: {"body": latest.body},
    )


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
    role = access.org_role_of(user=request.user, organisation_id=organisation.id)
    context = {
        "organisation": organisation,
        "members": selectors.organisation_member_list(organisation=organisation),
        "form": form,
        "is_admin": role in access.ORG_PERMISSIONS[OrgAction.MANAGE_MEMBERS],
    }
    return render(request, "projects/organisation_members.html", context, status=400 if form.errors else 200)


@login_required
def organisation_audit(request, organisation_id: int):
    organisation = access.organisation_get_for_user(
        user=request.user, organisation_id=organisation_id, action=OrgAction.VIEW_AUDIT_LOG
    )
    events = selectors.audit_event_list(organisation=organisation)
    before = request.GET.get("before", "")
    if before.isdigit():
        events = events.filter(id__lt=int(before))
    page = list(events[:101])
    context = {
        "organisation": organisation,
        "events": [(event, json.dumps(event.changes, ensure_ascii=False)) for event in page[:100]],
        "next_before": page[99].id if len(page) > 100 else None,
        "api_url": reverse("organisation-audit-events", kwargs={"pk": organisation.id}),
    }
    return render(request, "projects/organisation_audit.html", context)
