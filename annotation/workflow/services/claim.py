"""Claiming the next item: the queue scan (FOR UPDATE SKIP LOCKED on PostgreSQL), queue cursors, gold
injection and new assignments. Lock order as in labeling.py."""

import random
import uuid

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from core.exceptions import DomainError
from projects.labeling import effective_gold_rate, labeling_settings
from projects.models import (
    Project,
    ProjectMembership,
)
from projects.services import project_ensure_active

from ...models import Assignment, Item
from .labeling import (
    NextItem,
    _announce,
    _cursor_key,
    _epoch_key,
    _lease,
    _lease_until,
    _membership,
    _take_slot,
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
RETURNING annotation_item.id, pick.priority, pick.rank
"""
# After the cursor, in index order: the rest of the cursor's priority, then every lower priority.
_AFTER_CURSOR = (
    "AND i.priority = %(cursor_priority)s AND (i.rank, i.id) > (%(cursor_rank)s, %(cursor_id)s)",
    "AND i.priority < %(cursor_priority)s",
)
_CLAIM_FULL = _PG_CLAIM.format(where=_CANDIDATE_WHERE, after="")
_CLAIM_AFTER = tuple(_PG_CLAIM.format(where=_CANDIDATE_WHERE, after=after) for after in _AFTER_CURSOR)

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


def _claim_slot(project: Project, annotator, pools: list[str]) -> int | None:
    """Take one slot on the best open item for `annotator`; the item's id, or None if none is left."""
    params = {"project": project.id, "user": annotator.pk, "pools": pools}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A missing epoch (a cold or evicted cache) starts a new one: older cursors are then ignored.
            epoch = cache.get_or_set(_epoch_key(project.id), lambda: uuid.uuid4().hex, timeout=None)
            saved = cache.get(_cursor_key(project.id, annotator.pk))
            row = None
            if saved and saved[0] == epoch and saved[1] == pools:
                params.update(cursor_priority=saved[2], cursor_rank=saved[3], cursor_id=saved[4])
                for sql in _CLAIM_AFTER:
                    cursor.execute(sql, params)
                    if row := cursor.fetchone():
                        break
            if row is None:
                cursor.execute(_CLAIM_FULL, params)
                row = cursor.fetchone()
            if row is None:
                return None
            item_id, priority, rank = row
            cache.set(
                _cursor_key(project.id, annotator.pk), (epoch, pools, priority, rank, item_id), 24 * 3600
            )
            return item_id
        # SQLite serialises writers; the conditional UPDATE is the guard, as it is on PostgreSQL.
        select = f"SELECT i.id FROM annotation_item i WHERE {_CANDIDATE_WHERE} ORDER BY i.priority DESC, i.rank, i.id LIMIT 20"  # noqa: S608, E501
        sql, args = _sqlite_params(select, params)
        cursor.execute(sql, args)
        for (item_id,) in cursor.fetchall():
            if _take_slot(item_id):
                return item_id
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
    """
    project_ensure_active(project)
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
            return NextItem(_new_assignment(project, annotator, gold_id, is_gold=True), schema=schema)

    item_id = _claim_slot(project, annotator, pools)
    if item_id is None and lease_release_expired(project=project):
        # Lapsed leases were holding slots (beat sweeps every 30 s; embedded mode relies on this).
        item_id = _claim_slot(project, annotator, pools)
    if item_id is None:
        return NextItem(None, reason="queue_empty", schema=schema)
    return NextItem(_new_assignment(project, annotator, item_id, is_gold=False), schema=schema)


def _new_assignment(project: Project, annotator, item_id: int, *, is_gold: bool) -> Assignment:
    now = timezone.now()
    until = _lease_until(project)
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
        assignment.item = Item.objects.get(pk=item_id)
    _announce(project.id, "item.leased", item_id=item_id, assignment_id=assignment.id)
    return assignment
