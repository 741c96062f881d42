"""What the quality app reads (STYLE.md: quality reads annotation data through annotation's selectors).

Every reader streams (server-side cursor on PostgreSQL) and returns plain tuples, never model
instances: a full recompute reads a million rows.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np
from django.db import connection
from django.db.models import Max
from django.db.models.fields.json import KT

from projects.labeling import labeling_settings
from projects.models import Project

from ...models import Annotation, AnnotationRevision, Item, MetadataField, Prediction

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


@dataclass
class Slices:
    """Per slice key, each item's value as a code into that key's vocabulary (-1: no value)."""

    keys: list[str]
    item_ids: np.ndarray  # sorted
    codes: list[np.ndarray]  # one int32 array per key, aligned with item_ids
    values: list[list[str]]  # one vocabulary per key

    def value_codes(self, position: int, item_ids: np.ndarray) -> np.ndarray:
        """The codes of these items for key `position` (-1 for unknown items)."""
        where = np.clip(np.searchsorted(self.item_ids, item_ids), 0, max(len(self.item_ids) - 1, 0))
        if not len(self.item_ids):
            return np.full(len(item_ids), -1, dtype=np.int32)
        found = self.item_ids[where] == item_ids
        return np.where(found, self.codes[position][where], -1)


def item_slices(*, project: Project) -> Slices:
    """Metadata slices: the item's source and split, plus the category/boolean metadata keys and the
    string keys with few values; each non-excluded item's value for them."""
    keys = ["source", "split"]
    for field in MetadataField.objects.filter(project=project).order_by("name"):
        if "__" in field.name:
            continue
        if field.type in {MetadataField.Type.CATEGORY, MetadataField.Type.BOOLEAN} or (
            field.type == MetadataField.Type.STRING and 0 < len(field.categories or []) <= SLICE_MAX_VALUES
        ):
            keys.append(f"meta.{field.name}")
    extracted = {f"k{n}": KT(f"meta__{key[5:]}") for n, key in enumerate(keys[2:])}
    rows = (
        Item.objects.filter(project=project, excluded=False)
        .annotate(**extracted)
        .order_by("id")
        .values_list("id", "source", "split", *extracted)
    )
    columns = list(zip(*rows.iterator(chunk_size=CHUNK), strict=True)) or [()] * (3 + len(extracted))
    codes, vocabularies = [], []
    for column in columns[1:]:
        vocabulary = sorted({str(v) for v in column if v not in (None, "")})
        index = {value: k for k, value in enumerate(vocabulary)}
        codes.append(
            np.fromiter((index.get(str(v), -1) if v not in (None, "") else -1 for v in column), np.int32)
        )
        vocabularies.append(vocabulary)
    return Slices(keys, np.asarray(columns[0], dtype=np.int64), codes, vocabularies)


def gold_items(*, project: Project) -> list[int]:
    gold = Item.objects.filter(project=project, is_gold=True, excluded=False)
    return list(gold.values_list("id", flat=True))


def items_for_escalation(*, project: Project, item_ids) -> list[tuple[int, bool]]:
    """Of these items, those that finished their annotation phase (not gold, not excluded), by id,
    each with whether it may still get another annotator (below the project's escalation limit)."""
    limit = labeling_settings(project).max_escalation
    rows = Item.objects.filter(
        project=project,
        pk__in=sorted(item_ids),
        state__in=[Item.State.COMPLETED, Item.State.IN_REVIEW],
        is_gold=False,
        excluded=False,
    ).order_by("id")
    return [(item_id, extra < limit) for item_id, extra in rows.values_list("id", "extra")]


def escalation_counts(*, project: Project) -> dict[str, int]:
    """What escalation has done, as the database says now: items waiting for an extra annotator
    (open, with escalation), and items ever escalated (extra annotators granted)."""
    items = Item.objects.filter(project=project, is_gold=False, excluded=False, extra__gt=0)
    return {"waiting": items.filter(state=Item.State.OPEN).count(), "items": items.count()}


def item_get(*, project: Project, item_id: int) -> Item | None:
    return Item.objects.filter(project=project, pk=item_id).first()


def items_exist(*, project: Project, item_ids) -> set[int]:
    return set(Item.objects.filter(project=project, pk__in=list(item_ids)).values_list("id", flat=True))


def item_predictions(*, project: Project) -> Iterator[tuple[int, str, str, dict]]:
    """(item id, model, model version, result) of every imported prediction, by item."""
    rows = Prediction.objects.filter(project=project, item__excluded=False).order_by("item_id", "id")
    yield from rows.values_list("item_id", "model_name", "model_version", "result").iterator(chunk_size=CHUNK)


def quality_answer_columns(
    *, project: Project, controls: list[str], changed_since: datetime | None = None
) -> Iterator[tuple]:
    """(item id, annotator id, active ms, answer JSON text per control...) of the current answers on
    non-excluded items: the fast path of a full recompute. On PostgreSQL one COPY streams the rows
    (each control's answer extracted in SQL as JSON text, so Python never parses whole results);
    elsewhere the ORM streams the results and the answers are re-serialised."""
    if connection.vendor != "postgresql":
        for row in quality_answers(project=project, changed_since=changed_since):
            result = row.result if isinstance(row.result, dict) else {}
            yield (
                row.item_id,
                row.annotator_id,
                row.active_ms,
                *(json.dumps(result[name]) if name in result else None for name in controls),
            )
        return
    columns = "".join(", a.result -> %s" for _ in controls)
    since = " AND a.updated_at >= %s" if changed_since is not None else ""
    # Only fixed strings are interpolated; the control names and values are bound parameters.
    sql = (
        f"COPY (SELECT a.item_id, a.annotator_id, a.active_ms{columns} FROM annotation_annotation a "  # noqa: S608
        "JOIN annotation_item i ON i.id = a.item_id "
        f"WHERE a.project_id = %s AND NOT i.excluded{since} ORDER BY a.item_id, a.annotator_id) TO STDOUT"
    )
    params = [*controls, project.id, *([changed_since] if changed_since is not None else [])]
    with connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        copy.set_types(["int8", "int8", "int8", *(["text"] * len(controls))])
        yield from copy.rows()


def quality_answer_texts(
    *, project: Project, control: str, changed_since: datetime | None = None
) -> list[str]:
    """The distinct answers (JSON text) given to one control: a choice control has a handful."""
    since = " AND a.updated_at >= %s" if changed_since is not None else ""
    sql = (
        "SELECT DISTINCT (a.result -> %s)::text FROM annotation_annotation a "  # noqa: S608 (fixed strings)
        f"JOIN annotation_item i ON i.id = a.item_id WHERE a.project_id = %s AND NOT i.excluded{since} "
        "AND jsonb_exists(a.result, %s)"
    )
    params = [control, project.id, *([changed_since] if changed_since is not None else []), control]
    if connection.vendor != "postgresql":
        raise NotImplementedError("PostgreSQL only; use quality_answer_columns elsewhere")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(row[0] for row in cursor.fetchall() if row[0] is not None)


def quality_answer_codes(
    *, project: Project, controls: list[tuple[str, list[str]]], changed_since: datetime | None = None
) -> dict[str, np.ndarray]:
    """Current answers on non-excluded items as integer arrays, by item then annotator: `item`,
    `annotator`, `active_ms`, and per control the index of the answer's JSON text in the given list
    (-1 when unanswered). One binary COPY of integer columns, parsed by numpy without a Python loop
    per row (PostgreSQL only)."""
    codes = "".join(
        ", (COALESCE(array_position(%s::text[], (a.result -> %s)::text), 0) - 1)::bigint" for _ in controls
    )
    since = " AND a.updated_at >= %s" if changed_since is not None else ""
    sql = (
        f"COPY (SELECT a.item_id::bigint, a.annotator_id::bigint, a.active_ms::bigint{codes} "  # noqa: S608
        "FROM annotation_annotation a "
        "JOIN annotation_item i ON i.id = a.item_id "
        f"WHERE a.project_id = %s AND NOT i.excluded{since}) "
        "TO STDOUT (FORMAT BINARY)"
    )
    params = [value for name, texts in controls for value in (texts, name)]
    params += [project.id, *([changed_since] if changed_since is not None else [])]
    chunks = []
    with connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        for block in copy:
            chunks.append(bytes(block))
    payload = b"".join(chunks)
    fields = 3 + len(controls)
    row = np.dtype([("n", ">i2"), *[(f"f{k}", [("len", ">i4"), ("v", ">i8")]) for k in range(fields)]])
    header = 19 + int.from_bytes(payload[15:19], "big") if payload else 0  # signature, flags, extension
    body = payload[header:-2] if payload else b""  # the trailer is a -1 field count
    table = np.frombuffer(body, dtype=row)
    out = {
        "item": table["f0"]["v"].astype(np.int64),
        "annotator": table["f1"]["v"].astype(np.int64),
        "active_ms": table["f2"]["v"].astype(np.int64),
    }
    for k, (name, _) in enumerate(controls):
        out[name] = table[f"f{3 + k}"]["v"].astype(np.int64)
    return out
