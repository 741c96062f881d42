"""Bulk actions of the data manager: priority, pool, split, exclude, re-queue, escalate, consent,
licence (annotation.items.consent), and the
actions higher apps register (annotation.items.extensions: quality's "mark gold from consensus").
An explicit selection of up to INLINE_MAX items runs in the request; "all items matching the filter"
is recorded as queued and a worker applies it set-based, EXPORT-style in keyset chunks by id,
writing its progress after each chunk (ItemBulkAction.matched/changed/skipped).
Every run is audited once (`items.bulk_<action>`) with what it touched.
"""

import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from core import task_names
from core.audit import audit_record
from core.exceptions import DomainError, Forbidden
from core.services import outbox_enqueue
from projects.access import ProjectAction, can_do_in_project
from projects.models import Project
from projects.services import project_ensure_active

from ..models import Item
from .extensions import BULK_ACTIONS
from .manager_models import ItemBulkAction
from .manager_selectors import item_filter

INLINE_MAX = 1000  # explicit selections up to this many items run in the request
CHUNK = 5000  # items per set-based UPDATE in the worker
RUN_TASK = task_names.ITEMS_BULK_ACTION_RUN
SPLIT_NAME = re.compile(r"[A-Za-z0-9_-]{1,50}")
POOL_MAX = 100
PRIORITY_LIMIT = 1_000_000
ALLOWED_FILTERS = {
    "q", "split", "source", "consent", "licence", "state", "pool", "import_job", "synthetic", "is_gold",
    "external_id",
}  # fmt: skip


def _value(action: str, value: Any) -> Any:
    """The action's argument, checked: 400 with a code, nothing changed."""
    if action == ItemBulkAction.Action.PRIORITY:
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,7}", value.strip()):
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > PRIORITY_LIMIT:
            raise DomainError(
                "invalid_priority", "A priority is a whole number between -1,000,000 and 1,000,000."
            )
        return value
    if action == ItemBulkAction.Action.POOL:
        pool = value.strip() if isinstance(value, str) else None
        if pool is None or len(pool) > POOL_MAX or any(ch.isspace() or not ch.isprintable() for ch in pool):
            raise DomainError(
                "invalid_pool", "A pool is empty (everyone), @username or a group name (no spaces)."
            )
        return pool
    if action == ItemBulkAction.Action.SPLIT:
        split = value.strip() if isinstance(value, str) else None
        if split is None or (split and not SPLIT_NAME.fullmatch(split)):
            raise DomainError(
                "invalid_split_name", "A split name is 1 to 50 letters, digits, '_' or '-' (empty: no split)."
            )
        return split
    if action in (ItemBulkAction.Action.CONSENT, ItemBulkAction.Action.LICENCE):
        from .consent import governance_value

        return governance_value(action, value)
    return None


def _filters(project: Project, filters: Any) -> dict[str, str]:
    if not isinstance(filters, dict) or not all(isinstance(v, str) for v in filters.values()):
        raise DomainError("invalid_filter", "filters is an object of item filters, each a string.")
    unknown = [k for k in filters if k not in ALLOWED_FILTERS and not k.startswith("meta.")]
    if unknown:
        raise DomainError("invalid_filter", f"Unknown filter {unknown[0]!r}.")
    item_filter(project=project, params=filters)  # raises invalid_filter on a bad value
    return dict(filters)


def bulk_action_request(
    *,
    project: Project,
    actor,
    action: str,
    value: Any = None,
    item_ids: list[int] | None = None,
    filters: dict[str, str] | None = None,
) -> ItemBulkAction:
    """Apply `action` to `item_ids` (inline, up to INLINE_MAX) or to every item matching `filters`
    (queued for a worker). Managers only (403 otherwise); archived projects refuse (409)."""
    needed = {
        ItemBulkAction.Action.SPLIT: ProjectAction.IMPORT_DATA,
        ItemBulkAction.Action.CONSENT: ProjectAction.MANAGE_CONSENT,
        ItemBulkAction.Action.LICENCE: ProjectAction.MANAGE_CONSENT,
    }.get(action, ProjectAction.MANAGE_WORKFLOW)
    if not can_do_in_project(user=actor, project=project, action=needed):
        raise Forbidden()
    project_ensure_active(project)
    if action not in ItemBulkAction.Action.values:
        raise DomainError("invalid_action", f"action is one of {', '.join(ItemBulkAction.Action.values)}.")
    value = _value(action, value)
    if (item_ids is None) == (filters is None):
        raise DomainError(
            "invalid_selection", "Give either item_ids (a selection) or filters (all matching)."
        )
    if item_ids is not None:
        if (
            not isinstance(item_ids, list)
            or not 1 <= len(item_ids) <= INLINE_MAX
            or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in item_ids)
        ):
            raise DomainError(
                "invalid_selection",
                f"Select 1 to {INLINE_MAX:,} items, or apply the action to all items matching the filter.",
            )
        bulk = ItemBulkAction.objects.create(
            project=project, created_by=actor, action=action, value=value,
            item_ids=sorted(set(item_ids)), status=ItemBulkAction.Status.RUNNING,
        )  # fmt: skip
        return _run(bulk, project)
    clean = _filters(project, filters)
    with transaction.atomic():
        bulk = ItemBulkAction.objects.create(
            project=project, created_by=actor, action=action, value=value, filters=clean,
            status=ItemBulkAction.Status.QUEUED,
        )  # fmt: skip
        audit_record(
            actor=actor, organisation_id=project.organisation_id, project_id=project.id,
            action="items.bulk_requested", target=bulk,
            changes={"action": action, "value": value, "filters": clean},
        )  # fmt: skip
        outbox_enqueue(task_name=RUN_TASK, kwargs={"bulk_id": bulk.id})
    return bulk


def bulk_action_run(*, bulk_id: int) -> ItemBulkAction | None:
    """The worker side of bulk_action_request. A finished action is not run again; every action but
    escalation is idempotent, so a run killed midway that is delivered again finishes the job."""
    with transaction.atomic():
        bulk = ItemBulkAction.objects.select_for_update().filter(pk=bulk_id).first()
        if bulk is None or bulk.is_finished:
            return bulk
        bulk.status = ItemBulkAction.Status.RUNNING
        bulk.save(update_fields=["status"])
    return _run(bulk, bulk.project)


def _run(bulk: ItemBulkAction, project: Project) -> ItemBulkAction:
    try:
        project_ensure_active(project)
        if bulk.filters or not bulk.item_ids:
            items = item_filter(project=project, params=bulk.filters)
        else:
            items = Item.objects.filter(project=project, pk__in=bulk.item_ids)
        ids = items.order_by("id").values_list("id", flat=True)
        after = 0
        while True:
            chunk = list(ids.filter(id__gt=after)[:CHUNK])
            if not chunk:
                break
            with transaction.atomic():
                changed, skipped = _apply(bulk, project, chunk)
                ItemBulkAction.objects.filter(pk=bulk.pk).update(
                    matched=bulk.matched + len(chunk),
                    changed=bulk.changed + changed,
                    skipped=bulk.skipped + skipped,
                )
            bulk.matched += len(chunk)
            bulk.changed += changed
            bulk.skipped += skipped
            after = chunk[-1]
    except DomainError as error:
        bulk.status, bulk.detail = ItemBulkAction.Status.FAILED, error.message[:500]
    else:
        bulk.status = ItemBulkAction.Status.SUCCEEDED
    bulk.finished_at = timezone.now()
    with transaction.atomic():
        bulk.save(update_fields=["status", "detail", "finished_at", "matched", "changed", "skipped"])
        audit_record(
            actor=bulk.created_by, organisation_id=project.organisation_id, project_id=project.id,
            action=f"items.bulk_{bulk.action}", target=bulk,
            changes={
                "value": bulk.value, "filters": bulk.filters, "items": len(bulk.item_ids) or None,
                "matched": bulk.matched, "changed": bulk.changed, "skipped": bulk.skipped,
                "status": bulk.status, "detail": bulk.detail,
            },
        )  # fmt: skip
        if bulk.changed:
            from .. import events
            from ..workflow.services.labeling import _announce, queue_cursors_reset

            queue_cursors_reset(project.id)
            _announce(project.id, events.ITEMS_WORKFLOW_CHANGED, items=bulk.changed, fields=[bulk.action])
            registered = BULK_ACTIONS.get(bulk.action)
            if registered is not None and registered.after is not None:
                registered.after(project)
    return bulk


def _apply(bulk: ItemBulkAction, project: Project, ids: list[int]) -> tuple[int, int]:
    """Apply the action to one chunk of item ids; (changed, skipped)."""
    rows = Item.objects.filter(project=project, pk__in=ids)
    action = bulk.action
    if action == ItemBulkAction.Action.PRIORITY:
        return rows.exclude(priority=bulk.value).update(priority=bulk.value), 0
    if action == ItemBulkAction.Action.POOL:
        return rows.exclude(pool=bulk.value).update(pool=bulk.value), 0
    if action == ItemBulkAction.Action.SPLIT:
        return rows.exclude(split=bulk.value).update(split=bulk.value), 0
    if action == ItemBulkAction.Action.EXCLUDE:
        return rows.filter(excluded=False).update(excluded=True), 0
    if action in (ItemBulkAction.Action.CONSENT, ItemBulkAction.Action.LICENCE):
        from .consent import items_governance_apply  # one audit row per changed item

        changed = items_governance_apply(
            project=project, actor=bulk.created_by, item_ids=ids, field_name=action, value=bulk.value
        )
        return changed, 0
    if action == ItemBulkAction.Action.REQUEUE:
        return rows.filter(excluded=True).update(excluded=False), 0
    if action in BULK_ACTIONS:  # an action a higher app registered ("gold": quality/data_manager.py)
        return BULK_ACTIONS[action].apply(bulk, project, ids)
    if action == ItemBulkAction.Action.ESCALATE:
        from ..workflow.services.queue import item_escalate

        changed = skipped = 0
        for item_id in ids:
            try:
                with transaction.atomic():
                    item_escalate(
                        project=project, actor=bulk.created_by, item_id=item_id, reason="bulk action"
                    )
                changed += 1
            except DomainError:
                skipped += 1  # the escalation limit, an archived project
        return changed, skipped
    raise DomainError("invalid_action", f"Unknown action {action!r}.")
