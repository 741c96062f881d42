"""Server-rendered pages of the data manager: the Data tab's item table (columns, filters in the URL,
selection, bulk actions). The item page and gold from the UI are quality's (quality/item_page/).
Thin: access check, then a selector or one service."""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from projects import access
from projects import selectors as project_selectors
from projects.access import ProjectAction

from ..models import MetadataField, ProvenanceSource
from ..pii.selectors import pii_types_by_item
from ..pii.services import pii_masked_data_many, pii_search_ensure_allowed
from ..provenance import selectors as provenance_selectors
from .forms import ItemFilterForm
from .keys import item_key
from .manager_models import ItemBulkAction
from .manager_selectors import (
    BASE_COLUMNS,
    agreement_by_item,
    column_title,
    columns_chosen,
    item_filter,
)
from .manager_services import INLINE_MAX, bulk_action_request

ITEMS_PER_PAGE = 50
MATCH_COUNT_LIMIT = 1000
RECENT_BULK = 5
VALUE_CHARS = 60


class DataManagerFilterForm(ItemFilterForm):
    """The Data tab's filters: ItemFilterForm's plus gold and an exact external id."""

    gold = forms.ChoiceField(
        required=False, label="Gold", choices=[("", "Any"), ("true", "Gold"), ("false", "Not gold")]
    )
    external_id = forms.CharField(required=False, max_length=255, label="External id")
    personal_data = forms.ChoiceField(
        required=False,
        label="Personal data",
        choices=[("", "Any"), ("true", "Has personal data"), ("false", "No personal data")],
    )
    provenance_kind = forms.ChoiceField(
        required=False,
        label="Source kind",
        choices=[("", "Any"), *ProvenanceSource.Kind.choices, ("none", "No source")],
    )

    def params(self) -> dict[str, str]:
        params = super().params()
        if self.cleaned_data.get("gold"):
            params["is_gold"] = self.cleaned_data["gold"]
        if self.cleaned_data.get("personal_data"):
            params["personal_data"] = self.cleaned_data["personal_data"]
        if self.cleaned_data.get("provenance_kind"):
            params["provenance_kind"] = self.cleaned_data["provenance_kind"]
        if self.cleaned_data.get("external_id"):
            params["external_id"] = self.cleaned_data["external_id"]
        return params


def _short(value) -> str:
    shown = str(value).lower() if isinstance(value, bool) else "" if value is None else str(value)
    shown = " ".join(shown.split())
    return shown if len(shown) <= VALUE_CHARS else f"{shown[: VALUE_CHARS - 1]}…"


def data_manager_table(request, project, filters: DataManagerFilterForm, fields: list[MetadataField]) -> dict:
    """One keyset page (by id, `?after=<id>`) of the filtered items with the chosen columns, a capped
    count of the matches, and what the selection toolbar needs. No COUNT(*) over the whole table."""
    from .display import item_preview
    from .manager_selectors import DEFAULT_COLUMNS
    from .views import _meta_chips

    params = filters.params()
    schema = project_schema_fields(project)
    meta_keys = [field.name for field in fields]
    columns = columns_chosen(",".join(request.GET.getlist("cols")), data_fields=schema, meta_keys=meta_keys)
    try:
        pii_search_ensure_allowed(project=project, viewer=request.user, query=params.get("q", ""))
        items = item_filter(project=project, params=params)
    except DomainError as error:
        return {"filter_error": error.message, "rows": [], "filtered": True, "columns": []}
    after = request.GET.get("after", "")
    page_items = items.defer("search_text", "predictions")
    if after.isdecimal():
        page_items = page_items.filter(id__gt=int(after))
    page = list(page_items[: ITEMS_PER_PAGE + 1])
    query = request.GET.copy()
    query.pop("after", None)
    next_url = None
    if len(page) > ITEMS_PER_PAGE:
        page = page[:ITEMS_PER_PAGE]
        query["after"] = str(page[-1].id)
        next_url = f"?{query.urlencode()}"
        query.pop("after")
    matching = None
    if params:
        matching = items.order_by().values("id")[: MATCH_COUNT_LIMIT + 1].count()
    agreements = (
        agreement_by_item(project=project, item_ids=[i.id for i in page]) if "agreement" in columns else {}
    )
    pii_types = (
        pii_types_by_item(item_ids=[i.id for i in page]) if "personal_data" in columns else {}
    )  # counts of types, never values
    shown = pii_masked_data_many(items=page, viewer=request.user, project=project)  # reviewers: masked
    typed = set(meta_keys)
    provenance = (
        {s.id: s for s in provenance_selectors.provenance_source_list(project=project)}
        if "provenance" in columns
        else {}
    )
    rows = []
    for item in page:
        chips, more = _meta_chips(item.meta, typed)
        cells = []
        for name in columns:
            if name.startswith("data."):
                data = shown[item.id]
                value = data.get(name[5:]) if isinstance(data, dict) else None
                cells.append(
                    (name, "value", _short(value if isinstance(value, (str, int, float, bool)) else "…"))
                )
            elif name.startswith("meta."):
                value = item.meta.get(name[5:]) if isinstance(item.meta, dict) else None
                cells.append((name, "value", _short(value)))
            elif name == "agreement":
                cells.append((name, name, agreements.get(item.id)))
            elif name == "personal_data":
                cells.append((name, name, pii_types.get(item.id)))
            elif name == "provenance":
                cells.append((name, name, provenance.get(item.provenance_source_id)))
            else:
                cells.append((name, name, None))
        rows.append(
            {
                "item": item,
                "key": item_key(item.external_id, item.checksum, item.id),
                "preview": item_preview(shown[item.id]),
                "chips": chips,
                "more_chips": more,
                "cells": cells,
            }
        )
    filter_query = request.GET.copy()
    filter_query.pop("after", None)
    return {
        "rows": rows,
        "columns": [(name, column_title(name)) for name in columns],
        "column_choices": [
            (name, title, name in columns)
            for name, title in [
                *BASE_COLUMNS.items(),
                *((f"data.{f}", f"data.{f}") for f in schema),
                *((f"meta.{k}", f"meta.{k}") for k in meta_keys),
            ]
        ],
        "default_columns": columns == DEFAULT_COLUMNS,
        "next_url": next_url,
        "first_url": f"?{query.urlencode()}" if after else None,
        "filtered": bool(params),
        "matching": matching,
        "matching_more": matching is not None and matching > MATCH_COUNT_LIMIT,
        "match_limit": MATCH_COUNT_LIMIT,
        "import_job_filter": params.get("import_job"),
        "filter_query": filter_query.urlencode(),
        "bulk_actions": ItemBulkAction.Action.choices,
        "inline_max": INLINE_MAX,
        "recent_bulk": list(ItemBulkAction.objects.filter(project=project).order_by("-id")[:RECENT_BULK]),
        "export_url": reverse("item-export", kwargs={"project_pk": project.id})
        + (f"?{urlencode(params)}" if params else ""),
    }


def project_schema_fields(project) -> list[str]:
    """The data fields of the newest schema (the item table's data.<field> columns)."""

    schema = project_selectors.schema_latest(project=project)
    if schema is None:
        return []
    return [f.get("source") or f.get("name") for f in schema.definition.get("fields", []) if f.get("name")]


@login_required
@require_POST
def data_bulk_action(request, project_id: int):
    """The Data tab's bulk toolbar: the action on the checked items, or on all items matching the filter
    the page shows (`filter_query`), queued for a worker."""
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.MANAGE_WORKFLOW
    )
    filter_query = request.POST.get("filter_query", "")[:4000]
    back = f"{reverse('project-data', args=[project.id])}?{filter_query}#items"
    action = request.POST.get("action", "")
    scope = request.POST.get("scope", "selected")
    value = (
        request.POST.get("value", "")
        if action in {"priority", "pool", "split", "consent", "licence"}
        else None
    )
    if action == "export":
        if scope == "matching":
            return redirect(f"{reverse('item-export', kwargs={'project_pk': project.id})}?{filter_query}")
        ids = ",".join(i for i in request.POST.getlist("item") if i.isdecimal())
        return redirect(f"{reverse('item-export', kwargs={'project_pk': project.id})}?ids={ids}")
    try:
        if scope == "matching":
            fields = list(MetadataField.objects.filter(project=project).values_list("name", flat=True))
            form = DataManagerFilterForm(QueryDict(filter_query), splits=_splits(project), field_names=fields)
            if not form.is_valid():
                raise DomainError("invalid_filter", "The filter is not valid; filter the table again.")
            bulk = bulk_action_request(
                project=project, actor=request.user, action=action, value=value, filters=form.params()
            )
        else:
            ids = [int(i) for i in request.POST.getlist("item") if i.isdecimal()]
            if not ids:
                raise DomainError(
                    "invalid_selection", "Select items first, or choose all matching the filter."
                )
            bulk = bulk_action_request(
                project=project, actor=request.user, action=action, value=value, item_ids=ids
            )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(back)
    bulk.refresh_from_db()
    label = bulk.get_action_display()
    if bulk.status == ItemBulkAction.Status.SUCCEEDED:
        note = f" ({bulk.skipped:,} skipped)" if bulk.skipped else ""
        messages.success(request, f"{label}: {bulk.changed:,} of {bulk.matched:,} items changed{note}.")
    elif bulk.status == ItemBulkAction.Status.FAILED:
        messages.error(request, f"{label} failed: {bulk.detail}")
    else:
        messages.success(
            request, f"{label} queued: a worker applies it to every matching item (see Bulk actions)."
        )
    return redirect(back)


def _splits(project) -> list[str]:
    from .views import _split_counts

    return list(_split_counts(project))
