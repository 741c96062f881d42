"""Reads of the data manager: the filtered item set (item_list plus the manager's extra filters), the
columns a page of the table shows, and the rows of an exported selection. Keyset paging by id and
no COUNT(*) over the whole table (docs/DATA.md, "The data manager")."""

import json
from collections.abc import Iterator, Mapping

from django.db.models import QuerySet

from projects.models import Project

from ..models import Item
from .extensions import item_facts
from .keys import item_key
from .selectors.items import item_list

EXTRA_FILTERS = ("external_id",)
EXPORT_CHUNK = 2000
# Columns of the item table after the id and the item's key (always shown, the key links to the item
# page), in their order; `?cols=` chooses among them (plus data.<field>, meta.<key>).
BASE_COLUMNS = {
    "text": "Text",
    "metadata": "Metadata",
    "state": "State",
    "annotations": "Annotations",
    "agreement": "Agreement",
    "split": "Split",
    "gold": "Gold",
    "personal_data": "Personal data",
    "priority": "Priority",
    "pool": "Pool",
    "source": "Source",
    "provenance": "Provenance",
    "created": "Created (UTC)",
}
DEFAULT_COLUMNS = [
    "text",
    "metadata",
    "state",
    "split",
    "gold",
    "personal_data",
    "source",
    "provenance",
    "created",
]


def item_filter(*, project: Project, params: Mapping[str, str]) -> QuerySet[Item]:
    """item_list's filters plus `external_id` (exact: the unique index). DomainError on bad input."""
    params = dict(params)
    extras = {name: params.pop(name) for name in EXTRA_FILTERS if name in params}
    items = item_list(project=project, params=params)
    if extras.get("external_id"):
        items = items.filter(external_id=extras["external_id"])
    return items


def columns_chosen(raw: str | None, *, data_fields: list[str], meta_keys: list[str]) -> list[str]:
    """The columns in `?cols=` that exist (unknown names are dropped), else the defaults."""
    allowed = set(BASE_COLUMNS) | {f"data.{f}" for f in data_fields} | {f"meta.{k}" for k in meta_keys}
    chosen = [c for c in (raw or "").split(",") if c in allowed]
    return chosen or list(DEFAULT_COLUMNS)


def column_title(name: str) -> str:
    return BASE_COLUMNS.get(name) or name


def agreement_by_item(*, project: Project, item_ids: list[int]) -> dict[int, float]:
    """Mean per-item agreement over the controls of the newest quality run, for one page of items
    (registered by quality: annotation.items.extensions)."""
    return item_facts("agreement", project=project, item_ids=item_ids)


def items_export_lines(*, project: Project, items: QuerySet[Item]) -> Iterator[str]:
    """JSON Lines of a selection (keyset by id, EXPORT_CHUNK rows per query): the item's key, external
    id, data, metadata, split, state, gold flag and consensus answers."""
    after = 0
    base = items.order_by("id").defer("search_text", "predictions")
    while True:
        chunk = list(base.filter(id__gt=after)[:EXPORT_CHUNK])
        if not chunk:
            return
        consensus = item_facts("consensus", project=project, item_ids=[i.id for i in chunk])
        for item in chunk:
            record = {
                "id": item.id,
                "key": item_key(item.external_id, item.checksum, item.id),
                "external_id": item.external_id,
                "data": item.data,
                "meta": item.meta,
                "split": item.split,
                "state": item.state,
                "is_gold": item.is_gold,
                "consensus": consensus.get(item.id, {}),
            }
            yield json.dumps(record, ensure_ascii=False, default=str) + "\n"
        after = chunk[-1].id


def item_keys(*, project: Project, item_ids) -> dict[int, str]:
    """What names each item to people (exports.display.item_key), for ids other pages list; one query."""
    ids = {int(i) for i in item_ids if isinstance(i, int)}
    if not ids:
        return {}
    rows = Item.objects.filter(project=project, pk__in=ids).values_list("id", "external_id", "checksum")
    return {item_id: item_key(external_id, checksum, item_id) for item_id, external_id, checksum in rows}
