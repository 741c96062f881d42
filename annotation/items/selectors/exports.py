"""What the release build (exports.services) reads about items and their annotations.

Streams in item-id order without model instances: `export_items` is one server-side cursor (inside
the build's transaction on PostgreSQL), and the annotations of each chunk of items are read by an
id-range query, so memory stays bounded by the chunk size whatever the project's size.
"""

from collections.abc import Iterator
from datetime import date
from typing import NamedTuple

import orjson
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from projects.models import Project

from ...models import Annotation, Item

CHUNK = 5_000  # rows per fetch from the server-side cursor


class ExportItemRow(NamedTuple):
    id: int
    external_id: str | None
    split: str
    data: dict
    source: str
    source_ref: str
    checksum: str
    licence: str
    consent: str
    synthetic: bool
    media: str  # the stored file's name in default_storage ("" when the item has none)
    media_url: str
    media_type: str
    is_gold: bool
    provenance_source_id: int | None  # annotation/provenance/ (#18)


class ExportAnnotationRow(NamedTuple):
    id: int
    item_id: int
    annotator_id: int
    result: dict
    revision: int
    review: str  # Annotation.Review value
    guideline_version: int | None  # of the head revision: the guidelines the answer was given under
    schema_version: int  # of the head revision: the label schema the answer was given under


_ITEM_FIELDS = (
    "id",
    "external_id",
    "split",
    "data",
    "source",
    "source_ref",
    "checksum",
    "licence",
    "consent",
    "synthetic",
    "media",
    "media_url",
    "media_type",
    "is_gold",
    "provenance_source_id",
)


def _export_item_queryset(
    *,
    project: Project,
    split: str | None = None,
    gold: bool = False,
    reviewed: bool = False,
    created_from: date | None = None,
    created_until: date | None = None,
) -> QuerySet:
    rows = Item.objects.filter(project=project, excluded=False)
    if split is not None:
        rows = rows.filter(split=split)
    if gold:
        rows = rows.filter(is_gold=True)
    if reviewed:
        accepted = Annotation.objects.filter(
            item_id=OuterRef("pk"), review__in=[Annotation.Review.ACCEPTED, Annotation.Review.FIXED]
        )
        rows = rows.filter(Exists(accepted))
    if created_from is not None:
        rows = rows.filter(created_at__date__gte=created_from)
    if created_until is not None:
        rows = rows.filter(created_at__date__lte=created_until)
    return rows


def export_items(*, project: Project, chunk_size: int = CHUNK, **filters) -> Iterator[ExportItemRow]:
    """The project's non-excluded items matching `filters` (split, gold, reviewed: an annotation
    accepted or fixed by a reviewer, created_from/created_until: dates, inclusive), by id. Streams
    through a server-side cursor on PostgreSQL: call inside a transaction so the cursor is not
    materialised WITH HOLD. The data is parsed with orjson (read as text: several times faster than
    the ORM's JSON conversion on a million rows)."""
    batches = export_item_batches(project=project, chunk_size=chunk_size, **filters)
    try:
        for batch in batches:
            yield from batch
    finally:
        batches.close()


def export_item_batches(
    *, project: Project, chunk_size: int = CHUNK, **filters
) -> Iterator[list[ExportItemRow]]:
    """`export_items` in lists of `chunk_size` rows (the last one shorter, never empty): one list per
    fetch from the server-side cursor, which is what the release build works on."""
    rows = _export_item_queryset(project=project, **filters).order_by("id").values_list(*_ITEM_FIELDS)
    if connection.vendor != "postgresql":
        batch: list[ExportItemRow] = []
        for row in rows.iterator(chunk_size=chunk_size):
            batch.append(ExportItemRow(*row))
            if len(batch) >= chunk_size:
                yield batch
                batch = []
        if batch:
            yield batch
        return
    sql, params = rows.query.sql_with_params()
    # The ORM's SQL with the data column read as text: only the select list changes.
    data_column = '"annotation_item"."data"'
    if sql.count(data_column) != 1:
        raise RuntimeError("unexpected item query shape")
    sql = sql.replace(data_column, f"{data_column}::text", 1)
    loads = orjson.loads
    new = tuple.__new__  # the NamedTuple without its Python-level __new__ (hot: once per item)
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(chunk_size):
            yield [
                new(
                    ExportItemRow,
                    (
                        r[0],
                        r[1],
                        r[2],
                        loads(r[3]),
                        r[4],
                        r[5],
                        r[6],
                        r[7],
                        r[8],
                        r[9],
                        r[10],
                        r[11],
                        r[12],
                        r[13],
                        r[14],
                    ),
                )
                for r in batch
            ]


def export_item_count(*, project: Project, **filters) -> int:
    return _export_item_queryset(project=project, **filters).count()


def export_annotations(
    *, project: Project, first_item_id: int, last_item_id: int, with_results: bool = True
) -> list[ExportAnnotationRow]:
    """Current answers (head revisions) on the items with first_item_id <= id <= last_item_id, by item
    then annotation id. One range query per chunk of items (the caller's chunk bounds memory).
    Without `with_results` the answers are not read (result is {}): lineage needs only the ids."""
    if connection.vendor != "postgresql":
        rows = (
            Annotation.objects.filter(project=project, item_id__gte=first_item_id, item_id__lte=last_item_id)
            .order_by("item_id", "id")
            .values_list(
                "id",
                "item_id",
                "annotator_id",
                "result",
                "revision",
                "review",
                "guideline_version__version",
                "schema_version__version",
            )
        )
        return [ExportAnnotationRow(*row) for row in rows]
    result = "a.result::text" if with_results else "NULL"
    sql = (
        f"SELECT a.id, a.item_id, a.annotator_id, {result}, a.revision, a.review, g.version, s.version "  # noqa: S608
        "FROM annotation_annotation a LEFT JOIN projects_guidelineversion g ON g.id = a.guideline_version_id "
        "JOIN projects_labelschemaversion s ON s.id = a.schema_version_id "
        "WHERE a.project_id = %s AND a.item_id >= %s AND a.item_id <= %s ORDER BY a.item_id, a.id"
    )
    loads = orjson.loads
    new = tuple.__new__  # the NamedTuple without its Python-level __new__ (hot: once per row)
    with connection.cursor() as cursor:
        cursor.execute(sql, [project.id, first_item_id, last_item_id])
        return [
            new(
                ExportAnnotationRow,
                (r[0], r[1], r[2], loads(r[3]) if r[3] is not None else {}, r[4], r[5], r[6], r[7]),
            )
            for r in cursor.fetchall()
        ]


def export_transformations(*, project: Project, until) -> list[dict]:
    """What was done to the project's data up to `until` (the release's request time), for the
    manifest, croissant.json and the datasheet: exact deduplication at import, near-duplicates
    excluded, each split made (method and seed), each label migration. Flat values only (numbers and
    text), in a fixed order, so a rebuild of the release says the same."""
    from projects.models import LabelMigration
    from projects.services import describe_label_operation

    from ...models import ImportJob, NearDuplicateGroup, SplitOperation

    steps: list[dict] = []
    imports = ImportJob.objects.filter(project=project, created_at__lte=until, status="succeeded")
    if imports.exists():
        skipped = sum(imports.values_list("duplicates", flat=True))
        steps.append(
            {
                "type": "deduplication",
                "method": "exact: SHA-256 of the normalised content, and external id, at import",
                "duplicates_skipped": int(skipped),
            }
        )
    resolved = NearDuplicateGroup.objects.filter(
        project=project, resolved_at__lte=until, resolution="kept_one"
    )
    groups = resolved.count()
    if groups:
        excluded = Item.objects.filter(
            project=project, near_duplicate_group__in=resolved, excluded=True
        ).count()
        steps.append(
            {
                "type": "near_duplicate_exclusion",
                "method": "MinHash/LSH for text, perceptual hash for images; reviewed by a manager",
                "groups": groups,
                "items_excluded": excluded,
            }
        )
    for split in SplitOperation.objects.filter(
        project=project, created_at__lte=until, status=SplitOperation.Status.SUCCEEDED
    ).order_by("id"):
        step = {
            "type": "split",
            "date": split.created_at.date().isoformat(),
            "ratios": ", ".join(f"{name} {ratio}" for name, ratio in sorted(split.ratios.items())),
            "seed": split.seed,
            "counts": ", ".join(f"{name} {count}" for name, count in sorted(split.counts.items())),
        }
        if split.stratify_by:
            step["stratify_by"] = split.stratify_by
        if split.group_by:
            step["group_by"] = split.group_by
        if split.only_unassigned:
            step["only_unassigned"] = True
        steps.append(step)
    migrations = LabelMigration.objects.filter(project=project, created_at__lte=until).select_related(
        "from_version", "to_version"
    )
    for migration in migrations.order_by("id"):
        steps.append(
            {
                "type": "label_migration",
                "date": migration.created_at.date().isoformat(),
                "schema_versions": f"{migration.from_version.version} -> {migration.to_version.version}",
                "operations": "; ".join(describe_label_operation(op) for op in migration.operations),
            }
        )
    return steps


def export_items_missing(*, project: Project, item_ids: list[int], chunk_size: int = 100_000) -> int:
    """How many of `item_ids` no longer exist in `project` (erased while a release was built): the
    build's check before it publishes, when an erasure happened since its snapshot (exports.services.build).
    PostgreSQL: one array parameter per chunk (`id = ANY(%s)`), not a list of placeholders."""
    if connection.vendor != "postgresql":
        chunk_size = 900  # SQLite's limit on query parameters
    missing = 0
    with connection.cursor() as cursor:
        for start in range(0, len(item_ids), chunk_size):
            chunk = item_ids[start : start + chunk_size]
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT count(*) FROM annotation_item WHERE project_id = %s AND id = ANY(%s)",
                    [project.id, chunk],
                )
                found = cursor.fetchone()[0]
            else:
                found = Item.objects.filter(project=project, id__in=chunk).count()
            missing += len(chunk) - found
    return missing
