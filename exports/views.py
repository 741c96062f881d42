"""Release pages (docs/RELEASES.md): the list with a create form, one release (manifest summary,
files, verify, retry, live progress) and the diff of two releases. Server-rendered and thin: one
access check, one service or selector call; the rules live in exports.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import DomainError
from projects import access
from projects.access import ProjectAction
from projects.pages import project_page_context

from . import selectors, services
from .api import READ, WRITE
from .formats import FORMATS, applicable_formats
from .models import Release

FILTER_KINDS = (
    ("all", "All labelled items"),
    ("reviewed", "Reviewed items only"),
    ("gold", "Gold items only"),
    ("split", "One split"),
    ("min_agreement", "Minimum agreement"),
    ("dates", "Imported between two dates"),
)

# Offered in the licence field (any SPDX expression may be typed).
COMMON_LICENCES = (
    ("CC-BY-4.0", "Creative Commons Attribution 4.0"),
    ("CC-BY-SA-4.0", "Creative Commons Attribution-ShareAlike 4.0"),
    ("CC-BY-NC-4.0", "Creative Commons Attribution-NonCommercial 4.0"),
    ("CC0-1.0", "Creative Commons Zero (public domain)"),
    ("CDLA-Permissive-2.0", "Community Data License Agreement, Permissive 2.0"),
    ("ODbL-1.0", "Open Database License 1.0"),
    ("MIT", "MIT License"),
    ("Apache-2.0", "Apache License 2.0"),
    ("LicenseRef-proprietary", "Your own terms (LicenseRef-<name>)"),
)


def _can(request, project, action: ProjectAction) -> bool:
    return access.can_do_in_project(user=request.user, project=project, action=action)


def _applicable(project) -> list[str]:
    from annotation.workflow.services.labeling import latest_schema

    try:
        return applicable_formats(latest_schema(project).definition)
    except DomainError:
        return []


def _filter_from(post) -> dict:
    """The release filter the form describes; a bad number or date is left to the service to refuse."""
    kind = post.get("filter", "all")
    if kind in ("reviewed", "gold"):
        return {kind: True}
    if kind == "split":
        return {"split": post.get("split", "").strip()}
    if kind == "min_agreement":
        raw = post.get("min_agreement", "").strip()
        try:
            return {"min_agreement": float(raw)}
        except ValueError:
            raise DomainError("bad_filter", f"Minimum agreement: “{raw}” is not a number.") from None
    if kind == "dates":
        return {
            key: post.get(key).strip()
            for key in ("created_from", "created_until")
            if (post.get(key) or "").strip()
        }
    if kind != "all":
        raise DomainError("bad_filter", "Choose one of the filters.")
    return {}


@login_required
@require_http_methods(["GET", "POST"])
def release_list_page(request, project_id: int):
    project = access.project_get_for_user(user=request.user, project_id=project_id, action=READ)
    can_create = _can(request, project, WRITE)
    applicable = _applicable(project)
    form: dict = {
        "name": "",
        "formats": ["jsonl"],
        "filter": "all",
        "include_raw": False,
        "include_media": True,
    }
    previous = selectors.release_list(project=project).first()
    if previous is not None:  # a dataset's licence and card rarely change between releases
        form.update(
            licence=previous.licence,
            languages=", ".join(previous.languages or []),
            intended_uses=previous.intended_uses,
            limitations=previous.limitations,
        )
    error = ""
    if request.method == "POST":
        if not can_create:
            access.project_get_for_user(user=request.user, project_id=project_id, action=WRITE)
        post = request.POST
        form = {
            "name": post.get("name", "").strip(),
            "formats": post.getlist("formats"),
            "filter": post.get("filter", "all"),
            "split": post.get("split", ""),
            "min_agreement": post.get("min_agreement", ""),
            "created_from": post.get("created_from", ""),
            "created_until": post.get("created_until", ""),
            "include_raw": post.get("include_raw") == "on",
            "include_media": post.get("include_media") == "on",
            "licence": post.get("licence", "").strip(),
            "languages": post.get("languages", "").strip(),
            "intended_uses": post.get("intended_uses", ""),
            "limitations": post.get("limitations", ""),
        }
        try:
            if not form["formats"]:
                raise DomainError("unknown_format", "Choose at least one format.")
            release = services.release_create(
                project=project,
                actor=request.user,
                name=form["name"],
                formats=form["formats"],
                filter=_filter_from(post),
                include_raw=form["include_raw"],
                include_media=form["include_media"],
                licence=form["licence"],
                languages=form["languages"],
                intended_uses=form["intended_uses"],
                limitations=form["limitations"],
            )
        except DomainError as problem:
            error = problem.message
        else:
            messages.success(request, f"Release {release.number} ({release.name}) requested.")
            return redirect("project-release", project.id, release.number)
    formats = [
        {
            "name": name,
            "applicable": name in applicable,
            "checked": name in form["formats"] or name == "jsonl",
        }
        for name in FORMATS
    ]
    context = project_page_context(
        request,
        project,
        releases=selectors.release_list(project=project)[:200],
        can_create=can_create,
        formats=formats,
        filter_kinds=FILTER_KINDS,
        common_licences=COMMON_LICENCES,
        form=form,
        form_error=error,
        feed_path=f"/ws/projects/{project.id}/",
    )
    return render(request, "exports/release_list.html", context, status=400 if error else 200)


def _bars(counts: dict) -> list[dict]:
    """Label counts per control as rows for a plain HTML/CSS bar chart (width in percent)."""
    charts = []
    for control, labels in sorted((counts.get("labels") or {}).items()):
        largest = max(labels.values(), default=0) or 1
        rows = [
            {"label": label, "count": count, "width": round(100 * count / largest, 1)}
            for label, count in sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        charts.append({"control": control, "rows": rows})
    return charts


@login_required
@require_http_methods(["GET", "POST"])
def release_detail_page(request, project_id: int, number: int):
    project = access.project_get_for_user(user=request.user, project_id=project_id, action=READ)
    release = selectors.release_get(project=project, number=number)
    verification = None
    if request.method == "POST":  # verify: read-only, open to every reader
        try:
            verification = services.release_verify(release=release)
        except DomainError as problem:
            messages.error(request, problem.message)
    manifest = release.manifest or {}
    counts = manifest.get("counts") or {}
    progress = (
        services.release_progress(release=release) if release.status == Release.Status.BUILDING else None
    )
    others = [
        r.number
        for r in selectors.release_list(project=project).filter(status=Release.Status.PUBLISHED)
        if r.number != release.number
    ]
    try:  # a reviewer shown personal-data placeholders reads no raw values from the files either
        selectors.release_file_ensure_readable(release=release, path="", viewer=request.user)
        files_refused = ""
    except DomainError as refusal:
        files_refused = refusal.message
    context = project_page_context(
        request,
        project,
        release=release,
        manifest=manifest,
        files_refused=files_refused,
        splits=sorted((counts.get("splits") or {}).items()),
        charts=_bars(counts),
        agreement=sorted((manifest.get("agreement") or {}).items()),
        files=selectors.release_file_listing(release=release),
        progress=progress,
        verification=verification,
        others=others,
        can_retry=_can(request, project, WRITE),
        reproduction=(
            services.reproduction_summary(found)
            if _can(request, project, WRITE) and (found := selectors.reproduction_latest(release=release))
            else None
        ),
        api_base=f"/api/projects/{project.id}/releases/{release.number}/",
        feed_path=f"/ws/projects/{project.id}/",
    )
    return render(request, "exports/release_detail.html", context)


@login_required
@require_POST
def release_retry_page(request, project_id: int, number: int):
    project = access.project_get_for_user(user=request.user, project_id=project_id, action=WRITE)
    release = selectors.release_get(project=project, number=number)
    try:
        services.release_retry(release=release, actor=request.user)
    except DomainError as problem:
        messages.error(request, problem.message)
    else:
        messages.success(request, f"Release {release.number} is being built again.")
    return redirect("project-release", project.id, release.number)


@login_required
@require_POST
def release_reproduce_page(request, project_id: int, number: int):
    project = access.project_get_for_user(user=request.user, project_id=project_id, action=WRITE)
    release = selectors.release_get(project=project, number=number)
    try:
        services.release_reproduce_request(release=release, actor=request.user)
    except DomainError as problem:
        messages.error(request, problem.message)
    return redirect(f"{reverse('project-release', args=[project.id, release.number])}#release-reproduce")


@login_required
def release_diff_page(request, project_id: int, number: int):
    project = access.project_get_for_user(user=request.user, project_id=project_id, action=READ)
    release = selectors.release_get(project=project, number=number)
    against = request.GET.get("against", "")
    diff, error = None, ""
    if not (against.isascii() and against.isdecimal() and len(against) <= 9):
        error = "Choose the release to compare with."
    else:
        old = selectors.release_get(project=project, number=int(against))
        try:
            diff = services.release_diff(old=old, new=release)
        except DomainError as problem:
            error = problem.message
    changes = []
    if diff:
        for control, labels in sorted(diff["label_counts"].items()):
            for label, change in sorted(labels.items()):
                changes.append({"control": control, "label": label, **change})
    others = [
        r.number
        for r in selectors.release_list(project=project).filter(status=Release.Status.PUBLISHED)
        if r.number != release.number
    ]
    context = project_page_context(
        request,
        project,
        release=release,
        against=against,
        diff=diff,
        changes=changes,
        others=others,
        diff_error=error,
    )
    return render(request, "exports/release_diff.html", context, status=400 if error and against else 200)
