"""The new-project page: the template gallery, a preview of the chosen template (its controls in the
schema preview component, its guidelines and settings) and the create form. Someone who may not
create projects anywhere is told why."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.exceptions import DomainError

from .. import access
from ..access import OrgAction
from ..markdown import render_markdown
from ..views import _schema_editor_config
from .catalogue import template_get, templates
from .services import project_create_from_template


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request):
    allowed, refused = access.project_creation_options(user=request.user)
    key = request.POST.get("template") or request.GET.get("template") or ""
    chosen = template_get(key) if key else None
    error = None
    values = {"name": "", "description": "", "organisation": ""}
    status = 200
    if request.method == "POST":
        values = {name: request.POST.get(name, "").strip() for name in values}
        try:
            organisation_id = int(values["organisation"]) if values["organisation"].isdecimal() else 0
            organisation = access.organisation_get_for_user(
                user=request.user, organisation_id=organisation_id, action=OrgAction.CREATE_PROJECT
            )
            project = project_create_from_template(
                organisation=organisation,
                actor=request.user,
                template=key,
                name=values["name"],
                description=values["description"],
            )
        except DomainError as problem:
            if problem.status_code == 404 and problem.code == "not_found" and not allowed:
                raise
            error = problem.message
            status = 403 if problem.status_code == 403 else 400
        else:
            messages.success(
                request,
                f"Project “{project.name}” created from the template {chosen['title'] if chosen else key}.",
            )
            return redirect("project-detail", project_id=project.id)
    rows = []
    if chosen:
        rows = [
            (c, [x["value"] for x in c.get("labels") or c.get("keypoints") or c.get("choices") or []])
            for c in chosen["schema"]["controls"]
        ]
    context = {
        "templates": templates(),
        "chosen": chosen,
        "rows": rows,
        "guidelines_html": render_markdown(chosen["guidelines"]) if chosen else "",
        "example_json": json.dumps(chosen.get("example_item", {}), indent=2, ensure_ascii=False)
        if chosen
        else "",
        "allowed": allowed,
        "refused": refused,
        "values": values,
        "error": error,
        "editor_config": _schema_editor_config(
            editable=False, current=chosen["schema"] if chosen else None, issues=[]
        ),
    }
    return render(request, "projects/project_new.html", context, status=status)
