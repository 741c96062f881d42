"""The organisation's record of processing as CSV or JSON downloads (org admins; 404 outside)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse

from core.downloads import attachment
from core.exceptions import NotFound
from projects import access
from projects.access import OrgAction

from . import processing


@login_required
def organisation_record_of_processing(request, organisation_id: int, fmt: str):
    organisation = access.organisation_get_for_user(
        user=request.user, organisation_id=organisation_id, action=OrgAction.VIEW_RECORD_OF_PROCESSING
    )
    if fmt == "csv":
        response = HttpResponse(processing.record_csv(organisation=organisation), content_type="text/csv")
    elif fmt == "json":
        response = HttpResponse(
            processing.record_json(organisation=organisation), content_type="application/json"
        )
    else:
        raise NotFound()
    return attachment(response, f"record-of-processing-{organisation.slug}.{fmt}")
