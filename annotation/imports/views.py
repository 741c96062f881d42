"""Server-rendered import pages: one import job's status, counts and first errors."""

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from projects import access
from projects.access import ProjectAction
from projects.views import _project_context

from ..items.selectors import items as item_selectors
from .services.jobs import progress_key


@login_required
def import_job_detail(request, project_id: int, job_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.VIEW_ITEMS
    )
    job = item_selectors.import_job_list(project=project).filter(pk=job_id).first()
    if job is None:
        raise Http404("Not found.")
    context = _project_context(
        request,
        project,
        job=job,
        progress=None if job.is_finished else cache.get(progress_key(job.id)),
        error_report_url=(
            reverse("import-job-errors", kwargs={"project_pk": project.id, "pk": job.id})
            if job.error_report
            else None
        ),
        more_errors=job.error_count - len(job.error_sample),
    )
    return render(request, "annotation/import_job_detail.html", context)
