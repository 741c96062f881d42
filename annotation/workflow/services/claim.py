"""Claiming the next item: the queue scan (FOR UPDATE SKIP LOCKED on PostgreSQL), queue cursors, gold
injection and new assignments. Lock order as in labeling.py."""

import random
import uuid
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from annotation import events
from core.exceptions import DomainError
from projects.labeling import effective_gold_rate, labeling_settings
from projects.models import (
    Project,
    ProjectMembership,
)
from projects.services import project_ensure_active

from ...models import Assignment, Item
from .labeling import (
    LATEST_VERSIONS_SQL,
    NextItem,
    RowReader,
    _announce,
    _cursor_key,
    _epoch_key,
    _lease,
    _lease_until,
    _membership,
    _take_slot,
    checked_versions,
    ensure_guidelines_acknowledged,
    latest_schema,
    lease_release_expired,
)

_random = random.Random()  # gold injection; not security-relevant


# --- the queue --------------------------------------------------------------------------------------

_CANDIDATE_WHERE = """
    i.project_id = %(project)s AND i.state = 'open' AND NOT i.excluded AND NOT i.is_gold
    AND i.leased < (i.target - i.done)
    AND (i.pool = '' OR i.pool = ANY(%(pools)s))
    AND NOT EXISTS (
        SELECT 1 FROM annotation_assignment a
        WHERE a.item_id = i.id AND a.annotator_id = %(user)s AND a.status <> 'expired'
    )
"""

# PostgreSQL: pick and take the slot in one statement; SKIP LOCKED lets 50 annotators pass each other.
# `{after}` narrows the scan to what comes after the annotator's queue cursor (see _claim_slot).
_PG_CLAIM = """
WITH pick AS (
    SELECT i.id, i.priority, i.rank FROM annotation_item i
    WHERE {where} {after}
    ORDER BY i.priority DESC, i.rank, i.id
    LIMIT 1
    FOR UPDATE OF i SKIP LOCKED
)
UPDATE annotation_item SET leased = annotation_item.leased + 1
FROM pick WHERE annotation_item.id = pick.id
RETURNING pick.priority, pick.rank,
    (SELECT a.id FROM annotation_assignment a
     WHERE a.item_id = annotation_item.id AND a.annotator_id = %(user)s) AS held,
    {item_columns}
"""
# The claim returns the whole item row (the response shows it) and the id of the annotator's expired
# assignment on it, if any (the only kind the candidate filter lets through): no statement to read
# the item back, and none to look for an old assignment to take back when there is none.
_ITEMS = RowReader(Item, "annotation_item.")
_ITEM_COLUMNS = _ITEMS.columns
# After the cursor, in index order: the rest of the cursor's priority, then every lower priority.
_AFTER_CURSOR = (
    "AND i.priority = %(cursor_priority)s AND (i.rank, i.id) > (%(cursor_rank)s, %(cursor_id)s)",
    "AND i.priority < %(cursor_priority)s",
)
_CLAIM_FULL = _PG_CLAIM.format(where=_CANDIDATE_WHERE, after="", item_columns=_ITEM_COLUMNS)
_CLAIM_AFTER = tuple(
    _PG_CLAIM.format(where=_CANDIDATE_WHERE, after=after, item_columns=_ITEM_COLUMNS)
    for after in _AFTER_CURSOR
)

_PG_GOLD = """
SELECT i.id FROM annotation_item i
WHERE i.project_id = %(project)s AND i.is_gold AND NOT i.excluded
  AND (i.pool = '' OR i.pool = ANY(%(pools)s))
  AND NOT EXISTS (SELECT 1 FROM annotation_assignment a WHERE a.item_id = i.id AND a.annotator_id = %(user)s)
ORDER BY i.id
LIMIT 1
"""


def _sqlite_params(sql: str, params: dict) -> tuple[str, list]:
    """The PostgreSQL statements above, for SQLite: `= ANY(list)` becomes IN (...), names become %s."""
    pools = params["pools"] or [""]
    sql = sql.replace("= ANY(%(pools)s)", "IN %(pools)s")
    out, ordered, rest = "", [], sql
    while "%(" in rest:
        head, _, tail = rest.partition("%(")
        name, _, rest = tail.partition(")s")
        if name == "pools":
            out += head + "(" + ", ".join(["%s"] * len(pools)) + ")"
            ordered += pools
        else:
            out += head + "%s"
            ordered.append(params[name])
    return out + rest, ordered


@dataclass
class _Claimed:
    item_id: int
    item: Item | None = None  # the row, when the claim statement returned it (PostgreSQL)
    held: int | Literal["unknown"] | None = "unknown"  # their expired assignment on it, if known


def _claim_slot(project: Project, annotator, pools: list[str]) -> _Claimed | None:
    """Take one slot on the best open item for `annotator`, or None if none is left."""
    params = {"project": project.id, "user": annotator.pk, "pools": pools}
    if connection.vendor == "postgresql":
        row, remember = _scan_from_cursor(project, annotator, pools, params, _CLAIM_FULL, _CLAIM_AFTER)
        if row is None:
            return None
        priority, rank, held, *values = row
        item = _ITEMS.instance(values)
        remember(priority, rank, item.id)
        return _Claimed(item.id, item, held)
    with connection.cursor() as cursor:
        # SQLite serialises writers; the conditional UPDATE is the guard, as it is on PostgreSQL.
        select = f"SELECT i.id FROM annotation_item i WHERE {_CANDIDATE_WHERE} ORDER BY i.priority DESC, i.rank, i.id LIMIT 20"  # noqa: S608, E501
        sql, args = _sqlite_params(select, params)
        cursor.execute(sql, args)
        for (item_id,) in cursor.fetchall():
            if _take_slot(item_id):
                return _Claimed(item_id)
    return None


def _gold_item(project: Project, annotator, pools: list[str]) -> int | None:
    params = {"project": project.id, "user": annotator.pk, "pools": pools}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_GOLD, params)
        else:
            cursor.execute(*_sqlite_params(_PG_GOLD, params))
        row = cursor.fetchone()
    return row[0] if row else None


def _pools(annotator, membership: ProjectMembership | None) -> list[str]:
    """Item pools this person may take from: everyone's, their own (@username) and their groups'."""
    return ["", f"@{annotator.get_username()}", *(membership.groups if membership else [])]


@transaction.atomic
def next_item_for_annotator(*, project: Project, annotator) -> NextItem:
    """The item `annotator` should work on now, held for them by a lease.

    In order: a correction a reviewer sent back; the lease they already hold (a reload gives the same
    item); an item whose lease expired but whose draft is theirs, if a slot is still free; a gold item
    at the gold rate; then the queue (priority, then the project's ordering). Paused annotators and
    those who have not acknowledged the newest guidelines get a 409 that says why.

    On PostgreSQL the common case (a member holding nothing) takes the lean path: one statement for
    the membership lock, the versions and whether anything is held, one for the claim and the new
    assignment. Everything else takes the general path below; both decide the same way.
    """
    project_ensure_active(project)
    if connection.vendor == "postgresql" and settings.LABELING_LEAN_PATH:
        outcome = _next_lean(project, annotator)
        if outcome is not None:
            return outcome
    return _next_general(project, annotator)


def _next_general(project: Project, annotator) -> NextItem:
    """next_item_for_annotator for every case, with the ORM (and on SQLite)."""
    membership = _membership(project, annotator, lock=True)  # one next-item at a time per person
    if membership is not None and membership.paused_at is not None:
        raise DomainError(
            "annotator_paused",
            f"You are paused in this project: {membership.paused_reason} A manager can re-qualify you.",
            status_code=409,
        )
    ensure_guidelines_acknowledged(project, annotator)
    schema = latest_schema(project)
    knobs = labeling_settings(project)
    mine = Assignment.objects.filter(project=project, annotator=annotator)

    # What they already hold, in one query: corrections first, then a live lease, then expired drafts.
    resumable = (
        mine.filter(
            Q(status__in=[Assignment.Status.CORRECTION, Assignment.Status.LEASED])
            | Q(status=Assignment.Status.EXPIRED, draft__isnull=False)
        )
        .select_related("item")
        .annotate(
            rank=Case(
                When(status=Assignment.Status.CORRECTION, then=Value(0)),
                When(status=Assignment.Status.LEASED, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "id")[:6]
    )
    for held in resumable:
        if held.status == Assignment.Status.CORRECTION:
            return NextItem(held, resumed=True, schema=schema)
        if held.status == Assignment.Status.LEASED:
            held.lease_expires_at = _lease_until(project)
            held.save(update_fields=["lease_expires_at"])
            return NextItem(held, resumed=True, schema=schema)
        if held.is_gold or _take_slot(held.item_id):
            _lease(held, project)
            return NextItem(held, resumed=True, schema=schema)

    quota = membership.quota if membership and membership.quota is not None else knobs.quota
    if quota is not None:
        taken = mine.exclude(status__in=[Assignment.Status.SKIPPED, Assignment.Status.EXPIRED]).count()
        if taken >= quota:
            return NextItem(None, reason="quota_reached", schema=schema)

    pools = _pools(annotator, membership)
    gold_rate = (
        membership.gold_rate
        if membership and membership.gold_rate is not None
        else effective_gold_rate(knobs)
    )
    if membership is not None:  # the quality app raises it for new and low-scoring annotators
        gold_rate = min(1.0, gold_rate * membership.gold_boost)
    if gold_rate > 0 and _random.random() < gold_rate:
        gold_id = _gold_item(project, annotator, pools)
        if gold_id is not None:
            # The gold query skips items they ever had an assignment on: none to take back.
            gold = _Claimed(gold_id, held=None)
            return NextItem(_new_assignment(project, annotator, gold, is_gold=True), schema=schema)

    claimed = _claim_slot(project, annotator, pools)
    if claimed is None and lease_release_expired(project=project):
        # Lapsed leases were holding slots (beat sweeps every 30 s; embedded mode relies on this).
        claimed = _claim_slot(project, annotator, pools)
    if claimed is None:
        return NextItem(None, reason="queue_empty", schema=schema)
    return NextItem(_new_assignment(project, annotator, claimed, is_gold=False), schema=schema)


def _new_assignment(project: Project, annotator, claimed: _Claimed, *, is_gold: bool) -> Assignment:
    now = timezone.now()
    until = _lease_until(project)
    item_id = claimed.item_id
    taken_back = 0
    if claimed.held is not None:
        # Their lease on it may have expired earlier: take the same row back (it keeps its draft).
        taken_back = Assignment.objects.filter(
            item_id=item_id, annotator=annotator, status=Assignment.Status.EXPIRED
        ).update(status=Assignment.Status.LEASED, leased_at=now, lease_expires_at=until, is_gold=is_gold)
    if taken_back:
        assignment = Assignment.objects.select_related("item").get(item_id=item_id, annotator=annotator)
    else:
        assignment = Assignment.objects.create(
            project=project,
            item_id=item_id,
            annotator=annotator,
            status=Assignment.Status.LEASED,
            is_gold=is_gold,
            leased_at=now,
            lease_expires_at=until,
        )
        assignment.item = claimed.item or Item.objects.get(pk=item_id)
    _announce(project.id, events.ITEM_LEASED, item_id=item_id, assignment_id=assignment.id)
    return assignment


# --- the lean path (PostgreSQL) -----------------------------------------------------------------------

_LEAN_START = f"""
SELECT m.paused_at, m.paused_reason, m.quota, m.groups, m.gold_rate, m.gold_boost,
    {LATEST_VERSIONS_SQL},
    EXISTS (SELECT 1 FROM annotation_assignment a
            WHERE a.annotator_id = %(user)s AND a.project_id = %(project)s
              AND (a.status IN ('correction', 'leased') OR (a.status = 'expired' AND a.draft IS NOT NULL))
    ) AS holds
FROM projects_projectmembership m
WHERE m.project_id = %(project)s AND m.user_id = %(user)s
FOR UPDATE OF m
"""  # noqa: S608 - constant SQL, values are parameters

# The claim and the assignment in one statement. The candidate filter lets through only items on which
# the annotator has no assignment or an expired one; ON CONFLICT takes that expired row back (it keeps
# its draft), as _new_assignment does.
_ASSIGNMENTS = RowReader(Assignment, "annotation_assignment.")
_PG_CLAIM_ASSIGN = """
WITH pick AS (
    SELECT i.id FROM annotation_item i
    WHERE {where} {after}
    ORDER BY i.priority DESC, i.rank, i.id
    LIMIT 1
    FOR UPDATE OF i SKIP LOCKED
), claimed AS (
    UPDATE annotation_item SET leased = annotation_item.leased + 1
    FROM pick WHERE annotation_item.id = pick.id
    RETURNING {item_columns}
), assigned AS (
    INSERT INTO annotation_assignment (project_id, item_id, annotator_id, status, is_gold, leased_at,
        lease_expires_at, submitted_at, skip_reason, draft, draft_saved_at, active_ms)
    SELECT %(project)s, claimed.id, %(user)s, 'leased', false, %(now)s, %(until)s, NULL, '', NULL, NULL, 0
    FROM claimed
    ON CONFLICT (item_id, annotator_id) DO UPDATE
        SET status = 'leased', leased_at = EXCLUDED.leased_at, lease_expires_at = EXCLUDED.lease_expires_at,
            is_gold = false
        WHERE annotation_assignment.status = 'expired'
    RETURNING {assignment_columns}
)
SELECT assigned.*, claimed.*,
    EXISTS (SELECT 1 FROM annotation_prediction p WHERE p.item_id = claimed.id) AS predicted
FROM claimed LEFT JOIN assigned ON true
"""
_COLUMNS = {
    "where": _CANDIDATE_WHERE,
    "item_columns": _ITEM_COLUMNS,
    "assignment_columns": _ASSIGNMENTS.columns,
}
_CLAIM_ASSIGN_FULL = _PG_CLAIM_ASSIGN.format(after="", **_COLUMNS)
_CLAIM_ASSIGN_AFTER = tuple(_PG_CLAIM_ASSIGN.format(after=after, **_COLUMNS) for after in _AFTER_CURSOR)
_GROUPS_FROM_DB = ProjectMembership._meta.get_field("groups").from_db_value


def _next_lean(project: Project, annotator) -> NextItem | None:
    """The general path's decisions in two statements (three with a gold draw, four when the queue
    cursor's part of the queue is empty), or None when the general path must decide: no membership
    row, or something held (a correction, a lease, an expired draft) that it resumes."""
    params = {"project": project.id, "user": annotator.pk}
    with connection.cursor() as cursor:
        cursor.execute(_LEAN_START, params)
        row = cursor.fetchone()
    if row is None:
        return None
    paused_at, paused_reason, quota, groups, gold_rate, gold_boost, guideline_id, schema_id, ack, holds = row
    if paused_at is not None:
        raise DomainError(
            "annotator_paused",
            f"You are paused in this project: {paused_reason} A manager can re-qualify you.",
            status_code=409,
        )
    _, schema = checked_versions(guideline_id, schema_id, ack)
    if holds:
        return None
    knobs = labeling_settings(project)
    quota = quota if quota is not None else knobs.quota
    if quota is not None:
        taken = (
            Assignment.objects.filter(project=project, annotator=annotator)
            .exclude(status__in=[Assignment.Status.SKIPPED, Assignment.Status.EXPIRED])
            .count()
        )
        if taken >= quota:
            return NextItem(None, reason="quota_reached", schema=schema)
    groups = _GROUPS_FROM_DB(groups, None, connection) if isinstance(groups, str) else groups
    pools = ["", f"@{annotator.get_username()}", *(groups or [])]
    rate = gold_rate if gold_rate is not None else effective_gold_rate(knobs)
    rate = min(1.0, rate * gold_boost)
    if rate > 0 and _random.random() < rate:
        gold_id = _gold_item(project, annotator, pools)
        if gold_id is not None:
            gold = _Claimed(gold_id, held=None)
            return NextItem(_new_assignment(project, annotator, gold, is_gold=True), schema=schema)
    assignment = _claim_and_assign(project, annotator, pools)
    if assignment is None and lease_release_expired(project=project):
        assignment = _claim_and_assign(project, annotator, pools)
    if assignment is None:
        return NextItem(None, reason="queue_empty", schema=schema)
    _announce(project.id, events.ITEM_LEASED, item_id=assignment.item_id, assignment_id=assignment.id)
    return NextItem(assignment, schema=schema)


def _claim_and_assign(project: Project, annotator, pools: list[str]) -> Assignment | None:
    """Take one slot on the best open item for `annotator` and lease it to them (a new assignment, or
    their expired one taken back), in one statement; None if no item is left."""
    params = {
        "project": project.id,
        "user": annotator.pk,
        "pools": pools,
        "now": timezone.now(),
        "until": _lease_until(project),
    }
    row, remember = _scan_from_cursor(
        project, annotator, pools, params, _CLAIM_ASSIGN_FULL, _CLAIM_ASSIGN_AFTER
    )
    if row is None:
        return None
    width = _ASSIGNMENTS.width
    if row[0] is None:  # the filter excludes live assignments: this would be a bug, so undo the claim
        raise RuntimeError(f"claimed item {row[width]} for user {annotator.pk} but could not assign it")
    assignment = _ASSIGNMENTS.instance(row[:width])
    assignment.item = item = _ITEMS.instance(row[width:-1])
    if not row[-1]:
        item.offered_predictions = []  # the payload's offered prediction: none, without asking again
    remember(item.priority, item.rank, item.id)
    return assignment


def _scan_from_cursor(project: Project, annotator, pools: list[str], params: dict, full_sql: str, after_sql):
    """Run a claim statement from the annotator's queue cursor (`after_sql`, in index order), or over the
    whole queue (`full_sql`) when the cursor is missing, stale or finds nothing. Returns the row (None
    when nothing is left) and `remember(priority, rank, item_id)`, which moves the cursor there."""
    epoch_key, cursor_key = _epoch_key(project.id), _cursor_key(project.id, annotator.pk)
    cached = cache.get_many([epoch_key, cursor_key])
    epoch = cached.get(epoch_key)
    if epoch is None:  # a cold or evicted cache starts a new epoch: older cursors are then ignored
        epoch = cache.get_or_set(epoch_key, lambda: uuid.uuid4().hex, timeout=None)
    saved = cached.get(cursor_key)
    row = None
    with connection.cursor() as cursor:
        if saved and saved[0] == epoch and saved[1] == pools:
            params = {**params, "cursor_priority": saved[2], "cursor_rank": saved[3], "cursor_id": saved[4]}
            for sql in after_sql:
                cursor.execute(sql, params)
                if row := cursor.fetchone():
                    break
        if row is None:
            cursor.execute(full_sql, params)
            row = cursor.fetchone()

    def remember(priority, rank, item_id) -> None:
        cache.set(cursor_key, (epoch, pools, priority, rank, item_id), 24 * 3600)

    return row, remember
