"""Erasure pages (docs/GOVERNANCE.md#erasure): "Erase…" on the item page, on an import in the Data tab's
imports list and on a bucket source, and "Erase data subject…" on the Data tab. Each is two steps: the
reason and a dry run listing what would go, then the confirmation, where the admin types the number of
items the dry run found (an erasure cannot be undone). Thin: access check, then
governance.erasure.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from annotation.models import BucketSource, ImportJob, Item, MetadataField
from core.exceptions import DomainError, NotFound
from projects import access
from projects.access import ProjectAction
from projects.pages import project_page_context

from .erasure import services

KIND_NAMES = {
    "items": "items",
    "annotations": "annotations",
    "annotation_revisions": "annotation revisions",
    "assignments": "assignments and drafts",
    "predictions": "predictions",
    "review_decisions": "review decisions",
    "review_leases": "review leases",
    "consensus_results": "consensus answers",
    "gold_answers": "gold answers",
    "media_files": "media files",
    "import_files": "uploaded import files and error reports (deleted whole: they hold other rows too)",
    "near_duplicate_groups": "near-duplicate groups",
    "near_duplicate_index": "near-duplicate index entries",
    "personal_data_findings": "personal-data findings",
    "bulk_action_references": "references in bulk-action records",
    "outbox_messages": "pending jobs naming the items",
}


def _summary(result) -> list[tuple[str, int]]:
    return [(KIND_NAMES.get(kind, kind), n) for kind, n in sorted(result.deleted.items()) if n]


@login_required
@require_http_methods(["GET", "POST"])
def erase_item_page(request, project_id: int, item_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.ERASE
    )
    item = Item.objects.filter(project=project, pk=item_id).only("id", "external_id").first()
    if item is None:
        raise NotFound()
    return _erase_page(
        request,
        project,
        target=f"item {item.external_id or item.id}",
        run=lambda reason, dry_run: services.erase_items(
            project=project, item_ids=[item.id], reason=reason, actor=request.user, dry_run=dry_run
        ),
        fields={},
    )


@login_required
@require_http_methods(["GET", "POST"])
def erase_subject_page(request, project_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.ERASE
    )
    key = request.POST.get("key", "")
    value = request.POST.get("value", "")
    return _erase_page(
        request,
        project,
        target=f"the data subject {key} = {value}" if key else "a data subject",
        run=lambda reason, dry_run: services.erase_data_subject(
            project=project, key=key, value=value, reason=reason, actor=request.user, dry_run=dry_run
        ),
        fields={"key": key, "value": value},
        keys=list(
            MetadataField.objects.filter(project=project).order_by("name").values_list("name", flat=True)
        ),
        subject=True,
    )


@login_required
@require_http_methods(["GET", "POST"])
def erase_import_job_page(request, project_id: int, job_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.ERASE
    )
    job = ImportJob.objects.filter(project=project, pk=job_id).only("id", "original_name").first()
    if job is None:
        raise NotFound()
    return _erase_page(
        request,
        project,
        target=f"import #{job.id} ({job.original_name})",
        run=lambda reason, dry_run: services.erase_source(
            project=project, import_job_id=job.id, reason=reason, actor=request.user, dry_run=dry_run
        ),
        fields={},
    )


@login_required
@require_http_methods(["GET", "POST"])
def erase_bucket_source_page(request, project_id: int, source_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.ERASE
    )
    source = (
        BucketSource.objects.filter(project=project, pk=source_id)
        .only("id", "name", "bucket", "prefix")
        .first()
    )
    if source is None:
        raise NotFound()
    return _erase_page(
        request,
        project,
        target=f"bucket source {source.name} (s3://{source.bucket}/{source.prefix})",
        run=lambda reason, dry_run: services.erase_source(
            project=project, bucket_source_id=source.id, reason=reason, actor=request.user, dry_run=dry_run
        ),
        fields={},
    )


def _erase_page(request, project, *, target: str, run, fields: dict, keys=None, subject: bool = False):
    """Two steps. "preview": a dry run. "confirm": a dry run again, and the erasure only when the typed
    number equals the items it finds now (a typo, or items added or erased since the preview, shows the
    preview again with nothing changed)."""
    reason = request.POST.get("reason", "")
    preview = None
    if request.method == "POST":
        confirm = request.POST.get("step") == "confirm"
        try:
            result = run(reason, True)
            if confirm and request.POST.get("confirm_count", "").strip() != str(result.items):
                messages.error(
                    request,
                    f"Type {result.items} (the number of items that would be erased) to confirm. "
                    "Nothing was erased.",
                )
                confirm = False
            elif confirm:
                result = run(reason, False)
        except DomainError as error:
            if error.status_code == 404:
                raise
            messages.error(request, error.message)
        else:
            if confirm:
                withdrawn = ", ".join(
                    f"#{r['number']} (successor #{r['successor']})" for r in result.releases
                )
                messages.success(
                    request,
                    f"Erased {result.items} item{'s' if result.items != 1 else ''}"
                    + (f"; {result.already_erased} erased before" if result.already_erased else "")
                    + (
                        f". Releases withdrawn: {withdrawn}; the successors are being built."
                        if withdrawn
                        else "."
                    )
                    + " A tombstone keeps the audit trail without the content.",
                )
                return redirect("project-data", project.id)
            preview = {"result": result, "summary": _summary(result)}
    context = project_page_context(
        request,
        project,
        target=target,
        reason=reason,
        preview=preview,
        fields=fields,
        keys=keys,
        subject=subject,
    )
    return render(request, "governance/erase.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def retention_page(request, project_id: int):
    """The project's retention rules, what the next run would delete, the runs, a run on demand
    (managers). Thin: governance.retention.services."""
    from projects.retention_settings import retention_settings_from

    from .retention import services as retention
    from .retention.selectors import retention_run_list

    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.UPDATE
    )
    if request.method == "POST":
        dry_run = request.POST.get("dry_run") != "0"
        run = retention.retention_run(project=project, actor=request.user, dry_run=dry_run)
        names = {"raw_media": "media files", "unreleased_items": "items never released", "drafts": "drafts"}
        done = ", ".join(f"{n} {names.get(rule, rule)}" for rule, n in run.counts.items()) or "nothing"
        messages.success(request, ("Dry run: would delete " if dry_run else "Deleted ") + done + ".")
        return redirect("project-retention", project_id=project.id)
    context = project_page_context(
        request,
        project,
        rules=retention_settings_from(project.settings).as_dict(),
        runs=retention_run_list(project=project)[:50],
        current="project-settings",
    )
    return render(request, "governance/retention.html", context)
