"""The base of every viewset nested under /api/projects/<project_pk>/.

It lives here, not in core: it asks projects.access, and core imports no domain app.
"""

from rest_framework import viewsets

from projects import access
from projects.access import ProjectAction
from projects.models import Project


class ProjectScopedViewSet(viewsets.GenericViewSet):
    """A viewset under a project: `_project(action)` is the project if the user may do `action`
    in it (404 outside it, 403 for a role that may not act), in one query."""

    lookup_value_regex = r"\d+"

    def _project(self, action_: ProjectAction) -> Project:
        return access.project_get_for_user(
            user=self.request.user, project_id=int(self.kwargs["project_pk"]), action=action_
        )
