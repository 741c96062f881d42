"""Near-duplicate groups: detection over a project's items (in the background) and their resolution.

The algorithms are neardup.algorithm and neardup.images (pure numpy). This module streams the inputs from the
database (values_list iterators, never whole rows), decides which items join which group, and
writes set-based (COPY + one UPDATE on PostgreSQL). The rules are in docs/NEAR_DUPLICATES.md.
"""

import time
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from annotation import events
from core import task_names
from core.audit import audit_record
from core.bulk import binary_copy
from core.exceptions import DomainError, NotFound
from core.realtime import broadcast_on_commit, project_group
from core.services import outbox_enqueue
from projects.models import Project
from projects.services import project_ensure_active

from ..imports.normalise import search_text
from ..models import Item, NearDuplicateBucket, NearDuplicateGroup, NearDuplicateIndexed, NearDuplicateState
from . import algorithm, images, index

DETECT_TASK = task_names.NEAR_DUPLICATES_DETECT
TEXT_MEDIA_TYPES = ("", "text")  # media items (images, audio, video) are not compared by their text
ID_CHUNK = 5_000  # ids per `id IN (...)` when the candidates' texts are read again
_LOCK_NAMESPACE = 0x4E44  # pg_advisory_xact_lock(namespace, project id): one detection per project
_TEMP_TABLE = "tessera_near_duplicate_assignment"
PENDING_STALE = timedelta(minutes=10)  # a pending job older than this was lost
Kind = NearDuplicateGroup.Kind
Resolution = NearDuplicateGroup.Resolution


def _text_threshold() -> float:
    return float(getattr(settings, "ANNOTATION_NEAR_DUPLICATE_TEXT_THRESHOLD", algorithm.TEXT_THRESHOLD))


def _image_distance() -> int:
    return int(getattr(settings, "ANNOTATION_NEAR_DUPLICATE_IMAGE_DISTANCE", images.IMAGE_MAX_DISTANCE))


# --- Scheduling ---------------------------------------------------------------------------------------


def near_duplicates_detect_schedule(*, project_id: int, full: bool = False) -> bool:
    """Queue detection for `project_id` through the outbox (sent after the caller's transaction
    commits, retried until sent); imports call this when they created items. Returns whether a job
    was enqueued.

    Coalesced: while a job is queued and has not started (NearDuplicateState.pending), later calls
    enqueue nothing: that job indexes every item not yet indexed when it starts, so a burst of
    imports costs one run. The claim is tried in the caller's transaction (durable with the
    change) and, when a job was pending, once more after commit: a job that started in between
    read the items before this commit, so a new job is enqueued then. A pending flag older than
    PENDING_STALE (a lost message) counts as clear. `full` (the rescan) is never coalesced.
    """
    if full:
        outbox_enqueue(task_name=DETECT_TASK, kwargs={"project_id": project_id, "full": True})
        return True
    if _claim(project_id):
        return True
    transaction.on_commit(lambda: _claim_after_commit(project_id))
    return False


def _claim(project_id: int) -> bool:
    """Set `pending` if it is clear and enqueue the job (in the current transaction)."""
    now = timezone.now()
    state = NearDuplicateState.objects.filter(project_id=project_id)
    free = Q(pending=False) | Q(requested_at__lt=now - PENDING_STALE) | Q(requested_at__isnull=True)
    if not state.filter(free).update(pending=True, requested_at=now):
        if state.exists():
            return False
        try:
            with transaction.atomic():  # a savepoint: a racing creator must not break our transaction
                NearDuplicateState.objects.create(project_id=project_id, pending=True, requested_at=now)
        except IntegrityError:
            return False
    outbox_enqueue(task_name=DETECT_TASK, kwargs={"project_id": project_id})
    return True


def _claim_after_commit(project_id: int) -> None:
    with transaction.atomic():
        _claim(project_id)


def near_duplicates_detect_run(*, project_id: int, full: bool = False) -> int:
    """The job's body: clear `pending` (committed at once, so an import committed from now on
    enqueues a new job), then detect. Returns the number of new groups."""
    NearDuplicateState.objects.filter(project_id=project_id).update(pending=False)
    return near_duplicates_detect(project_id=project_id, full=full)


@transaction.atomic
def near_duplicates_detect_request(*, project: Project, actor, full: bool = False) -> None:
    """A manager asks for detection now ("Detect now", POST .../near-duplicates/detect/), or for a
    full rescan (`full`: the project's index is rebuilt from its items).

    Refused on an archived project (409). Audited; the work runs in the background.
    """
    project_ensure_active(project)
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="near_duplicates.rescan_requested" if full else "near_duplicates.detect_requested",
        target=project,
    )
    near_duplicates_detect_schedule(project_id=project.id, full=full)


# --- Detection ---------------------------------------------------------------------------------------

DETECT_CHUNK = 20_000  # new items indexed per step of an incremental run
BUILD_BATCH = 20_000  # items read per step of the in-memory full build (then only 80 bytes a text are kept)
IN_MEMORY_BUILD = True  # tests turn it off to compare the full build with the incremental path
_EMPTY = np.zeros(0, dtype=np.int64)
_SQLITE_LOOKUP_CHUNK = 900  # buckets per `IN (...)` on SQLite (its variable limit)


@dataclass
class _Outcome:
    """What one detection run changed, per kind and in all."""

    created: int = 0
    flagged: int = 0
    merged: list[int] = field(default_factory=list)
    indexed: int = 0
    per_kind: dict = field(default_factory=dict)
    phases: dict = field(default_factory=dict)  # seconds since the start of the last chunk, by step
    moved: dict = field(default_factory=dict)  # merged group id -> the group it was merged into

    def add(self, kind: str, created: int, flagged: int, merged: list[int], indexed: int) -> None:
        self.created += created
        self.flagged += flagged
        self.merged += merged
        self.indexed += indexed
        counts = self.per_kind.setdefault(kind, {"groups": 0, "items": 0, "merged": 0, "indexed": 0})
        counts["groups"] += created
        counts["items"] += flagged
        counts["merged"] += len(merged)
        counts["indexed"] += indexed


@transaction.atomic
def near_duplicates_detect(*, project_id: int, full: bool = False) -> int:
    """Index the project's new items and flag near-duplicates in groups; returns how many new groups.

    Compares the project's items that are not excluded: texts (items without an image hash and
    with no media other than text; the text is the item's search text, else the strings of its
    data) by MinHash/LSH at ANNOTATION_NEAR_DUPLICATE_TEXT_THRESHOLD (0.8), images (items with an
    image hash) by dHash distance up to ANNOTATION_NEAR_DUPLICATE_IMAGE_DISTANCE (6 bits).

    Incremental: only items not yet in the index (no NearDuplicateIndexed row) are processed.
    Their LSH buckets are looked up in NearDuplicateBucket, candidates verified with the stored
    signatures, then merged with union-find semantics over open groups: linked items without a
    group and the open groups they link become one group (the oldest open group, others merged
    into it and deleted; or a new group of two or more items). Members of resolved groups link
    nothing: a resolved group never changes, and an item that only resembles its members is not
    flagged. A project without index rows (its first run) and the maintenance rescan (`full=True`,
    which clears the project's index first) are built in memory instead (_build_in_memory: every
    pair found at once, the index written with COPY); the result is the same groups. Running it
    again without new items changes nothing.

    One detection per project at a time (an advisory lock on PostgreSQL). Items are never deleted.
    Audits and announces "near_duplicates.detected" after commit when something was flagged.
    An archived project, or one that no longer exists, is skipped.
    """
    project = Project.objects.filter(pk=project_id).first()
    if project is None or project.archived_at is not None:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, project_id])
    if full:
        near_duplicate_index_clear(project_id=project_id)
    outcome = _Outcome()
    for kind in (Kind.TEXT, Kind.IMAGE):
        outcome.per_kind[kind.value] = {"groups": 0, "items": 0, "merged": 0, "indexed": 0}
    if IN_MEMORY_BUILD and (full or not NearDuplicateIndexed.objects.filter(project_id=project_id).exists()):
        _build_in_memory(project_id, outcome)
    else:
        started = time.perf_counter()
        new_ids = _new_item_ids(project_id)
        outcome.phases["new"] = time.perf_counter() - started
        for start in range(0, len(new_ids), DETECT_CHUNK):
            chunk = new_ids[start : start + DETECT_CHUNK]
            texts, hashes, others = _new_rows(project_id, chunk[0], chunk[-1])
            if texts:
                _detect_chunk(project_id, Kind.TEXT, texts, outcome)
            if hashes:
                _detect_chunk(project_id, Kind.IMAGE, hashes, outcome)
            _index_write(project_id, "", np.array(others, dtype=np.int64), _EMPTY, _EMPTY.reshape(0, 1))
    if outcome.flagged or outcome.merged:
        audit_record(
            actor=None,
            organisation_id=project.organisation_id,
            project_id=project.id,
            action="near_duplicates.detected",
            target=project,
            changes={
                "groups": outcome.created,
                "items": outcome.flagged,
                "merged_groups": outcome.merged,
                **outcome.per_kind,
            },
        )
        broadcast_on_commit(
            project_group(project.id),
            events.NEAR_DUPLICATES_DETECTED,
            {"project_id": project.id, "groups": outcome.created, "items": outcome.flagged},
        )
    _last_run_stats.clear()
    _last_run_stats.update(indexed=outcome.indexed, per_kind=outcome.per_kind, phases=outcome.phases)
    return outcome.created


_last_run_stats: dict = {}  # what the last run in this process indexed (the bench reads it)


def near_duplicate_index_clear(*, project_id: int) -> None:
    """Forget the project's near-duplicate index (the next detection rebuilds it in full)."""
    NearDuplicateBucket.objects.filter(project_id=project_id).delete()
    NearDuplicateIndexed.objects.filter(project_id=project_id).delete()


def near_duplicate_index_forget(*, item_ids) -> None:
    """Remove the index entries of `item_ids`. Deleting items through the ORM does this by cascade;
    code that deletes items with raw SQL (or erases them) calls this first."""
    ids = [int(item_id) for item_id in item_ids]
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        NearDuplicateBucket.objects.filter(item_id__in=chunk).delete()
        NearDuplicateIndexed.objects.filter(item_id__in=chunk).delete()


def _text_items(project_id: int):
    return Item.objects.filter(
        project_id=project_id, excluded=False, image_hash__isnull=True, media_type__in=TEXT_MEDIA_TYPES
    ).order_by()


def _image_items(project_id: int):
    return Item.objects.filter(project_id=project_id, excluded=False, image_hash__isnull=False).order_by()


def _new_item_ids(project_id: int) -> list[int]:
    """Ids (ascending) of the project's items that detection has not seen: an anti-join of the
    (project, id) index of items with the narrow NearDuplicateIndexed table."""
    seen = NearDuplicateIndexed.objects.filter(item_id=OuterRef("pk"))
    return list(
        Item.objects.filter(project_id=project_id)
        .filter(~Exists(seen))
        .order_by("id")
        .values_list("id", flat=True)
    )


_ROW_FIELDS = ("id", "search_text", "image_hash", "media_type", "excluded", "near_duplicate_group_id")


def _new_rows(project_id: int, first: int, last: int) -> tuple[list, list, list]:
    """The unseen items with ids first..last, as (text rows, image rows, ids of the others). A text
    or image row is (id, search text or image hash, group id or None); the others (excluded items,
    media other than text and images) are marked seen without being compared."""
    seen = NearDuplicateIndexed.objects.filter(item_id=OuterRef("pk"))
    rows = (
        Item.objects.filter(project_id=project_id, id__gte=first, id__lte=last)
        .filter(~Exists(seen))
        .order_by("id")
        .values_list(*_ROW_FIELDS)
    )
    return _split_rows(rows)


def _split_rows(rows) -> tuple[list, list, list]:
    """Rows of _ROW_FIELDS as (text rows, image rows, ids of the others): see _new_rows."""
    texts, hashes, others = [], [], []
    for item_id, text, image_hash, media_type, excluded, group in rows:
        if excluded:
            others.append(item_id)
        elif image_hash is not None:
            hashes.append((item_id, image_hash, group))
        elif media_type in TEXT_MEDIA_TYPES:
            texts.append((item_id, text, group))
        else:
            others.append(item_id)
    return texts, hashes, others


def _data_text(data) -> str:
    return search_text(data) if isinstance(data, dict) else search_text({"value": data})


def _texts(project_id: int, rows: list[tuple]) -> list[str]:
    """The text of each row: its search text, else (an item created without one, through the API)
    made from its data, which is read only for those items."""
    missing = [item_id for item_id, text, _ in rows if not text]
    made = {}
    for start in range(0, len(missing), ID_CHUNK):
        for item_id, data in Item.objects.filter(id__in=missing[start : start + ID_CHUNK]).values_list(
            "id", "data"
        ):
            made[item_id] = _data_text(data)
    return [text or made.get(item_id, "") for item_id, text, _ in rows]


@dataclass
class _Endpoints:
    """The items a chunk's pairs touch: the chunk's new items first, then the stored candidates."""

    ids: np.ndarray
    groups: np.ndarray  # group id, 0 for none
    values: np.ndarray  # MinHash signatures (rows) or image hashes


def _detect_chunk(project_id: int, kind: str, chunk: list[tuple], outcome: _Outcome) -> None:
    """Index the new items of `chunk` (rows of _new_rows) and apply what they link (see
    near_duplicates_detect)."""
    started = time.perf_counter()
    phases = outcome.phases
    new_ids = [row[0] for row in chunk]
    # A merge earlier in this run may have moved a new item's group (a first build over old groups).
    groups = [outcome.moved.get(row[2], row[2]) for row in chunk]
    if kind == Kind.TEXT:
        threshold = _text_threshold()
        bands, rows = algorithm.lsh_params(threshold, algorithm.NUM_PERM)
        values = algorithm.minhash_signatures(_texts(project_id, chunk))
        nonempty = np.flatnonzero(~(values == algorithm.EMPTY).all(axis=1))
        bucket_rows = nonempty
        buckets = index.text_buckets(values[nonempty], bands=bands, rows=rows)
        low, high, _ = algorithm.text_pairs(values, threshold=threshold, bands=bands, rows=rows)
    else:
        distance = _image_distance()
        values = np.array([row[1] for row in chunk], dtype=np.int64)
        bucket_rows = np.arange(len(values))
        buckets = index.image_buckets(values, max_distance=distance)
        low, high, _ = images.hamming_pairs(values, max_distance=distance)
    new = np.array(new_ids, dtype=np.int64)
    size = new.size

    # Stored items sharing a bucket with a new item (looked up before the new buckets are written).
    phases["read"] = time.perf_counter() - started
    stored_buckets, stored_items = _stored_bucket_rows(project_id, np.unique(buckets))
    phases["lookup"] = time.perf_counter() - started
    cross_new, cross_old = index.cross_pairs(buckets, stored_buckets, stored_items)
    cross_new = bucket_rows[cross_new]
    endpoints = _candidate_endpoints(project_id, kind, new, groups, values, np.unique(cross_old))
    position = np.searchsorted(endpoints.ids[size:], cross_old)
    known = position < endpoints.ids.size - size
    known[known] = endpoints.ids[size:][position[known]] == cross_old[known]
    cross_new, cross_old = cross_new[known], position[known] + size
    if kind == Kind.TEXT:
        similarity = algorithm.jaccard_estimates(endpoints.values[cross_new], endpoints.values[cross_old])
        close = similarity >= _text_threshold() - 1e-9
    else:
        bits = np.bitwise_count(
            endpoints.values[cross_new].view(np.uint64) ^ endpoints.values[cross_old].view(np.uint64)
        )
        close = bits <= _image_distance()
    first = np.concatenate([low, cross_new[close]]).astype(np.int64)
    second = np.concatenate([high, cross_old[close]]).astype(np.int64)

    phases["verify"] = time.perf_counter() - started
    created, flagged, merged = _apply(project_id, kind, endpoints, first, second, outcome.moved)
    phases["apply"] = time.perf_counter() - started
    _index_write(project_id, kind, new, new[bucket_rows], buckets)
    phases["write"] = time.perf_counter() - started
    outcome.add(kind, created, flagged, merged, size)


def _build_in_memory(project_id: int, outcome: _Outcome) -> None:
    """The full build: every item of the project (the index is empty), all pairs found at once.

    The same groups as the incremental path, without probing the index chunk by chunk. Items are read
    BUILD_BATCH at a time in id order; each batch's MinHash signatures (or image hashes) become its
    buckets, written at once with COPY together with its seen rows, and only the band keys (16 x 4
    bytes a text), image hashes, ids and groups are kept. Then one LSH (or Hamming) search over all
    of them; text candidates are verified with signatures computed again from the texts of the
    candidates only (a second, narrow read): a million texts keep 80 MB of keys, not the 512 MB of
    their signatures (the candidate pairs come on top; docs/NEAR_DUPLICATES.md has the peak).
    Last, the verified pairs go through _apply once per kind: union-find over the items and their
    existing groups (open groups merge, resolved groups link nothing), exactly as the incremental
    path applies them chunk by chunk.
    """
    phases = outcome.phases
    started = time.perf_counter()
    bands, rows = algorithm.lsh_params(_text_threshold(), algorithm.NUM_PERM)
    distance = _image_distance()
    kept: dict[str, tuple[list, list, list]] = {Kind.TEXT: ([], [], []), Kind.IMAGE: ([], [], [])}
    indexed = {Kind.TEXT: 0, Kind.IMAGE: 0}
    last = 0
    writing = 0.0

    def write(*args) -> None:
        nonlocal writing
        begun = time.perf_counter()
        _index_write(project_id, *args)
        writing += time.perf_counter() - begun

    while True:
        batch = list(
            Item.objects.filter(project_id=project_id, id__gt=last)
            .order_by("id")
            .values_list(*_ROW_FIELDS)[:BUILD_BATCH]
        )
        if not batch:
            break
        last = batch[-1][0]
        texts, hashes, others = _split_rows(batch)
        if texts:
            ids = np.array([row[0] for row in texts], dtype=np.int64)
            signatures = algorithm.minhash_signatures(_texts(project_id, texts))
            nonempty = np.flatnonzero(~(signatures == algorithm.EMPTY).all(axis=1))
            keys = algorithm.lsh_band_keys(signatures[nonempty], bands=bands, rows=rows)
            del signatures
            buckets = index.pack(index.TEXT_KIND, np.arange(bands)[None, :], keys)
            write(Kind.TEXT, ids, ids[nonempty], buckets)
            groups = np.array([row[2] or 0 for row in texts], dtype=np.int64)
            kept[Kind.TEXT][0].append(ids[nonempty])
            kept[Kind.TEXT][1].append(groups[nonempty])
            kept[Kind.TEXT][2].append(keys)
            indexed[Kind.TEXT] += ids.size
        if hashes:
            ids = np.array([row[0] for row in hashes], dtype=np.int64)
            values = np.array([row[1] for row in hashes], dtype=np.int64)
            write(Kind.IMAGE, ids, ids, index.image_buckets(values, max_distance=distance))
            kept[Kind.IMAGE][0].append(ids)
            kept[Kind.IMAGE][1].append(np.array([row[2] or 0 for row in hashes], dtype=np.int64))
            kept[Kind.IMAGE][2].append(values)
            indexed[Kind.IMAGE] += ids.size
        write("", np.array(others, dtype=np.int64), _EMPTY, _EMPTY.reshape(0, 1))
    phases["index_write"] = writing  # of which: COPY of the buckets and seen rows
    phases["read_and_write"] = time.perf_counter() - started
    for kind in (Kind.TEXT, Kind.IMAGE):
        id_chunks, group_chunks, value_chunks = kept.pop(kind)
        if not id_chunks:
            continue
        ids, groups, values = (np.concatenate(chunks) for chunks in (id_chunks, group_chunks, value_chunks))
        del id_chunks, group_chunks, value_chunks  # the pieces are copies: free them before the search
        if kind == Kind.TEXT:
            endpoints, first, second = _text_links(project_id, ids, groups, values)
        else:
            low, high, _ = images.hamming_pairs(values, max_distance=distance)
            nodes = np.union1d(low, high)
            endpoints = _Endpoints(ids=ids[nodes], groups=groups[nodes], values=values[nodes])
            first, second = np.searchsorted(nodes, low), np.searchsorted(nodes, high)
        del values
        phases[f"{kind}_pairs"] = time.perf_counter() - started
        created, flagged, merged = _apply(project_id, kind, endpoints, first, second, outcome.moved)
        phases[f"{kind}_apply"] = time.perf_counter() - started
        outcome.add(kind, created, flagged, merged, indexed[kind])


def _text_links(
    project_id: int, ids: np.ndarray, groups: np.ndarray, keys: np.ndarray
) -> tuple[_Endpoints, np.ndarray, np.ndarray]:
    """The verified text pairs of the full build, from the band keys of every non-empty text: the
    LSH candidates (algorithm.lsh_candidate_pairs, as text_pairs finds them), verified with the
    signatures of the candidates only, computed again from their texts. Returns the candidates as
    endpoints (ascending id) and the pairs as positions in them."""
    low, high = algorithm.lsh_candidate_pairs(keys)
    candidates = np.union1d(low, high)
    wanted = ids[candidates].tolist()
    found: dict[int, str] = {}
    for start in range(0, len(wanted), ID_CHUNK):
        found.update(
            Item.objects.filter(id__in=wanted[start : start + ID_CHUNK]).values_list("id", "search_text")
        )
    texts = _texts(project_id, [(item_id, found.get(item_id, ""), None) for item_id in wanted])
    signatures = algorithm.minhash_signatures(texts)
    first, second = np.searchsorted(candidates, low), np.searchsorted(candidates, high)
    similarity = algorithm.jaccard_estimates(signatures[first], signatures[second])
    close = similarity >= _text_threshold() - 1e-9
    endpoints = _Endpoints(ids=ids[candidates], groups=groups[candidates], values=signatures)
    return endpoints, first[close], second[close]


def _stored_bucket_rows(project_id: int, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bucket, item id) of the project's stored index rows in the `wanted` buckets. PostgreSQL: one
    index scan over the array of buckets (`= ANY`); elsewhere `IN (...)` in chunks of SQLite's variables."""
    table = NearDuplicateBucket._meta.db_table
    rows: list[tuple[int, int]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT bucket, item_id FROM {table} "  # noqa: S608 (our table)
                "WHERE project_id = %s AND bucket = ANY(%s::bigint[])",
                [project_id, wanted.tolist()],
            )
            rows = cursor.fetchall()
        else:
            values = wanted.tolist()
            for start in range(0, len(values), _SQLITE_LOOKUP_CHUNK):
                chunk = values[start : start + _SQLITE_LOOKUP_CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"SELECT bucket, item_id FROM {table} "  # noqa: S608 (our table, placeholders)
                    f"WHERE project_id = %s AND bucket IN ({marks})",
                    [project_id, *chunk],
                )
                rows += cursor.fetchall()
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    found = np.array(rows, dtype=np.int64)
    return found[:, 0], found[:, 1]


def _candidate_endpoints(project_id, kind, new, groups, values, candidate_ids) -> _Endpoints:
    """The chunk's new items followed by the stored candidates that are still comparable
    (not excluded, still in the project), with their group and their signature (computed again
    from the text: the same as when it was indexed) or hash."""
    ids = candidate_ids.tolist()
    items = _text_items(project_id) if kind == Kind.TEXT else _image_items(project_id)
    value = "search_text" if kind == Kind.TEXT else "image_hash"
    state = {
        item_id: (group or 0, found)
        for start in range(0, len(ids), ID_CHUNK)
        for item_id, group, found in items.filter(id__in=ids[start : start + ID_CHUNK]).values_list(
            "id", "near_duplicate_group_id", value
        )
    }
    kept = sorted(state)
    old_groups = np.array([state[item_id][0] for item_id in kept], dtype=np.int64)
    if kind == Kind.TEXT:
        texts = _texts(project_id, [(item_id, state[item_id][1], None) for item_id in kept])
        old_values = algorithm.minhash_signatures(texts).reshape(len(kept), values.shape[1])
    else:
        old_values = np.array([state[item_id][1] for item_id in kept], dtype=np.int64)
    return _Endpoints(
        ids=np.concatenate([new, np.array(kept, dtype=np.int64)]),
        groups=np.concatenate([np.array([group or 0 for group in groups], dtype=np.int64), old_groups]),
        values=np.concatenate([values, old_values]),
    )


def _similarity(kind: str, values: np.ndarray) -> float:
    if len(values) < 2:
        return 1.0
    if kind == Kind.IMAGE:
        return images.image_group_similarity(values)
    return algorithm.text_group_similarity(values)


def _apply(
    project_id: int, kind: str, endpoints: _Endpoints, first: np.ndarray, second: np.ndarray, moved: dict
) -> tuple[int, int, list[int]]:
    """Union-find over the verified pairs, where an item in an open group stands for its group and
    members of resolved groups link nothing. Returns (new groups, newly flagged items, merged groups).

    Each component with open groups becomes the oldest of them: the others are merged into it (their
    members move, the emptied rows are deleted) and its items without a group join it. A component
    without open groups but with two or more items becomes a new group. A group's similarity is the
    lowest of the merged groups' values and the similarity among the items the component links.
    """
    if first.size == 0:
        return 0, 0, []
    count = endpoints.ids.size
    linked = np.unique(endpoints.groups[np.concatenate([first, second])])
    linked = linked[linked > 0]
    # Locked: a group resolved while this runs must not grow after its decision.
    open_groups = np.array(
        sorted(
            NearDuplicateGroup.objects.select_for_update()
            .filter(project_id=project_id, pk__in=linked.tolist(), resolution=Resolution.OPEN)
            .values_list("id", flat=True)
        ),
        dtype=np.int64,
    )
    # Node of each endpoint: itself (no group), count + rank of its open group, or -1 (resolved).
    rank = np.searchsorted(open_groups, endpoints.groups)
    in_open = (endpoints.groups > 0) & (rank < open_groups.size)
    in_open[in_open] = open_groups[rank[in_open]] == endpoints.groups[in_open]
    node = np.where(endpoints.groups == 0, np.arange(count), np.where(in_open, count + rank, -1))
    a, b = node[first], node[second]
    usable = (a >= 0) & (b >= 0)
    a, b = a[usable], b[usable]
    if a.size == 0:
        return 0, 0, []
    labels = algorithm.connected_components(count + open_groups.size, a, b)
    touched = np.concatenate([first[usable], second[usable]])
    new_groups, new_members = [], []
    joins: dict[int, tuple[list[int], list[np.ndarray], float]] = {}  # target -> (merged, items, sim)
    for members in algorithm.groups_from_labels(labels):
        items = members[members < count]
        groups = open_groups[members[members >= count] - count]
        if groups.size:
            target = int(groups.min())
            rows = np.unique(touched[np.isin(node[touched], members)])
            joins[target] = (
                [int(group) for group in groups if group != target],
                endpoints.ids[items],
                _similarity(kind, endpoints.values[rows]),
            )
        elif items.size >= 2:
            new_members.append(endpoints.ids[items])
            new_groups.append(
                NearDuplicateGroup(
                    project_id=project_id, kind=kind, similarity=_similarity(kind, endpoints.values[items])
                )
            )
    created = NearDuplicateGroup.objects.bulk_create(new_groups)
    assignments = [(members, group.id) for members, group in zip(new_members, created, strict=True)]
    merged: list[int] = []
    if joins:
        involved = {target for target in joins} | {group for merge, _, _ in joins.values() for group in merge}
        similarity_of = dict(
            NearDuplicateGroup.objects.filter(pk__in=involved).values_list("id", "similarity")
        )
        grown = list(NearDuplicateGroup.objects.filter(pk__in=joins).order_by("id"))
        for group in grown:
            merge, items, similarity = joins[group.id]
            group.similarity = min([similarity, similarity_of[group.id]] + [similarity_of[m] for m in merge])
            if items.size:
                assignments.append((items, group.id))
            if merge:
                Item.objects.filter(project_id=project_id, near_duplicate_group_id__in=merge).update(
                    near_duplicate_group_id=group.id
                )
                merged += merge
                for group_id in merge:
                    moved[group_id] = group.id
                for source, destination in list(moved.items()):
                    if destination in merge:
                        moved[source] = group.id
        NearDuplicateGroup.objects.bulk_update(grown, ["similarity"])
        if merged:
            NearDuplicateGroup.objects.filter(project_id=project_id, pk__in=merged).delete()
    flagged = 0
    if assignments:
        item_ids = np.concatenate([members for members, _ in assignments])
        group_ids = np.concatenate(
            [np.full(members.size, group, dtype=np.int64) for members, group in assignments]
        )
        _write_groups(project_id=project_id, item_ids=item_ids, group_ids=group_ids)
        flagged = int(item_ids.size)
    return len(created), flagged, sorted(merged)


def _index_write(
    project_id: int,
    kind: str,
    item_ids: np.ndarray,
    bucket_item_ids: np.ndarray,
    buckets: np.ndarray,
) -> None:
    """Mark `item_ids` seen (as `kind`) and store the buckets (COPY on PostgreSQL, bulk_create
    elsewhere)."""
    flat_buckets = buckets.ravel().astype(np.int64)
    flat_items = (
        np.repeat(bucket_item_ids.astype(np.int64), buckets.shape[1]) if buckets.size else flat_buckets
    )
    if connection.vendor == "postgresql":
        seen_table = NearDuplicateIndexed._meta.db_table
        bucket_table = NearDuplicateBucket._meta.db_table
        with connection.cursor() as cursor:
            if item_ids.size:
                with cursor.copy(f"COPY {seen_table} (item_id, project_id, kind) FROM STDIN") as copy:
                    tail = f"\t{project_id}\t{kind}\n"
                    copy.write("".join(f"{item_id}{tail}" for item_id in item_ids.tolist()))
            if flat_buckets.size:
                with cursor.copy(
                    f"COPY {bucket_table} (project_id, bucket, item_id) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.write(
                        binary_copy(
                            np.full(flat_buckets.size, project_id, dtype=np.int64), flat_buckets, flat_items
                        )
                    )
        return
    NearDuplicateIndexed.objects.bulk_create(
        [
            NearDuplicateIndexed(item_id=item_id, project_id=project_id, kind=kind)
            for item_id in item_ids.tolist()
        ],
        batch_size=500,
    )
    NearDuplicateBucket.objects.bulk_create(
        [
            NearDuplicateBucket(project_id=project_id, bucket=bucket, item_id=item_id)
            for bucket, item_id in zip(flat_buckets.tolist(), flat_items.tolist(), strict=True)
        ],
        batch_size=2000,
    )


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
        events.NEAR_DUPLICATES_RESOLVED,
        {
            "project_id": project.id,
            "group_id": group.id,
            "resolution": resolution,
            "kept_item_id": kept_item_id,
            "excluded_item_ids": excluded,
        },
    )
    return group
