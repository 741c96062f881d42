"""Splits: a project's items go to named splits by ratio, stratified and grouped, as one recorded operation.

The algorithm is annotation.splits.algorithm.assign_splits (pure numpy); this module validates, reads the
items in one streamed query, and writes the result back set-based (COPY + one UPDATE on PostgreSQL).
"""

import math
import secrets
from itertools import islice

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models.fields.json import KeyTextTransform

from core import task_names
from core.audit import audit_record
from core.bulk import binary_copy
from core.exceptions import DomainError
from core.realtime import broadcast_on_commit, project_group
from core.services import outbox_enqueue
from projects.models import Project
from projects.services import project_ensure_active, project_lock

from ..models import Item, MetadataField, SplitOperation
from .algorithm import MAX_SPLITS, RATIO_TOLERANCE, SPLIT_NAME_PATTERN, assign_splits

SEED_LIMIT = 2**31  # seeds are 31-bit: they fit every client's int and are easy to copy from a page
READ_CHUNK = 20_000  # rows per fetch from the server-side cursor
_TEMP_TABLE = "tessera_split_assignment"
RUN_TASK = task_names.SPLIT_RUN
FINISHED = {"succeeded", "failed"}


@transaction.atomic
def split_assign(
    *,
    project: Project,
    actor,
    ratios: dict[str, float],
    seed: int | None = None,
    stratify_by: str = "",
    group_by: str = "",
    only_unassigned: bool = False,
) -> SplitOperation:
    """Assign every item of `project` (or, with `only_unassigned`, every item without a split) to one of
    the splits named in `ratios`, and record the operation. Runs inline; split_request decides
    between inline and a worker.

    Rules: 1 to MAX_SPLITS names of 1-50 letters, digits, "_" or "-"; ratios positive and summing to 1;
    `stratify_by` / `group_by` name metadata fields of the project; there must be items to split.
    Counts follow splits.algorithm (largest remainder per stratum; whole groups). Without a seed one
    is drawn and recorded, so the same call with that seed on the same items gives the same split.

    Locks the project row, so two splits (or a split and another locked project write) never
    interleave. Writes Item.split, one SplitOperation, one audit event; announces "split.assigned"
    after commit. Rerunning with the same arguments and seed rewrites nothing (unchanged rows are
    skipped) but records a new operation.
    """
    project = project_lock(project)
    project_ensure_active(project)
    options = _validated(project, ratios, seed, stratify_by, group_by, only_unassigned)
    counts = _assign(project, options)
    operation = SplitOperation.objects.create(project=project, created_by=actor, counts=counts, **options)
    _record_assigned(operation, actor)
    return operation


def split_request(
    *,
    project: Project,
    actor,
    ratios: dict[str, float],
    seed: int | None = None,
    stratify_by: str = "",
    group_by: str = "",
    only_unassigned: bool = False,
) -> SplitOperation:
    """What the API and the page call: small projects are split inline (split_assign); above
    ANNOTATION_SPLIT_INLINE_MAX_ITEMS items the operation is validated and recorded as queued now,
    and a worker runs it (split_run), so no request waits while a million rows are rewritten."""
    arguments = {
        "ratios": ratios, "seed": seed, "stratify_by": stratify_by, "group_by": group_by,
        "only_unassigned": only_unassigned,
    }  # fmt: skip
    inline_limit = settings.ANNOTATION_SPLIT_INLINE_MAX_ITEMS
    if not Item.objects.filter(project=project)[inline_limit : inline_limit + 1].exists():
        return split_assign(project=project, actor=actor, **arguments)
    with transaction.atomic():
        project = project_lock(project)
        project_ensure_active(project)
        options = _validated(project, **arguments)
        operation = SplitOperation.objects.create(
            project=project, created_by=actor, counts={}, status=SplitOperation.Status.QUEUED, **options
        )
        audit_record(
            actor=actor, organisation_id=project.organisation_id, project_id=project.id,
            action="split.requested", target=operation, changes={**options},
        )  # fmt: skip
        outbox_enqueue(task_name=RUN_TASK, kwargs={"operation_id": operation.id})
    return operation


def split_run(*, operation_id: int) -> SplitOperation | None:
    """Run a queued split (the worker side of split_request). Idempotent: a finished operation is
    not run again; a run killed midway rolled back and runs again from the start."""
    try:
        with transaction.atomic():
            operation = SplitOperation.objects.select_for_update().filter(pk=operation_id).first()
            if operation is None or operation.status in FINISHED:
                return operation
            project = project_lock(operation.project)
            project_ensure_active(project)
            options = {
                "ratios": operation.ratios, "seed": operation.seed, "stratify_by": operation.stratify_by,
                "group_by": operation.group_by, "only_unassigned": operation.only_unassigned,
            }  # fmt: skip
            options = _validated(project, **options)  # the project may have changed since the request
            operation.counts = _assign(project, options)
            operation.status = SplitOperation.Status.SUCCEEDED
            operation.save(update_fields=["counts", "status"])
            _record_assigned(operation, operation.created_by)
            return operation
    except DomainError as error:
        with transaction.atomic():
            operation = SplitOperation.objects.select_for_update().get(pk=operation_id)
            operation.status = SplitOperation.Status.FAILED
            operation.detail = error.message[:500]
            operation.save(update_fields=["status", "detail"])
            project = operation.project
            audit_record(
                actor=None, organisation_id=project.organisation_id, project_id=project.id,
                action="split.failed", target=operation,
                changes={"code": error.code, "detail": error.message},
            )  # fmt: skip
            broadcast_on_commit(
                project_group(project.id), "split.failed",
                {"project_id": project.id, "operation_id": operation.id, "detail": operation.detail},
            )  # fmt: skip
        return operation


def _validated(project, ratios, seed, stratify_by, group_by, only_unassigned) -> dict:
    """The operation's options, checked and cleaned; a drawn seed when none was given."""
    ratios = _clean_ratios(ratios)
    stratify_by, group_by = stratify_by.strip(), group_by.strip()
    if seed is None:
        seed = secrets.randbelow(SEED_LIMIT)
    elif isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
        raise DomainError("invalid_seed", f"The seed must be a whole number from 0 to {SEED_LIMIT - 1}.")
    wanted = [name for name in (stratify_by, group_by) if name]
    known = set(MetadataField.objects.filter(project=project, name__in=wanted).values_list("name", flat=True))
    for name in wanted:
        if name not in known:
            raise DomainError("unknown_field", f"This project has no metadata field named {name!r}.")
    items = Item.objects.filter(project=project)
    if only_unassigned:
        items = items.filter(split="")
    if not items.exists():
        what = "no items without a split" if only_unassigned else "no items"
        raise DomainError("no_items", f"This project has {what} to split.")
    return {
        "ratios": ratios, "seed": seed, "stratify_by": stratify_by, "group_by": group_by,
        "only_unassigned": only_unassigned,
    }  # fmt: skip


def _assign(project: Project, options: dict) -> dict[str, int]:
    """Read the items, compute the assignment and write it back; returns the count per split."""
    ids, strata, groups = _read_items(
        project=project, only_unassigned=options["only_unassigned"], stratify_by=options["stratify_by"],
        group_by=options["group_by"],
    )  # fmt: skip
    if len(ids) == 0:
        raise DomainError("no_items", "This project has no items to split.")
    names = list(options["ratios"])
    assignment = assign_splits(ids, options["ratios"], options["seed"], strata=strata, groups=groups)
    _write_splits(project=project, ids=ids, assignment=assignment, names=names)
    per_split = np.bincount(assignment, minlength=len(names))
    return {name: int(count) for name, count in zip(names, per_split, strict=True)}


def _record_assigned(operation: SplitOperation, actor) -> None:
    project = operation.project
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="split.assigned",
        target=operation,
        changes={
            "ratios": operation.ratios,
            "seed": operation.seed,
            "stratify_by": operation.stratify_by,
            "group_by": operation.group_by,
            "only_unassigned": operation.only_unassigned,
            "counts": operation.counts,
        },
    )
    broadcast_on_commit(
        project_group(project.id),
        "split.assigned",
        {
            "project_id": project.id,
            "actor": actor.get_username() if actor else "system",
            "operation_id": operation.id,
            "counts": operation.counts,
        },
    )


def _clean_ratios(ratios) -> dict[str, float]:
    if not isinstance(ratios, dict) or not 1 <= len(ratios) <= MAX_SPLITS:
        raise DomainError("invalid_ratios", f"Give between 1 and {MAX_SPLITS} splits, as name: ratio.")
    for name in ratios:
        if not isinstance(name, str) or not SPLIT_NAME_PATTERN.fullmatch(name):
            raise DomainError(
                "invalid_split_name",
                f"Split name {name!r}: use 1 to 50 letters, digits, '_' or '-'.",
            )
    clean = {}
    for name, ratio in ratios.items():
        if (
            isinstance(ratio, bool)
            or not isinstance(ratio, int | float)
            or not math.isfinite(ratio)
            or not 0 < ratio <= 1
        ):
            raise DomainError(
                "invalid_ratios", f"The ratio of {name!r} must be a number greater than 0 and at most 1."
            )
        clean[name] = float(ratio)
    total = math.fsum(clean.values())
    if abs(total - 1.0) > RATIO_TOLERANCE:
        raise DomainError("invalid_ratios", f"The ratios must add up to 1; they add up to {total:g}.")
    return clean


def _read_items(
    *, project: Project, only_unassigned: bool, stratify_by: str, group_by: str
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(ids, stratum values, group values) of the items to split, in one streamed query.

    Metadata values come as text (`meta ->> key`), None when the key is absent or JSON null. On
    PostgreSQL `.iterator()` reads through a server-side cursor, so memory holds numpy columns, not
    a million model rows.
    """
    items = Item.objects.filter(project=project).order_by()  # the algorithm sorts by id itself
    if only_unassigned:
        items = items.filter(split="")
    keys = {"split_stratum": stratify_by, "split_group": group_by}
    keys = {alias: key for alias, key in keys.items() if key}
    if not keys:
        rows = items.values_list("id", flat=True).iterator(chunk_size=READ_CHUNK)
        return np.fromiter(rows, dtype=np.int64), None, None

    items = items.annotate(**{alias: KeyTextTransform(key, "meta") for alias, key in keys.items()})
    rows = items.values_list("id", *keys).iterator(chunk_size=READ_CHUNK)
    id_chunks: list[np.ndarray] = []
    value_chunks: dict[str, list[np.ndarray]] = {alias: [] for alias in keys}
    while chunk := list(islice(rows, READ_CHUNK)):
        columns = list(zip(*chunk, strict=True))
        id_chunks.append(np.array(columns[0], dtype=np.int64))
        for alias, values in zip(keys, columns[1:], strict=True):
            value_chunks[alias].append(np.array(values, dtype=object))
    if not id_chunks:
        return np.zeros(0, dtype=np.int64), None, None
    values = {alias: np.concatenate(chunks) for alias, chunks in value_chunks.items()}
    if connection.vendor == "sqlite":
        # Django's SQLite key transform reads JSON null as the text "null" (PostgreSQL's ->> gives NULL).
        for column in values.values():
            column[column == "null"] = None
    return np.concatenate(id_chunks), values.get("split_stratum"), values.get("split_group")


def _write_splits(*, project: Project, ids: np.ndarray, assignment: np.ndarray, names: list[str]) -> None:
    """Set Item.split for `ids` set-based; rows that already hold their new split are not rewritten."""
    table = Item._meta.db_table
    if connection.vendor != "postgresql":
        labels = np.array(names, dtype=object)[assignment]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET split = %s WHERE id = %s AND split <> %s",  # noqa: S608 (our table name)
                [(label, int(item_id), label) for label, item_id in zip(labels, ids, strict=True)],
            )
        return
    with connection.cursor() as cursor:
        # One COPY of (id, split index) into a temporary table and one UPDATE ... FROM: a million
        # rows in seconds, where per-row UPDATEs would take minutes. Dropped explicitly as well, so
        # a second split in the same transaction can create it again.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_TEMP_TABLE} (id bigint NOT NULL, split smallint NOT NULL) "
            "ON COMMIT DROP"
        )
        with cursor.copy(f"COPY {_TEMP_TABLE} (id, split) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(binary_copy(ids.astype(np.int64, copy=False), assignment.astype(np.int16, copy=False)))
        cursor.execute(f"ANALYZE {_TEMP_TABLE}")  # row count for the planner: hash join, not nested loop
        cursor.execute(
            f"UPDATE {table} AS item SET split = (%s::text[])[t.split + 1] "  # noqa: S608 (our table names)
            f"FROM {_TEMP_TABLE} AS t "
            "WHERE item.id = t.id AND item.project_id = %s AND item.split <> (%s::text[])[t.split + 1]",
            [names, project.id, names],
        )
        cursor.execute(f"DROP TABLE {_TEMP_TABLE}")
