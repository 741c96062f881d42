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
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from annotation import events
from core.audit import audit_record
from core.exceptions import DomainError
from core.realtime import broadcast_on_commit, project_group
from projects.labeling import labeling_settings
from projects.models import (
    GuidelineAcknowledgement,
    GuidelineVersion,
    LabelSchemaVersion,
    Project,
    ProjectMembership,
)
from projects.schema import validate_annotation
from projects.selectors import guideline_latest, schema_latest

from ...models import Annotation, Assignment, Item


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


def _no_schema() -> DomainError:
    return DomainError(
        "no_schema", "This project has no label schema yet; a manager defines one first.", status_code=409
    )


def latest_schema(project: Project) -> LabelSchemaVersion:
    """projects.selectors.schema_latest, or 409 no_schema."""
    schema = schema_latest(project=project)
    if schema is None:
        raise _no_schema()
    return schema


def _guidelines_not_acknowledged(version: int) -> DomainError:
    return DomainError(
        "guidelines_not_acknowledged",
        f"The guidelines changed (version {version}); read and acknowledge them first.",
        status_code=409,
        extra={"guideline_version": version},
    )


# Schema and guideline versions are append-only (a change is a new version): the lean paths read only
# the newest version's id in their combined statement and take the row from this per-process map.
# Ids are never reused, so an entry can never be stale; the map is bounded.
_VERSIONS: dict[tuple[type, int], Any] = {}
_VERSIONS_MAX = 512


def version_by_id(model: type[LabelSchemaVersion] | type[GuidelineVersion], pk: int):
    """A LabelSchemaVersion or GuidelineVersion by id, read once per process."""
    key = (model, pk)
    found = _VERSIONS.get(key)
    if found is None:
        found = model.objects.get(pk=pk)
        if len(_VERSIONS) >= _VERSIONS_MAX:
            _VERSIONS.clear()
        _VERSIONS[key] = found
    return found


# The newest guideline version and whether the user acknowledged it, and the newest schema version's
# id: subqueries of the lean paths' combined statements (PostgreSQL). Parameters: project, user.
LATEST_VERSIONS_SQL = """
    (SELECT gv.id FROM projects_guidelineversion gv WHERE gv.project_id = %(project)s
     ORDER BY gv.version DESC LIMIT 1) AS guideline_id,
    (SELECT s.id FROM projects_labelschemaversion s WHERE s.project_id = %(project)s
     ORDER BY s.version DESC LIMIT 1) AS schema_id,
    EXISTS (SELECT 1 FROM projects_guidelineacknowledgement k
            WHERE k.user_id = %(user)s AND k.guideline_version_id = (
                SELECT gv.id FROM projects_guidelineversion gv WHERE gv.project_id = %(project)s
                ORDER BY gv.version DESC LIMIT 1)) AS acknowledged
"""


def checked_versions(
    guideline_id: int | None, schema_id: int | None, acknowledged: bool
) -> tuple[GuidelineVersion | None, LabelSchemaVersion]:
    """The versions LATEST_VERSIONS_SQL found, with the same refusals as ensure_guidelines_acknowledged
    and latest_schema (409 guidelines_not_acknowledged first, then 409 no_schema)."""
    guidelines = version_by_id(GuidelineVersion, guideline_id) if guideline_id is not None else None
    if guidelines is not None and not acknowledged:
        raise _guidelines_not_acknowledged(guidelines.version)
    if schema_id is None:
        raise _no_schema()
    return guidelines, version_by_id(LabelSchemaVersion, schema_id)


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
        raise _guidelines_not_acknowledged(guidelines.version)
    return guidelines


class RowReader:
    """Model instances from the columns of raw statements (`columns` lists them, in order, for SQL),
    converted as the ORM converts them (a raw cursor returns jsonb as text under Django's setup)."""

    def __init__(self, model, alias: str = "") -> None:
        fields = model._meta.concrete_fields
        self.model = model
        self.attnames = [field.attname for field in fields]
        self.converters = [getattr(field, "from_db_value", None) for field in fields]
        self.columns = ", ".join(f"{alias}{field.column}" for field in fields)
        self.width = len(fields)

    def instance(self, values):
        converted = [
            convert(value, None, connection) if convert is not None and value is not None else value
            for convert, value in zip(self.converters, values, strict=True)
        ]
        return self.model.from_db(connection.alias, self.attnames, converted)


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


def _take_slot(item_id: int) -> bool:
    """Take one slot on an item if it is open and has one free (used for re-claims too)."""
    return bool(
        Item.objects.filter(pk=item_id, state=Item.State.OPEN, leased__lt=F("target") - F("done")).update(
            leased=F("leased") + 1
        )
    )


def _lease(assignment: Assignment, project: Project) -> None:
    assignment.status = Assignment.Status.LEASED
    assignment.lease_expires_at = _lease_until(project)
    assignment.save(update_fields=["status", "lease_expires_at"])
    _announce(project.id, events.ITEM_LEASED, item_id=assignment.item_id, assignment_id=assignment.id)


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
            _announce(
                project_id, events.LEASE_EXPIRED, items=sorted({r[1] for r in rows if r[3] == project_id})
            )
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
    _announce(project.id, events.ITEM_SKIPPED, item_id=assignment.item_id)
    return assignment
