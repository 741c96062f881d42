"""Personal data from the pages: "Scan for personal data" (Data tab) and confirm/dismiss (item page).
Thin: one access check, one service call, a message, a redirect. Plain forms, no JavaScript."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from projects import access
from projects.access import ProjectAction

from ..models import PiiFinding
from . import services as pii_services


@login_required
@require_POST
def pii_detect(request, project_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.MANAGE_PERSONAL_DATA
    )
    pii_services.pii_detect_request(project=project, actor=request.user)
    messages.success(request, "Scanning the items for personal data. The counts update when it is done.")
    return redirect(f"{reverse('project-data', args=[project.id])}#personal-data")


@login_required
@require_POST
def pii_finding_review(request, project_id: int, finding_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.MANAGE_PERSONAL_DATA
    )
    status = request.POST.get("status", "")
    if status not in PiiFinding.Status.values:
        raise DomainError("invalid_status", f"status is one of {', '.join(PiiFinding.Status.values)}.")
    finding = pii_services.pii_finding_review(
        project=project, actor=request.user, finding_id=finding_id, status=status
    )
    verb = {"confirmed": "confirmed as personal data", "dismissed": "dismissed", "open": "reopened"}[status]
    messages.success(request, f"{finding.type} finding {verb}.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("project-item", args=[project.id, finding.item_id])
    return redirect(f"{back}#personal-data")
