"""The item page's consent and licence form (the page itself: quality/item_page/views.py). Thin: the
access check, then annotation.items.consent.item_governance_set."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from projects import access
from projects.access import ProjectAction

from .consent import item_governance_set


@login_required
@require_POST
def item_consent_update(request, project_id: int, item_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.VIEW_ITEMS
    )
    try:
        item_governance_set(
            project=project,
            actor=request.user,
            item_id=item_id,
            consent=request.POST.get("consent"),
            licence=request.POST.get("licence"),
        )
    except DomainError as error:
        if error.status_code in (403, 404):
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, "Consent and licence saved.")
    return redirect("project-item", project.id, item_id)
