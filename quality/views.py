"""The quality dashboard page (server-rendered shell; the data comes from the quality API)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from projects import access
from projects.access import ProjectAction
from projects.views import _project_context


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
    context["can_manage"] = (
        access.project_role_of(user=request.user, project=project)
        in access.PROJECT_PERMISSIONS[ProjectAction.MANAGE_WORKFLOW]
    )
    return render(request, "quality/dashboard.html", context)
