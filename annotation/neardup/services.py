"""Near-duplicate groups: detection over a project's items (in the background) and their resolution.

The algorithms are neardup.algorithm and neardup.images (pure numpy). This module streams the inputs from the
database (values_list iterators, never whole rows), decides which items join which group, and
writes set-based (COPY + one UPDATE on PostgreSQL). The rules are in docs/NEAR_DUPLICATES.md.
"""

from dataclasses import dataclass
from itertools import islice

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core import task_names
from core.audit import audit_record
from core.bulk import binary_copy
from core.exceptions import DomainError, NotFound
from core.realtime import broadcast_on_commit, project_group
from core.services import outbox_enqueue
from projects.models import Project
from projects.services import project_ensure_active

from ..imports.normalise import search_text
from ..models import Item, NearDuplicateGroup
from . import algorithm, images

DETECT_TASK = task_names.NEAR_DUPLICATES_DETECT
TEXT_MEDIA_TYPES = ("", "text")  # media items (images, audio, video) are not compared by their text
READ_CHUNK = 20_000  # rows per fetch from the server-side cursor, and texts per MinHash batch
ID_CHUNK = 5_000  # ids per `id IN (...)` when the candidates' texts are read again
_LOCK_NAMESPACE = 0x4E44  # pg_advisory_xact_lock(namespace, project id): one detection per project
_TEMP_TABLE = "tessera_near_duplicate_assignment"
Kind = NearDuplicateGroup.Kind
Resolution = NearDuplicateGroup.Resolution


def _text_threshold() -> float:
    return float(getattr(settings, "ANNOTATION_NEAR_DUPLICATE_TEXT_THRESHOLD", algorithm.TEXT_THRESHOLD))


def _image_distance() -> int:
    return int(getattr(settings, "ANNOTATION_NEAR_DUPLICATE_IMAGE_DISTANCE", images.IMAGE_MAX_DISTANCE))


# --- Scheduling ---------------------------------------------------------------------------------------


def near_duplicates_detect_schedule(*, project_id: int) -> None:
    """Queue detection for `project_id` through the outbox: sent after the caller's transaction
    commits, retried until sent. Imports call this when they created items."""
    outbox_enqueue(task_name=DETECT_TASK, kwargs={"project_id": project_id})


@transaction.atomic
def near_duplicates_detect_request(*, project: Project, actor) -> None:
    """A manager asks for detection now ("Detect now", POST .../near-duplicates/detect/).

    Refused on an archived project (409). Audited; the work runs in the background.
    """
    project_ensure_active(project)
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="near_duplicates.detect_requested",
        target=project,
    )
    near_duplicates_detect_schedule(project_id=project.id)


# --- Detection ----------------------------------------------------------------------------------------


@dataclass
class _Component:
    """Items linked by verified pairs."""

    item_ids: np.ndarray  # ascending
    groups: np.ndarray  # each item's current group id, 0 for none
    values: np.ndarray  # each item's MinHash signature (a row) or image hash

    def similarity(self, kind: str, rows: np.ndarray) -> float:
        """The lowest estimated similarity among the items at `rows`."""
        if rows.sum() < 2:
            return 1.0
        if kind == Kind.IMAGE:
            return images.image_group_similarity(self.values[rows])
        return algorithm.text_group_similarity(self.values[rows])


@transaction.atomic
def near_duplicates_detect(*, project_id: int) -> int:
    """Find near-duplicate items of the project and flag them in groups; returns how many new groups.

    Compares the project's items that are not excluded: texts (items without an image hash and
    with no media other than text; the text is the item's search text, else the strings of its
    data) by MinHash/LSH at ANNOTATION_NEAR_DUPLICATE_TEXT_THRESHOLD (0.8), images (items with an
    image hash) by dHash distance up to ANNOTATION_NEAR_DUPLICATE_IMAGE_DISTANCE (6 bits).

    Incremental and idempotent: an item already in a group never moves. Linked items not yet in
    a group join the oldest open group they are linked to, or else (when there are two or more of
    them) a new group; resolved groups are never changed, so an item that only resembles members
    of resolved groups is not flagged. Running it again without new items changes nothing.

    One detection per project at a time (an advisory lock on PostgreSQL). Nothing is deleted.
    Audits and announces "near_duplicates.detected" after commit when something was flagged.
    An archived project, or one that no longer exists, is skipped.
    """
    project = Project.objects.filter(pk=project_id).first()
    if project is None or project.archived_at is not None:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, project_id])
    created = flagged = 0
    per_kind = {}
    for kind, components in (
        (Kind.TEXT, _text_components(project_id)),
        (Kind.IMAGE, _image_components(project_id)),
    ):
        new_groups, new_members = _apply(project_id, kind, components)
        created += new_groups
        flagged += new_members
        per_kind[kind.value] = {"groups": new_groups, "items": new_members}
    if flagged:
        audit_record(
            actor=None,
            organisation_id=project.organisation_id,
            project_id=project.id,
            action="near_duplicates.detected",
            target=project,
            changes={"groups": created, "items": flagged, **per_kind},
        )
        broadcast_on_commit(
            project_group(project.id),
            "near_duplicates.detected",
            {"project_id": project.id, "groups": created, "items": flagged},
        )
    return created


def _text_items(project_id: int):
    return Item.objects.filter(
        project_id=project_id, excluded=False, image_hash__isnull=True, media_type__in=TEXT_MEDIA_TYPES
    ).order_by()


def _data_text(data) -> str:
    return search_text(data) if isinstance(data, dict) else search_text({"value": data})


def _text_rows(project_id: int, ids: list[int] | None = None):
    """(id, text, group id or None) of the text items (only `ids`, when given), streamed.

    Items imported through a file have a search text; for the others it is made from their data,
    which is read only for them.
    """
    items = _text_items(project_id)
    if ids is None:
        yield from (
            items.exclude(search_text="")
            .values_list("id", "search_text", "near_duplicate_group_id")
            .iterator(chunk_size=READ_CHUNK)
        )
        for item_id, data, group_id in (
            items.filter(search_text="")
            .values_list("id", "data", "near_duplicate_group_id")
            .iterator(chunk_size=READ_CHUNK)
        ):
            yield item_id, _data_text(data), group_id
        return
    for start in range(0, len(ids), ID_CHUNK):
        chunk = items.filter(id__in=ids[start : start + ID_CHUNK])
        yield from chunk.exclude(search_text="").values_list("id", "search_text", "near_duplicate_group_id")
        for item_id, data, group_id in chunk.filter(search_text="").values_list(
            "id", "data", "near_duplicate_group_id"
        ):
            yield item_id, _data_text(data), group_id


def _text_components(project_id: int) -> list[_Component]:
    """Components of the text items: two streamed passes over the texts.

    Pass 1 keeps only each text's LSH band keys (16 x 4 bytes), not its signature (512 bytes), so a
    million items take ~70 MB. Pass 2 reads again only the texts of candidate pairs and verifies
    them with their full signatures.
    """
    threshold = _text_threshold()
    bands, rows = algorithm.lsh_params(threshold, algorithm.NUM_PERM)
    id_chunks, group_chunks, key_chunks = [], [], []
    stream = _text_rows(project_id)
    while chunk := list(islice(stream, READ_CHUNK)):
        ids, texts, groups = zip(*chunk, strict=True)
        signatures = algorithm.minhash_signatures(list(texts))
        nonempty = ~(signatures == algorithm.EMPTY).all(axis=1)
        id_chunks.append(np.array(ids, dtype=np.int64)[nonempty])
        group_chunks.append(np.array([group or 0 for group in groups], dtype=np.int64)[nonempty])
        key_chunks.append(algorithm.lsh_band_keys(signatures[nonempty], bands=bands, rows=rows))
    if not id_chunks:
        return []
    ids, groups, keys = np.concatenate(id_chunks), np.concatenate(group_chunks), np.concatenate(key_chunks)
    low, high = algorithm.lsh_candidate_pairs(keys)
    del keys
    low, high = _pairs_touching_ungrouped(low, high, groups)
    if low.size == 0:
        return []

    # Pass 2: signatures of the candidates only, in the order of `candidates`.
    candidates = np.union1d(low, high)
    position_of = {int(item_id): index for index, item_id in enumerate(ids[candidates])}
    texts = [""] * candidates.size
    for item_id, text, _ in _text_rows(project_id, ids=[int(i) for i in ids[candidates]]):
        texts[position_of[item_id]] = text
    signatures = algorithm.minhash_signatures(texts)
    local_low = np.searchsorted(candidates, low)
    local_high = np.searchsorted(candidates, high)
    similarity = algorithm.jaccard_estimates(signatures[local_low], signatures[local_high])
    keep = similarity >= threshold - 1e-9
    return _components(ids, groups, candidates, local_low[keep], local_high[keep], signatures)


def _image_components(project_id: int) -> list[_Component]:
    """Components of the items with an image hash: one streamed pass of 24 bytes a row."""
    rows = (
        Item.objects.filter(project_id=project_id, excluded=False, image_hash__isnull=False)
        .order_by()
        .values_list("id", "image_hash", "near_duplicate_group_id")
        .iterator(chunk_size=READ_CHUNK)
    )
    id_chunks, hash_chunks, group_chunks = [], [], []
    while chunk := list(islice(rows, READ_CHUNK)):
        ids, hashes, groups = zip(*chunk, strict=True)
        id_chunks.append(np.array(ids, dtype=np.int64))
        hash_chunks.append(np.array(hashes, dtype=np.int64))
        group_chunks.append(np.array([group or 0 for group in groups], dtype=np.int64))
    if not id_chunks:
        return []
    ids, hashes, groups = np.concatenate(id_chunks), np.concatenate(hash_chunks), np.concatenate(group_chunks)
    low, high, _ = images.hamming_pairs(hashes, max_distance=_image_distance())
    low, high = _pairs_touching_ungrouped(low, high, groups)
    nodes = np.union1d(low, high)
    local_low, local_high = np.searchsorted(nodes, low), np.searchsorted(nodes, high)
    return _components(ids, groups, nodes, local_low, local_high, hashes[nodes])


def _pairs_touching_ungrouped(low: np.ndarray, high: np.ndarray, groups: np.ndarray):
    """Pairs with at least one item not yet in a group: the others cannot change anything."""
    useful = (groups[low] == 0) | (groups[high] == 0)
    return low[useful], high[useful]


def _components(
    ids: np.ndarray,
    groups: np.ndarray,
    nodes: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    values: np.ndarray,
) -> list[_Component]:
    """Connected components of the verified pairs that hold at least one item without a group.

    `nodes` are positions into `ids` and `groups`; `low` and `high` index `nodes`, and so do the
    rows of `values` (signatures or hashes).
    """
    if low.size == 0:
        return []
    labels = algorithm.connected_components(nodes.size, low, high)
    components = []
    for local in algorithm.groups_from_labels(labels):
        positions = nodes[local]
        if (groups[positions] == 0).any():
            components.append(
                _Component(item_ids=ids[positions], groups=groups[positions], values=values[local])
            )
    return components


def _apply(project_id: int, kind: str, components: list[_Component]) -> tuple[int, int]:
    """Turn components into group memberships; returns (new groups, newly flagged items).

    A component's items without a group join the oldest open group among its items, or become a
    new group when there are at least two of them; resolved groups are left as they are. The
    similarity of a group that grows becomes the lowest of its old value and the similarity among
    the joining items and the group's items they were linked with.
    """
    if not components:
        return 0, 0
    linked = {int(group) for component in components for group in component.groups if group}
    # Locked: a group resolved while this runs must not grow after its decision.
    open_groups = set(
        NearDuplicateGroup.objects.select_for_update()
        .filter(project_id=project_id, pk__in=linked, resolution=Resolution.OPEN)
        .values_list("id", flat=True)
    )
    new_groups, new_members = [], []
    joins: dict[int, list[tuple[np.ndarray, float]]] = {}  # open group id -> (joining items, similarity)
    for component in components:
        ungrouped = component.groups == 0
        targets = sorted(int(group) for group in set(component.groups.tolist()) & open_groups)
        if targets:
            rows = ungrouped | (component.groups == targets[0])
            joins.setdefault(targets[0], []).append(
                (component.item_ids[ungrouped], component.similarity(kind, rows))
            )
        elif ungrouped.sum() >= 2:
            new_members.append(component.item_ids[ungrouped])
            new_groups.append(
                NearDuplicateGroup(
                    project_id=project_id, kind=kind, similarity=component.similarity(kind, ungrouped)
                )
            )
    if not new_groups and not joins:
        return 0, 0
    created = NearDuplicateGroup.objects.bulk_create(new_groups)
    assignments = [(members, group.id) for members, group in zip(new_members, created, strict=True)]
    if joins:
        grown = list(NearDuplicateGroup.objects.filter(pk__in=joins).order_by("id"))
        for group in grown:
            for members, similarity in joins[group.id]:
                assignments.append((members, group.id))
                group.similarity = min(group.similarity, similarity)
        NearDuplicateGroup.objects.bulk_update(grown, ["similarity"])
    item_ids = np.concatenate([members for members, _ in assignments])
    group_ids = np.concatenate(
        [np.full(members.size, group, dtype=np.int64) for members, group in assignments]
    )
    _write_groups(project_id=project_id, item_ids=item_ids, group_ids=group_ids)
    return len(created), int(item_ids.size)


def _write_groups(*, project_id: int, item_ids: np.ndarray, group_ids: np.ndarray) -> None:
    """Set Item.near_duplicate_group set-based, only on items that are still in no group."""
    table = Item._meta.db_table
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET near_duplicate_group_id = %s "  # noqa: S608 (our table name)
                "WHERE id = %s AND project_id = %s AND near_duplicate_group_id IS NULL",
                [(int(g), int(i), project_id) for i, g in zip(item_ids, group_ids, strict=True)],
            )
        return
    with connection.cursor() as cursor:
        # One binary COPY of (item id, group id) and one UPDATE ... FROM, as split_assign does.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_TEMP_TABLE} (id bigint NOT NULL, group_id bigint NOT NULL) "
            "ON COMMIT DROP"
        )
        with cursor.copy(f"COPY {_TEMP_TABLE} (id, group_id) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(
                binary_copy(item_ids.astype(np.int64, copy=False), group_ids.astype(np.int64, copy=False))
            )
        cursor.execute(f"ANALYZE {_TEMP_TABLE}")
        cursor.execute(
            f"UPDATE {table} AS item SET near_duplicate_group_id = t.group_id "  # noqa: S608 (our names)
            f"FROM {_TEMP_TABLE} AS t "
            "WHERE item.id = t.id AND item.project_id = %s AND item.near_duplicate_group_id IS NULL",
            [project_id],
        )
        cursor.execute(f"DROP TABLE {_TEMP_TABLE}")


# --- Resolution ---------------------------------------------------------------------------------------


@transaction.atomic
def near_duplicate_resolve(
    *, project: Project, actor, group_id: int, resolution: str, kept_item_id: int | None = None
) -> NearDuplicateGroup:
    """Decide a near-duplicate group of `project`.

    - kept_all ("not duplicates"): every member stays in the project, none excluded.
    - kept_one: `kept_item_id` (a member) stays; the other members get Item.excluded = True, so
      labeling and releases skip them. Nothing is deleted, and members stay in the group.

    Re-resolving is allowed and sets `excluded` to match the new decision (kept_all after kept_one
    brings the excluded members back). Locks the group row. 404 for a group of another project,
    409 on an archived project, 400 for an unknown resolution or a kept item that is not a member
    (or one given with kept_all). Audited; announces "near_duplicates.resolved" after commit.
    """
    group = NearDuplicateGroup.objects.select_for_update().filter(pk=group_id, project_id=project.id).first()
    if group is None:
        raise NotFound()
    project_ensure_active(project)
    if resolution not in (Resolution.KEPT_ALL, Resolution.KEPT_ONE):
        raise DomainError("invalid_resolution", "Resolve with kept_all or kept_one.")
    members = dict(
        Item.objects.filter(project_id=project.id, near_duplicate_group=group)
        .order_by("id")
        .values_list("id", "excluded")
    )
    if resolution == Resolution.KEPT_ONE:
        if kept_item_id is None:
            raise DomainError("kept_item_required", "Say which item to keep.")
        if kept_item_id not in members:
            raise DomainError("invalid_kept_item", f"Item {kept_item_id} is not in this group.")
    elif kept_item_id is not None:
        raise DomainError("invalid_kept_item", "Keeping all items takes no kept item.")

    excluded = sorted(i for i in members if resolution == Resolution.KEPT_ONE and i != kept_item_id)
    included = sorted(i for i in members if i not in excluded)
    newly_excluded = [i for i in excluded if not members[i]]
    newly_included = [i for i in included if members[i]]
    if newly_excluded:
        Item.objects.filter(pk__in=newly_excluded).update(excluded=True)
    if newly_included:
        Item.objects.filter(pk__in=newly_included).update(excluded=False)
    before = {"resolution": group.resolution, "kept_item": group.kept_item_id}
    group.resolution = resolution
    group.kept_item_id = kept_item_id
    group.resolved_by = actor if getattr(actor, "is_authenticated", False) else None
    group.resolved_at = timezone.now()
    group.save(update_fields=["resolution", "kept_item", "resolved_by", "resolved_at"])
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="near_duplicates.resolved",
        target=group,
        changes={
            "resolution": [before["resolution"], resolution],
            "kept_item": [before["kept_item"], kept_item_id],
            "excluded": newly_excluded,
            "included": newly_included,
        },
    )
    broadcast_on_commit(
        project_group(project.id),
        "near_duplicates.resolved",
        {
            "project_id": project.id,
            "group_id": group.id,
            "resolution": resolution,
            "kept_item_id": kept_item_id,
            "excluded_item_ids": excluded,
        },
    )
    return group
