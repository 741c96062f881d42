"""What every server-rendered project page (of every app) puts in its template context.

`can` is projects.access.project_capabilities: templates show or hide actions with
`{% if can.view_items %}`, `{% if can.manage_workflow %}`. The `can_*` keys below are the same
answers under the names templates used before; new templates read `can`.
"""

from . import access
from .access import ProjectAction
from .models import ProjectStats

_LEGACY_KEYS = {
    "can_manage": ProjectAction.UPDATE,
    "can_view_items": ProjectAction.VIEW_ITEMS,
    "can_import": ProjectAction.IMPORT_DATA,
    "can_view_quality": ProjectAction.VIEW_QUALITY,
    "can_view_releases": ProjectAction.VIEW_ANNOTATIONS,
    "can_annotate": ProjectAction.ANNOTATE,
    "can_review": ProjectAction.REVIEW,
}


def project_page_context(request, project, **extra) -> dict:
    """The project, the user's role and capabilities, and the project's stats, plus `extra`."""
    can = access.project_capabilities(user=request.user, project=project)
    try:
        stats = project.stats
    except ProjectStats.DoesNotExist:
        stats = None
    return {
        "project": project,
        "role": can.role,
        "can": can,
        **{key: can[action] for key, action in _LEGACY_KEYS.items()},
        "stats": stats,
        **extra,
    }
