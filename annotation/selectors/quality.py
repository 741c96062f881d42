"""What the quality app reads (STYLE.md: quality reads annotation data through annotation.selectors).

Every reader streams (server-side cursor on PostgreSQL) and returns plain tuples, never model
instances: a full recompute reads a million rows.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from django.db.models import Max

from projects.labeling import labeling_settings
from projects.models import Project

from ..models import Annotation, AnnotationRevision, Item, MetadataField, Prediction

CHUNK = 10_000
SLICE_MAX_VALUES = 50  # a metadata field with more distinct values is not a useful slice


class AnswerRow(NamedTuple):
    annotation_id: int
    item_id: int
    annotator_id: int
    result: dict
    is_gold: bool  # made on a gold item
    active_ms: int
    updated_at: datetime


def quality_answers(
    *, project: Project, changed_since: datetime | None = None, item_ids=None
) -> Iterator[AnswerRow]:
    """Current answers (head revisions) on the project's items that are not excluded, by item then
    annotator. `changed_since`: only annotations changed (submitted, corrected, fixed, reviewed) at or
    after that time; `item_ids`: only those items."""
    rows = Annotation.objects.filter(project=project, item__excluded=False)
    if changed_since is not None:
        rows = rows.filter(updated_at__gte=changed_since)
    if item_ids is not None:
        rows = rows.filter(item_id__in=list(item_ids))
    fields = ("id", "item_id", "annotator_id", "result", "item__is_gold", "active_ms", "updated_at")
    for row in rows.order_by("item_id", "annotator_id").values_list(*fields).iterator(chunk_size=CHUNK):
        yield AnswerRow(*row)


def newest_revision_id() -> int:
    """The newest annotation revision id anywhere (an index lookup): stamped on runs for reference."""
    return AnnotationRevision.objects.aggregate(newest=Max("id"))["newest"] or 0


def item_slices(*, project: Project) -> tuple[list[str], dict[int, tuple]]:
    """Metadata slices: the category/string/boolean metadata keys with few values, plus the item's
    source and split, and each non-excluded item's values for them (None where missing)."""
    keys = ["source", "split"]
    for field in MetadataField.objects.filter(project=project).order_by("name"):
        if field.type in {MetadataField.Type.CATEGORY, MetadataField.Type.BOOLEAN} or (
            field.type == MetadataField.Type.STRING and 0 < len(field.categories or []) <= SLICE_MAX_VALUES
        ):
            keys.append(f"meta.{field.name}")
    values: dict[int, tuple] = {}
    rows = Item.objects.filter(project=project, excluded=False).values_list("id", "source", "split", "meta")
    for item_id, source, split, meta in rows.iterator(chunk_size=CHUNK):
        meta = meta if isinstance(meta, dict) else {}
        values[item_id] = (source, split or None, *(_scalar(meta.get(key[5:])) for key in keys[2:]))
    return keys, values


def _scalar(value):
    return value if isinstance(value, str | bool | int) and not isinstance(value, float) else None


def gold_items(*, project: Project) -> list[int]:
    gold = Item.objects.filter(project=project, is_gold=True, excluded=False)
    return list(gold.values_list("id", flat=True))


def items_for_escalation(*, project: Project, item_ids) -> list[tuple[int, str]]:
    """Of these items, those that finished their annotation phase and may still get another
    annotator (not gold, not excluded, below the project's escalation limit), by id."""
    limit = labeling_settings(project).max_escalation
    rows = Item.objects.filter(
        project=project,
        pk__in=sorted(item_ids),
        state__in=[Item.State.COMPLETED, Item.State.IN_REVIEW],
        is_gold=False,
        excluded=False,
        extra__lt=limit,
    ).order_by("id")
    return [(item_id, "") for item_id in rows.values_list("id", flat=True)]


def item_get(*, project: Project, item_id: int) -> Item | None:
    return Item.objects.filter(project=project, pk=item_id).first()


def items_exist(*, project: Project, item_ids) -> set[int]:
    return set(Item.objects.filter(project=project, pk__in=list(item_ids)).values_list("id", flat=True))


def item_predictions(*, project: Project) -> Iterator[tuple[int, str, str, dict]]:
    """(item id, model, model version, result) of every imported prediction, by item."""
    rows = Prediction.objects.filter(project=project, item__excluded=False).order_by("item_id", "id")
    yield from rows.values_list("item_id", "model_name", "model_version", "result").iterator(chunk_size=CHUNK)
