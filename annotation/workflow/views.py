"""The labeling and review pages: thin shells around the browser apps (frontend/src/entries/label.ts,
review.ts), which talk to the labeling API (docs/API.md#labeling). The page only decides who may
open it and hands the app its configuration as a json_script (escaped by Django)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from projects import access, selectors
from projects.access import ProjectAction
from projects.labeling import labeling_settings
from projects.markdown import render_markdown
from projects.models import GuidelineAcknowledgement
from projects.views import _project_context


def _page_config(request, project) -> dict:
    schema = selectors.schema_version_list(project=project).first()
    guideline = selectors.guideline_version_list(project=project).first()
    knobs = labeling_settings(project)
    return {
        "projectId": project.id,
        "projectName": project.name,
        "user": request.user.get_username(),
        "schema": {"version": schema.version, "definition": schema.definition} if schema else None,
        "leaseSeconds": knobs.lease_seconds,
        "rejectReasons": list(knobs.reject_reasons),
        "guidelines": {
            "version": guideline.version,
            "acknowledged": GuidelineAcknowledgement.objects.filter(
                guideline_version=guideline, user=request.user
            ).exists(),
        }
        if guideline
        else None,
        "links": {
            "guidelines": reverse("project-guidelines", args=[project.id]),
            "project": reverse("project-detail", args=[project.id]),
            "label": reverse("project-label", args=[project.id]),
            "review": reverse("project-review", args=[project.id]),
        },
        "feedPath": f"/ws/projects/{project.id}/",
    }


def _render(request, project, template: str):
    guideline = selectors.guideline_version_list(project=project).first()
    context = _project_context(
        request,
        project,
        labeling_config=_page_config(request, project),
        guideline=guideline,
        guideline_html=render_markdown(guideline.body) if guideline else "",
    )
    return render(request, template, context)


@login_required
@require_GET
def label_page(request, project_id: int):
    """Annotators (and managers) label items from their queue. 404 outside the project, 403 for roles
    that do not annotate."""
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.ANNOTATE
    )
    return _render(request, project, "annotation/label.html")


@login_required
@require_GET
def review_page(request, project_id: int):
    """Reviewers (and managers) accept, reject or fix annotations of sampled items."""
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.REVIEW
    )
    return _render(request, project, "annotation/review.html")
