"""Reads on items: filtering, search and keyset paging that stay fast at a million items."""

import math

from django.db import connection
from django.db.models import Q, QuerySet

from core.exceptions import DomainError, NotFound
from core.params import query_id
from projects.access import ProjectAction, can_do_in_project
from projects.models import Project

from ...models import ImportJob, Item, MetadataField, ProvenanceSource
from ...pii.selectors import items_with_personal_data_q

SORTABLE = {"id", "-id", "created_at", "-created_at"}
META_PREFIX = "meta."


def item_list(*, project: Project, params) -> QuerySet[Item]:
    """Items of `project` filtered by `params` (a QueryDict or dict of strings):

    - `split`, `source`, `consent`, `licence`, `state`, `pool`, `import_job`, `synthetic`, `is_gold`
      (true/false): exact. `personal_data` (true/false): has an open or confirmed personal-data finding.
      (true/false): exact. `provenance_kind`: the kind of the item's provenance source (#18), or
      "none" for items without one; `provenance_source`: its id.
    - `q`: words in the item's text (substring, every word), or exactly its external id.
    - `meta.<key>=<value>`: metadata equals value (typed by the project's metadata field);
      `meta.<key>__gte` / `__lte`: ranges for number and date fields.
    - `ordering`: id, -id, created_at, -created_at, or meta.<key> / -meta.<key> (ties by id in the
      same direction; on PostgreSQL number/date keys have an index, annotation.items.metadata_indexes).
    """
    items = Item.objects.filter(project=project)
    for name in ("split", "source", "consent", "licence", "pool"):
        if name in params:
            items = items.filter(**{name: params[name]})
    if (value := params.get("state")) is not None:
        if value not in Item.State.values:
            raise DomainError("invalid_filter", f"state is one of {', '.join(Item.State.values)}.")
        items = items.filter(state=value)
    if (value := params.get("is_gold")) is not None:
        items = items.filter(is_gold=_boolean("is_gold", value))
    if value := params.get("import_job"):
        items = items.filter(import_job_id=query_id("import_job", value))
    if value := params.get("provenance_kind"):
        if value == "none":
            items = items.filter(provenance_source__isnull=True)
        elif value not in ProvenanceSource.Kind.values:
            raise DomainError(
                "invalid_filter",
                f"provenance_kind is one of {', '.join(ProvenanceSource.Kind.values)} or none.",
            )
        else:
            items = items.filter(provenance_source_id__in=_sources_of_kind(project, value))
    if value := params.get("provenance_source"):
        items = items.filter(provenance_source_id=query_id("provenance_source", value))
    if (value := params.get("synthetic")) is not None:
        items = items.filter(synthetic=_boolean("synthetic", value))
    if (value := params.get("personal_data")) is not None:  # an open or confirmed finding (annotation/pii)
        items = items.filter(items_with_personal_data_q(_boolean("personal_data", value)))
    if query := (params.get("q") or "").strip():
        items = _search(items, query)
    types = dict(MetadataField.objects.filter(project=project).values_list("name", "type"))
    for key in params:
        if key.startswith(META_PREFIX):
            items = _meta_filter(items, key[len(META_PREFIX) :], params[key], types)
    return items.order_by(*_ordering(params.get("ordering") or "id", types))


def _sources_of_kind(project: Project, kind: str) -> list[int]:
    """The ids of the project's sources of `kind` (a handful): the item filter needs no join."""
    return list(ProvenanceSource.objects.filter(project=project, kind=kind).values_list("id", flat=True))


def _boolean(name: str, value: str) -> bool:
    lowered = str(value).lower()
    if lowered in {"true", "1", "yes"}:
        return True
    if lowered in {"false", "0", "no"}:
        return False
    raise DomainError("invalid_filter", f"{name} must be true or false.")


def _search(items: QuerySet[Item], query: str) -> QuerySet[Item]:
    """Every word must appear in the item's lower-cased text (substring match), or the whole query is
    the item's external id (what people know their items by: `pref-21` finds that item).

    On PostgreSQL the project's trigram index (annotation.items.search_index, built after a load)
    serves `LIKE '%word%'` for rare words; common words walk the keyset order and stop at the first
    page (the planner chooses; bench: search_1m). Same results with or without the index.
    """
    words = Q()
    for word in query.lower().split()[:10]:
        words &= Q(search_text__contains=word)
    return items.filter(words | Q(external_id=query))


def _typed(key: str, raw: str, kind: str | None):
    if kind == "number":
        try:
            number = float(raw)
        except ValueError as error:
            raise DomainError(
                "invalid_filter", f"meta.{key} is a number field; {raw!r} is not a number."
            ) from error
        if not math.isfinite(number):
            raise DomainError("invalid_filter", f"meta.{key} is a number field; {raw!r} is not finite.")
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        return _boolean(f"meta.{key}", raw)
    return raw


def _meta_filter(items: QuerySet[Item], spec: str, raw: str, types: dict[str, str]) -> QuerySet[Item]:
    key, _, op = spec.partition("__")
    if not key or op not in {"", "gte", "lte"}:
        raise DomainError(
            "invalid_filter", f"Unknown metadata filter meta.{spec}; use meta.<key>, __gte or __lte."
        )
    kind = types.get(key)
    value = _typed(key, raw, kind)
    if op == "":
        if connection.vendor == "postgresql":
            return items.filter(meta__contains={key: value})  # jsonb @>: exact type and value
        return items.filter(**{f"meta__{key}": value})  # SQLite has no JSON containment
    if kind not in {"number", "date"}:
        raise DomainError("invalid_filter", f"meta.{key} is not a number or date field; ranges need one.")
    return items.filter(**{f"meta__{key}__{op}": value})


def _ordering(spec: str, types: dict[str, str]) -> list[str]:
    if spec in SORTABLE:
        return [spec, "id"] if spec.lstrip("-") != "id" else [spec]
    descending = spec.startswith("-")
    key = spec.lstrip("-")
    if key.startswith(META_PREFIX) and key[len(META_PREFIX) :] in types:
        # Ties by id in the same direction: one index ((meta -> key), id) serves both directions.
        field = f"meta__{key[len(META_PREFIX) :]}"
        return [f"-{field}", "-id"] if descending else [field, "id"]
    raise DomainError("invalid_ordering", f"Cannot sort by {spec!r}; use id, created_at or meta.<key>.")


def import_job_list(*, project: Project) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(project=project).select_related("created_by").order_by("-id")


def metadata_field_list(*, project: Project) -> QuerySet[MetadataField]:
    return MetadataField.objects.filter(project=project).order_by("name")


def item_media_get(*, project: Project, item_id: int, user=None) -> Item:
    """The item `item_id` of `project` if it has media (a stored file or a URL); NotFound otherwise.
    With `user`: annotators (who may not browse items) only get items assigned to them."""
    if user is not None and not can_do_in_project(
        user=user, project=project, action=ProjectAction.VIEW_ITEMS
    ):
        from ...models import Assignment

        if not Assignment.objects.filter(project=project, item_id=item_id, annotator=user).exists():
            raise NotFound()
    item = (
        Item.objects.filter(project=project, pk=item_id)
        .only("id", "project_id", "data", "media", "media_url", "media_type")
        .first()
    )
    if item is None or not (item.media or item.media_url):
        raise NotFound("This item has no media.")
    return item
