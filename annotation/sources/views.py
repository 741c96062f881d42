"""The bucket sources page (/projects/<id>/data/sources/): list, add, "Sync now", remove.

Thin: one access check (projects.access), then selectors to read or one service call to write.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import DomainError
from projects import access
from projects.access import ProjectAction
from projects.views import _project_context

from . import selectors as source_selectors
from . import services as source_services

# Which form field a service error belongs to (the rest are shown above the form).
_ERROR_FIELDS = {
    "invalid_name": "name",
    "name_taken": "name",
    "invalid_bucket": "bucket",
    "invalid_prefix": "prefix",
    "invalid_endpoint": "endpoint_url",
    "invalid_region": "region",
    "invalid_credentials": "access_key_id",
}


class BucketSourceForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Unique in the project, e.g. “Field photos”.")
    bucket = forms.CharField(max_length=63)
    prefix = forms.CharField(
        max_length=1024,
        required=False,
        strip=False,
        help_text="Only keys starting with this, e.g. photos/2024/.",
    )
    endpoint_url = forms.CharField(
        max_length=500,
        required=False,
        label="Endpoint URL",
        help_text="Empty for AWS; https://… for an S3-compatible service.",
    )
    region = forms.CharField(
        max_length=50, required=False, help_text="e.g. eu-west-1; empty means us-east-1."
    )
    access_key_id = forms.CharField(
        max_length=200,
        required=False,
        label="Access key id",
        help_text="Both keys empty for a public bucket.",
    )
    secret_access_key = forms.CharField(
        max_length=500,
        required=False,
        label="Secret access key",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored for syncing and signing; never shown again.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def bucket_sources(request, project_id: int):
    """GET: the project's sources with their last sync. POST (managers): add a source."""
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.VIEW_ITEMS
    )
    form = BucketSourceForm(request.POST or None)
    if request.method == "POST":
        project = access.project_get_for_user(
            user=request.user, project_id=project_id, action=ProjectAction.IMPORT_DATA
        )
        if form.is_valid():
            try:
                source = source_services.bucket_source_create(
                    project=project, actor=request.user, **form.cleaned_data
                )
            except DomainError as error:
                form.add_error(_ERROR_FIELDS.get(error.code), error.message)
            else:
                messages.success(request, f"Source “{source.name}” added. Sync it to create its items.")
                return redirect(_page_url(project.id))
    sources = [
        (
            source,
            source_selectors.bucket_source_last_sync(source),
            cache.get(source_services.sync_state_key(source.id)),
        )
        for source in source_selectors.bucket_source_list(project=project)
    ]
    context = _project_context(request, project, sources=sources, form=form)
    return render(request, "annotation/bucket_sources.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def bucket_source_sync(request, project_id: int, source_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.IMPORT_DATA
    )
    source = source_selectors.bucket_source_get(project=project, source_id=source_id)
    source_services.bucket_source_sync_request(source=source, actor=request.user)
    messages.success(request, f"Sync of “{source.name}” requested. New objects become items as it runs.")
    return redirect(_page_url(project.id))


@login_required
@require_POST
def bucket_source_delete(request, project_id: int, source_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.IMPORT_DATA
    )
    source = source_selectors.bucket_source_get(project=project, source_id=source_id)
    source_services.bucket_source_delete(source=source, actor=request.user)
    messages.success(request, f"Source “{source.name}” removed. Its items stay in the project.")
    return redirect(_page_url(project.id))


def _page_url(project_id: int) -> str:
    return reverse("project-bucket-sources", args=[project_id])
