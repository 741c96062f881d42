"""Server-rendered data pages: imports, the item table, metadata fields and splits of a project.

Thin: one access check (projects.access), then selectors to read or one service call to write.
The upload itself runs in the browser against the API (frontend/src/ui/import-panel.tsx).
"""

from urllib.parse import urlencode

from django.conf import settings
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

from ..models import ImportJob, Item, MetadataField, SplitOperation
from ..neardup import selectors as neardup_selectors
from ..pii import selectors as pii_selectors
from ..provenance import selectors as provenance_selectors
from ..splits import selectors as split_selectors
from ..splits import services as split_services
from ..workflow.selectors import labeling as labeling_selectors
from . import services as metadata_services
from .forms import NO_SPLIT, MetadataFieldTypeForm, SplitAssignForm
from .manager_views import DataManagerFilterForm, data_manager_table
from .selectors import items as item_selectors

ITEMS_PER_PAGE = 50
MATCH_COUNT_LIMIT = 1000  # a filtered count stops here: "more than 1,000" costs the same at any size
RECENT_JOBS = 10
META_CHIPS = 4  # metadata values shown per row
CATEGORY_CHIPS = 12  # category values shown per metadata field
SPLIT_COUNTS_SECONDS = 300  # cap on how long the split summary may lag a change that does not add items


@login_required
@require_http_methods(["GET", "POST"])
def project_data(request, project_id: int):
    """The Data tab. GET: imports, splits, metadata fields and the filtered item table.
    POST (managers): assign splits with the form in the splits card."""
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.VIEW_ITEMS
    )
    fields = list(item_selectors.metadata_field_list(project=project))
    field_names = [field.name for field in fields]
    split_form = SplitAssignForm(request.POST or None, field_names=field_names)
    if request.method == "POST":
        project = access.project_get_for_user(
            user=request.user, project_id=project_id, action=ProjectAction.IMPORT_DATA
        )
        if split_form.is_valid():
            try:
                operation = split_services.split_request(
                    project=project, actor=request.user, **split_form.cleaned_data
                )
            except DomainError as error:
                split_form.add_error(None, error.message)
            else:
                if operation.status == operation.Status.QUEUED:
                    operation.refresh_from_db()  # in embedded mode it may have run already
                if operation.status == operation.Status.QUEUED:
                    messages.success(
                        request, f"Split queued (seed {operation.seed}): a worker is assigning the items now."
                    )
                else:
                    counts = " · ".join(f"{name} {count:,}" for name, count in operation.counts.items())
                    messages.success(request, f"Split saved: {counts} (seed {operation.seed}).")
                return redirect(f"{reverse('project-data', args=[project.id])}#splits")

    split_counts = _split_counts(project)
    progress = labeling_selectors.project_progress(project=project)
    # The data manager (annotation/items/manager_views.py): columns, gold and external id filters, selection.
    filters = DataManagerFilterForm(request.GET, splits=list(split_counts), field_names=field_names)
    table = data_manager_table(request, project, filters, fields) if filters.is_valid() else {}
    context = _project_context(
        request,
        project,
        jobs=list(item_selectors.import_job_list(project=project)[:RECENT_JOBS]),
        fields=[
            (field, field.categories[:CATEGORY_CHIPS], len(field.categories) - CATEGORY_CHIPS)
            for field in fields
        ],
        field_types=MetadataField.Type.choices,
        split_rows=_split_rows(split_counts),
        total_items=sum(split_counts.values()),
        split_form=split_form,
        filters=filters,
        no_split=NO_SPLIT,
        near_duplicates=neardup_selectors.near_duplicate_group_counts(project=project),
        personal_data=pii_selectors.pii_counts(project=project),  # counts only: no values
        can_manage_pii=access.can_do_in_project(
            user=request.user, project=project, action=ProjectAction.MANAGE_PERSONAL_DATA
        ),
        progress=progress,
        state_rows=[(state, label, progress["items"][state]) for state, label in Item.State.choices],
        **table,
    )
    if context["can_import"] and not project.is_archived:
        context["data_config"] = {
            "project_id": project.id,
            "ws_path": f"/ws/projects/{project.id}/",
            "items_url": reverse("project-data", args=[project.id]),
            "max_bytes": settings.ANNOTATION_IMPORT_MAX_BYTES,
            "modes": ImportJob.Mode.choices,
            "consents": Item.Consent.choices,
            "provenance_sources": [
                {"id": s.id, "name": s.name, "kind": s.kind, "terms": s.terms}
                for s in provenance_selectors.provenance_source_list(project=project)
            ],
        }
    bad = filters.errors or table.get("filter_error") or split_form.errors
    return render(request, "annotation/project_data.html", context, status=400 if bad else 200)


@login_required
@require_POST
def metadata_field_change(request, project_id: int, field_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.IMPORT_DATA
    )
    form = MetadataFieldTypeForm(request.POST)
    if not form.is_valid():
        raise DomainError("invalid_type", f"Choose one of: {', '.join(MetadataField.Type.labels)}.")
    field = metadata_services.metadata_field_update(
        project=project, actor=request.user, field_id=field_id, type=form.cleaned_data["type"]
    )
    messages.success(request, f"“{field.name}” is now a {field.get_type_display().lower()} field.")
    return redirect(f"{reverse('project-data', args=[project.id])}#metadata")


# --- Presentation helpers ---------------------------------------------------------------------------


def _meta_chips(meta, typed: set[str]) -> tuple[list[tuple[str, str, str | None]], int]:
    """The first META_CHIPS metadata values as (key, value, filter link or None), and how many more."""
    if not isinstance(meta, dict):
        return [], 0
    chips = []
    for key, value in list(meta.items())[:META_CHIPS]:
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        link = None
        if key in typed and isinstance(value, (str, int, float, bool)) and len(shown) <= 200:
            link = f"?{urlencode({'meta_key': key, 'meta_value': shown})}"
        chips.append((key, shown if len(shown) <= 40 else f"{shown[:39]}…", link))
    return chips, max(len(meta) - META_CHIPS, 0)


def _split_counts(project) -> dict[str, int]:
    """split_selectors.split_counts (one GROUP BY over every item), cached until an item is added or a
    split is recorded (the key holds the newest ids of both, two index lookups), and at most
    SPLIT_COUNTS_SECONDS, so a page view does not count a million rows."""
    newest_item = Item.objects.filter(project=project).order_by("-id").values_list("id", flat=True).first()
    newest_split = (
        SplitOperation.objects.filter(project=project).order_by("-id").values_list("id", flat=True).first()
    )
    key = f"annotation:split-counts:{project.id}:{newest_item}:{newest_split}"
    counts = cache.get(key)
    if counts is None:
        counts = split_selectors.split_counts(project=project)
        cache.set(key, counts, timeout=SPLIT_COUNTS_SECONDS)
    return counts


def _split_rows(counts: dict[str, int]) -> list[dict]:
    total = sum(counts.values()) or 1
    rows = [
        {"name": name, "count": count, "percent": round(100 * count / total, 1), "filter": name}
        for name, count in counts.items()
        if name
    ]
    if counts.get(""):
        rows.append(
            {
                "name": "",
                "count": counts[""],
                "percent": round(100 * counts[""] / total, 1),
                "filter": NO_SPLIT,
            }
        )
    return rows
