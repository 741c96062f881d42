"""The annotator's side of the workflow: the queue with leases, drafts, submissions and skips.

Concurrency (docs/WORKFLOW.md): a slot on an item is taken by a conditional UPDATE of the item's
counters (`leased < target - done`) under the item's row lock; on PostgreSQL the candidate is chosen
with FOR UPDATE SKIP LOCKED, so concurrent annotators take different items without waiting. The
check constraint `item_slots_within_target` refuses any write that would over-annotate, and the unique
(item, annotator) constraints refuse a second slot or annotation for one person.

Lock order, everywhere: the annotator's membership row, then the item row, then its assignment and
annotation rows. No function locks the project row.
"""

import hashlib
import json
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone

from core.audit import audit_record
from core.exceptions import DomainError
from core.realtime import broadcast_on_commit, project_group
from projects.labeling import effective_gold_rate, labeling_settings
from projects.models import (
    GuidelineAcknowledgement,
    GuidelineVersion,
    LabelSchemaVersion,
    Project,
    ProjectMembership,
)
from projects.schema import validate_annotation
from projects.selectors import guideline_latest, schema_latest
from projects.services import project_ensure_active
from quality.scheduling import quality_schedule

from .. import states
from ..models import Annotation, AnnotationRevision, Assignment, Item, Prediction

_random = random.Random()  # gold injection; not security-relevant


@dataclass
class NextItem:
    assignment: Assignment | None
    reason: str = ""  # why there is none: queue_empty, quota_reached
    resumed: bool = False  # an assignment they already held (a reload, a correction, a draft)
    schema: LabelSchemaVersion | None = None  # the version to label under (the newest)


@dataclass
class Submitted:
    annotation: Annotation
    replayed: bool = False  # the same idempotency key was seen: nothing new was written


# --- small helpers --------------------------------------------------------------------------------


def _announce(project_id: int, event: str, **data: Any) -> None:
    broadcast_on_commit(project_group(project_id), event, {"project_id": project_id, **data})


def _audit(project: Project, actor, action: str, target, changes: dict) -> None:
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action=action,
        target=target,
        changes=changes,
    )


def latest_schema(project: Project) -> LabelSchemaVersion:
    """projects.selectors.schema_latest, or 409 no_schema."""
    schema = schema_latest(project=project)
    if schema is None:
        raise DomainError(
            "no_schema", "This project has no label schema yet; a manager defines one first.", status_code=409
        )
    return schema


def _latest_guidelines(project: Project) -> GuidelineVersion | None:
    return guideline_latest(project=project)


def ensure_guidelines_acknowledged(project: Project, user) -> GuidelineVersion | None:
    """The newest guideline version, which `user` must have acknowledged (409 otherwise). One query."""
    guidelines = (
        GuidelineVersion.objects.filter(project=project)
        .annotate(
            acknowledged=Exists(
                GuidelineAcknowledgement.objects.filter(guideline_version=OuterRef("pk"), user=user)
            )
        )
        .order_by("-version")
        .first()
    )
    if guidelines is None:
        return None
    if not guidelines.acknowledged:
        raise DomainError(
            "guidelines_not_acknowledged",
            f"The guidelines changed (version {guidelines.version}); read and acknowledge them first.",
            status_code=409,
            extra={"guideline_version": guidelines.version},
        )
    return guidelines


def _lease_until(project: Project):
    return timezone.now() + timedelta(seconds=labeling_settings(project).lease_seconds)


def _membership(project: Project, user, *, lock: bool) -> ProjectMembership | None:
    query = ProjectMembership.objects.filter(project=project, user=user)
    if lock:
        query = query.select_for_update(of=("self",))
    return query.first()


def _lock_item(item_id: int) -> Item:
    return Item.objects.select_for_update(of=("self",)).get(pk=item_id)


def _own_assignment(project: Project, annotator, assignment_id: int, *, lock_item: bool) -> Assignment:
    """The annotator's assignment with its item, both locked (lock order: item, then assignment).
    Two statements: the item is locked through a join on the assignment."""
    if lock_item:
        item = (
            Item.objects.select_for_update(of=("self",))
            .filter(project=project, assignments__pk=assignment_id)
            .first()
        )
        if item is None:
            raise DomainError("not_found", "Not found.", status_code=404)
    assignment = (
        Assignment.objects.select_for_update(of=("self",)).filter(pk=assignment_id, project=project).first()
    )
    if assignment is None:
        raise DomainError("not_found", "Not found.", status_code=404)
    if assignment.annotator_id != annotator.pk:
        raise DomainError(
            "not_your_assignment",
            "This item is leased to someone else; ask for your next item.",
            status_code=403,
        )
    assignment.item = item if lock_item else Item.objects.get(pk=assignment.item_id)
    return assignment


def media_facts(item: Item) -> dict:
    """What the validator may check regions against: image size, duration, frame count (when known)."""
    facts = {}
    for key in ("width", "height", "duration", "frame_count"):
        value = item.meta.get(key) if isinstance(item.meta, dict) else None
        if value is None and isinstance(item.data, dict):
            value = item.data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            facts[key] = value
    return facts


def validate_result(schema: LabelSchemaVersion, item: Item, result: Any) -> None:
    """400 invalid_annotation listing every issue when `result` breaks `schema` for `item`."""
    size = len(json.dumps(result, ensure_ascii=False).encode()) if result is not None else 0
    if size > settings.ANNOTATION_MAX_BYTES:
        raise DomainError(
            "annotation_too_large",
            f"An annotation may be at most {settings.ANNOTATION_MAX_BYTES:,} bytes of JSON; "
            f"this is {size:,}.",
            status_code=413,
        )
    issues = validate_annotation(schema.definition, item.data, result, media=media_facts(item))
    if issues:
        first = issues[0]
        raise DomainError(
            "invalid_annotation",
            f"The annotation does not fit schema version {schema.version}: {first.path or 'result'}: "
            f"{first.message}",
            extra={
                "schema_version": schema.version,
                "errors": [{"path": i.path, "code": i.code, "message": i.message} for i in issues[:100]],
            },
        )


def request_hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


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

# A queue cursor remembers where an annotator's last claim was, so the next scan starts there instead
# of walking every item they already did (which, at overlap >= 2, stay open until others catch up).
# It is only an optimisation: any change that can free a slot behind the cursors (a skip, an expired
# lease, escalation, a new order, priorities, pools, targets) bumps the project's epoch, and a cursor
# of an older epoch is ignored (a full scan, which also sets a new cursor).


def _cursor_key(project_id: int, user_id: int) -> str:
    return f"tessera:queue-cursor:{project_id}:{user_id}"


def _epoch_key(project_id: int) -> str:
    return f"tessera:queue-epoch:{project_id}"


def queue_cursors_reset(project_id: int) -> None:
    """Make every annotator's next claim in the project scan from the start of the queue, once the
    current transaction commits (before that, a scan could still see the old state and step past)."""
    transaction.on_commit(lambda: cache.set(_epoch_key(project_id), uuid.uuid4().hex, timeout=None))


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


def _take_slot(item_id: int) -> bool:
    """Take one slot on an item if it is open and has one free (used for re-claims too)."""
    return bool(
        Item.objects.filter(pk=item_id, state=Item.State.OPEN, leased__lt=F("target") - F("done")).update(
            leased=F("leased") + 1
        )
    )


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


def _lease(assignment: Assignment, project: Project) -> None:
    assignment.status = Assignment.Status.LEASED
    assignment.lease_expires_at = _lease_until(project)
    assignment.save(update_fields=["status", "lease_expires_at"])
    _announce(project.id, "item.leased", item_id=assignment.item_id, assignment_id=assignment.id)


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


def lease_release_expired(*, project: Project | None = None, limit: int = 1000) -> int:
    """Free the slots of leases past their TTL: the assignment becomes `expired` (its draft stays) and
    the item's lease counter drops. Set-based; items locked by someone else are left for the next
    sweep (SKIP LOCKED), so this never waits. Returns how many leases were released."""
    now = timezone.now()
    due = Assignment.objects.filter(status=Assignment.Status.LEASED, lease_expires_at__lt=now)
    if project is not None:
        due = due.filter(project=project)
    item_ids = list(due.order_by("item_id").values_list("item_id", flat=True).distinct()[:limit])
    if not item_ids:
        return 0
    released = 0
    with transaction.atomic():
        locked = Item.objects.select_for_update(of=("self",), skip_locked=True).filter(pk__in=item_ids)
        locked_ids = list(locked.order_by("id").values_list("id", flat=True))
        rows = list(
            Assignment.objects.select_for_update(of=("self",))
            .filter(item_id__in=locked_ids, status=Assignment.Status.LEASED, lease_expires_at__lt=now)
            .values_list("id", "item_id", "is_gold", "project_id")
        )
        if not rows:
            return 0
        Assignment.objects.filter(pk__in=[row[0] for row in rows]).update(status=Assignment.Status.EXPIRED)
        per_item: dict[int, int] = {}
        for _, item_id, is_gold, _ in rows:
            if not is_gold:
                per_item[item_id] = per_item.get(item_id, 0) + 1
        for count in sorted(set(per_item.values())):
            Item.objects.filter(pk__in=[i for i, n in per_item.items() if n == count]).update(
                leased=F("leased") - count
            )
        released = len(rows)
        for project_id in {row[3] for row in rows}:
            queue_cursors_reset(project_id)
            _announce(project_id, "lease.expired", items=sorted({r[1] for r in rows if r[3] == project_id}))
    return released


# --- working on a leased item ----------------------------------------------------------------------


def _ensure_workable(assignment: Assignment, project: Project) -> None:
    """A lease that expired but is still ours is renewed; one that was released is re-taken if a slot
    is free. Otherwise 409 lease_lost: someone else took the last slot."""
    if assignment.status in (Assignment.Status.LEASED, Assignment.Status.CORRECTION):
        return
    if assignment.status == Assignment.Status.EXPIRED:
        if assignment.is_gold or _take_slot(assignment.item_id):
            _lease(assignment, project)
            return
        raise DomainError(
            "lease_lost",
            "Your hold on this item expired and its last slot went to someone else. "
            "Your draft is kept; ask for your next item.",
            status_code=409,
        )
    if assignment.status == Assignment.Status.SUBMITTED:
        raise DomainError("already_submitted", "You have already submitted this item.", status_code=409)
    raise DomainError("assignment_skipped", "You skipped this item.", status_code=409)


@transaction.atomic
def lease_heartbeat(*, project: Project, annotator, assignment_id: int, active_ms: int = 0) -> Assignment:
    """Keep holding the item (the browser calls this every minute or so) and add focused time."""
    assignment = _own_assignment(project, annotator, assignment_id, lock_item=True)
    _ensure_workable(assignment, project)
    if assignment.status == Assignment.Status.LEASED:
        assignment.lease_expires_at = _lease_until(project)
    assignment.active_ms += _bounded_active(active_ms)
    assignment.save(update_fields=["lease_expires_at", "active_ms"])
    return assignment


def _bounded_active(active_ms: int) -> int:
    return max(0, min(int(active_ms), 3_600_000))  # a heartbeat reports at most an hour


@transaction.atomic
def draft_save(
    *, project: Project, annotator, assignment_id: int, draft: Any, active_ms: int = 0
) -> Assignment:
    """Autosave work in progress on the server (it survives a closed tab). Not validated against the
    schema (it is unfinished), only bounded in size. Also renews the lease."""
    if not isinstance(draft, dict):
        raise DomainError("invalid_draft", "A draft is an object: {control name: answer}.")
    size = len(json.dumps(draft, ensure_ascii=False).encode())
    if size > settings.ANNOTATION_MAX_BYTES:
        raise DomainError(
            "draft_too_large",
            f"A draft may be at most {settings.ANNOTATION_MAX_BYTES:,} bytes.",
            status_code=413,
        )
    assignment = _own_assignment(project, annotator, assignment_id, lock_item=True)
    _ensure_workable(assignment, project)
    assignment.draft = draft
    assignment.draft_saved_at = timezone.now()
    if assignment.status == Assignment.Status.LEASED:
        assignment.lease_expires_at = _lease_until(project)
    assignment.active_ms += _bounded_active(active_ms)
    assignment.save(update_fields=["draft", "draft_saved_at", "lease_expires_at", "active_ms"])
    return assignment


@transaction.atomic
def assignment_skip(*, project: Project, annotator, assignment_id: int, reason: str) -> Assignment:
    """Give the item back with a reason; the slot is freed and it is not served to them again."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise DomainError("invalid_reason", "Say why you skip, in 1 to 500 characters.")
    assignment = _own_assignment(project, annotator, assignment_id, lock_item=True)
    if assignment.status == Assignment.Status.CORRECTION:
        raise DomainError(
            "correction_required",
            "A reviewer sent this back to you: correct and resubmit it.",
            status_code=409,
        )
    if assignment.status not in (Assignment.Status.LEASED, Assignment.Status.EXPIRED):
        _ensure_workable(assignment, project)  # raises the reason
    if assignment.status == Assignment.Status.LEASED and not assignment.is_gold:
        Item.objects.filter(pk=assignment.item_id).update(leased=F("leased") - 1)
    assignment.status = Assignment.Status.SKIPPED
    assignment.skip_reason = reason
    assignment.save(update_fields=["status", "skip_reason"])
    queue_cursors_reset(project.id)  # the freed slot may be behind other annotators' cursors
    _audit(project, annotator, "item.skipped", assignment, {"item_id": assignment.item_id, "reason": reason})
    _announce(project.id, "item.skipped", item_id=assignment.item_id)
    return assignment


@transaction.atomic
def annotation_submit(
    *,
    project: Project,
    annotator,
    assignment_id: int,
    result: Any,
    idempotency_key: str | None = None,
    base_revision: int | None = None,
    prediction_id: int | None = None,
    active_ms: int = 0,
) -> Submitted:
    """Submit (or, for a correction, resubmit) the annotator's answer for a leased item.

    Idempotent by key: a retried request with the same key and body returns the first result and
    writes nothing; the same key with another body is 409. The answer is validated against the
    newest schema version and records it and the guideline version. When the item's last slot is
    submitted it moves to review (if sampled) or completed.
    """
    body_hash = request_hash({"assignment": assignment_id, "result": result, "base_revision": base_revision})
    assignment = _own_assignment(project, annotator, assignment_id, lock_item=True)
    if idempotency_key is not None:
        # Checked under the item's lock, so a retry racing the first request waits for it and replays.
        replay = _replay(annotator, idempotency_key, body_hash)
        if replay is not None:
            return replay
    item = assignment.item
    project_ensure_active(project)
    correction = assignment.status == Assignment.Status.CORRECTION
    if not correction:
        reclaimed = assignment.status == Assignment.Status.EXPIRED and not assignment.is_gold
        _ensure_workable(assignment, project)
        item.leased += 1 if reclaimed else 0  # the slot it took back (the row is locked: this is exact)
        if item.state != Item.State.OPEN and not assignment.is_gold:
            raise DomainError("item_closed", "This item no longer takes annotations.", status_code=409)
    guidelines = ensure_guidelines_acknowledged(project, annotator)
    schema = latest_schema(project)
    validate_result(schema, item, result)
    prediction = None
    if prediction_id is not None:
        prediction = Prediction.objects.filter(pk=prediction_id, item_id=item.id).first()
        if prediction is None:
            raise DomainError("unknown_prediction", "That prediction is not one of this item's.")
    now = timezone.now()
    active = assignment.active_ms + _bounded_active(active_ms)

    if correction:
        annotation = Annotation.objects.select_for_update(of=("self",)).get(assignment=assignment)
        if base_revision != annotation.revision:
            raise DomainError(
                "stale_revision",
                f"The annotation is at revision {annotation.revision}; you edited revision {base_revision}. "
                "Reload it and apply your change again.",
                status_code=409,
                extra={"revision": annotation.revision},
            )
        annotation.revision += 1
        _append_revision(
            annotation,
            AnnotationRevision.Kind.CORRECTION,
            annotator,
            result,
            schema,
            guidelines,
            idempotency_key,
            body_hash,
        )
        annotation.result = result
        annotation.schema_version = schema
        annotation.guideline_version = guidelines
        annotation.review = Annotation.Review.PENDING
        annotation.active_ms = active
        annotation.save()
        assignment.status = Assignment.Status.SUBMITTED
        assignment.draft = None
        assignment.save(update_fields=["status", "draft"])
        _item_after_reviews(project, item, annotator)
    else:
        if base_revision not in (None, 0):
            raise DomainError(
                "stale_revision",
                "This item has no annotation of yours yet; submit without a base revision.",
                status_code=409,
                extra={"revision": 0},
            )
        annotation = Annotation.objects.create(
            project=project,
            item=item,
            assignment=assignment,
            annotator=annotator,
            result=result,
            revision=1,
            schema_version=schema,
            guideline_version=guidelines,
            is_gold=assignment.is_gold,
            prediction=prediction,
            lead_ms=max(0, int((now - assignment.leased_at).total_seconds() * 1000)),
            active_ms=active,
        )
        _append_revision(
            annotation,
            AnnotationRevision.Kind.SUBMIT,
            annotator,
            result,
            schema,
            guidelines,
            idempotency_key,
            body_hash,
        )
        assignment.status = Assignment.Status.SUBMITTED
        assignment.submitted_at = now
        assignment.draft = None
        assignment.active_ms = active
        assignment.save(update_fields=["status", "submitted_at", "draft", "active_ms"])
        if not assignment.is_gold:
            # The item's row is locked by this transaction, so the values in hand are current.
            item.leased, item.done = item.leased - 1, item.done + 1
            Item.objects.filter(pk=item.id).update(leased=item.leased, done=item.done)
            if item.done >= item.target:
                _close_annotation_phase(project, item, annotator)

    _audit(
        project,
        annotator,
        "annotation.submitted",
        annotation,
        {
            "item_id": item.id,
            "revision": annotation.revision,
            "schema_version": schema.version,
            "correction": correction,
        },
    )
    _announce(
        project.id,
        "annotation.submitted",
        item_id=item.id,
        annotation_id=annotation.id,
        revision=annotation.revision,
        item_state=item.state,
    )
    quality_schedule(project_id=project.id)  # agreement, consensus, gold scores: recomputed after commit
    return Submitted(annotation)


def _replay(annotator, key: str, body_hash: str) -> Submitted | None:
    if not key or len(key) > 100:
        raise DomainError("invalid_idempotency_key", "An idempotency key is 1 to 100 characters.")
    revision = (
        AnnotationRevision.objects.filter(author=annotator, idempotency_key=key)
        .select_related("annotation")
        .first()
    )
    if revision is None:
        return None
    if revision.request_hash != body_hash:
        raise DomainError(
            "idempotency_key_reused",
            "This idempotency key was used for a different request; use a new key for new work.",
            status_code=409,
        )
    return Submitted(revision.annotation, replayed=True)


def _append_revision(
    annotation, kind, author, result, schema, guidelines, key, body_hash
) -> AnnotationRevision:
    return AnnotationRevision.objects.create(
        annotation=annotation,
        number=annotation.revision,
        kind=kind,
        author=author,
        result=result,
        schema_version=schema,
        guideline_version=guidelines,
        idempotency_key=key,
        request_hash=body_hash,
    )


def set_item_state(project: Project, item: Item, target: str, actor, *, why: str) -> None:
    """Move `item` (locked by the caller) along the state machine; audited and announced."""
    source = item.state
    if source == target:
        return
    states.ensure_transition(source, target)
    item.state = target
    item.state_changed_at = timezone.now()
    Item.objects.filter(pk=item.pk).update(state=target, state_changed_at=item.state_changed_at)
    _audit(project, actor, "item.state_changed", item, {"state": [source, target], "why": why})
    _announce(project.id, "item.state_changed", item_id=item.pk, state=target, previous=source, why=why)


def _close_annotation_phase(project: Project, item: Item, actor) -> None:
    """All slots submitted: sample for review or complete."""
    fraction = labeling_settings(project).review_fraction
    flagged = Annotation.objects.filter(item=item, is_gold=False, review=Annotation.Review.PENDING).exists()
    if flagged or states.sampled_for_review(item.pk, fraction):
        Annotation.objects.filter(item=item, is_gold=False, review=Annotation.Review.NOT_REQUIRED).update(
            review=Annotation.Review.PENDING
        )
        set_item_state(project, item, states.IN_REVIEW, actor, why="annotated; sampled for review")
    else:
        set_item_state(project, item, states.COMPLETED, actor, why="annotated")


def _item_after_reviews(project: Project, item: Item, actor) -> None:
    reviews = list(
        Annotation.objects.filter(item=item, is_gold=False)
        .exclude(review=Annotation.Review.NOT_REQUIRED)
        .values_list("review", flat=True)
    )
    target = states.state_after_reviews(reviews)
    set_item_state(
        project, item, target, actor, why="review decided" if target != states.IN_REVIEW else "corrected"
    )
