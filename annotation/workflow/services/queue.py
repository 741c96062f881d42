"""A manager's levers on the queue: item priority, pools and gold, escalation, the order of serving,
the per-item annotation target, model predictions, and re-review after a label migration.

Bulk changes are set-based SQL; each is audited once with what it touched.
"""

from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from core import task_names
from core.exceptions import DomainError
from core.services import outbox_enqueue
from projects.labeling import labeling_settings
from projects.models import LabelMigration, LabelSchemaVersion, Project, ProjectMembership
from projects.schema.migrate import labels_in_answer
from projects.services import project_ensure_active
from quality.scheduling import quality_schedule

from ...models import Annotation, Assignment, Item, Prediction
from .. import states
from .labeling import _announce, _audit, _lock_item, latest_schema, queue_cursors_reset, validate_result
from .submit import _close_annotation_phase, set_item_state

MAX_BULK_ITEMS = 100_000
POOL_MAX = 100


# --- targets and order ------------------------------------------------------------------------------


def item_targets_sync(*, project_id: int, escalation_cap: int | None = None) -> int:
    """Bring open items' targets in line with the project's overlap (after it changed). Items that
    already have enough annotations for a lowered overlap close now. Completed items stay completed
    (escalate them to get more annotators). Returns how many items changed target.

    With `escalation_cap` (escalation switched off: 0; `max_escalation` lowered: the new limit), open
    items keep at most that many extra annotators: their raised targets come back down, never below
    what is already submitted or leased (the `item_slots_within_target` constraint), and items whose
    submissions now meet the target complete (or go to review)."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return 0
    with transaction.atomic():
        if escalation_cap is not None:
            floor = Greatest(Value(0), F("done") + F("leased") - project.overlap)
            Item.objects.filter(project=project, state=Item.State.OPEN, extra__gt=escalation_cap).update(
                extra=Least(F("extra"), Greatest(Value(escalation_cap), floor))
            )
        changed = (
            Item.objects.filter(project=project, state=Item.State.OPEN)
            .exclude(target=Greatest(project.overlap + F("extra"), F("done") + F("leased")))
            .update(target=Greatest(project.overlap + F("extra"), F("done") + F("leased")))
        )
        queue_cursors_reset(project.id)
    full = Item.objects.filter(project=project, state=Item.State.OPEN, is_gold=False, done__gte=F("target"))
    for item_id in full.values_list("id", flat=True).iterator(chunk_size=2000):
        with transaction.atomic():
            item = _lock_item(item_id)
            if item.state == Item.State.OPEN and item.done >= item.target:
                _close_annotation_phase(project, item, None)
    return changed


def _random_sql() -> str:
    # PostgreSQL random() is in [0, 1); SQLite's is a signed 64-bit integer.
    return "random()" if connection.vendor == "postgresql" else "(abs(random()) / 9223372036854775808.0)"


def queue_order_apply(
    *,
    project_id: int,
    import_job_id: int | None = None,
    item_ids: list[int] | None = None,
    only_unranked: bool = False,
) -> int:
    """Write each item's `rank` for the project's ordering: 0 (sequential: by id), a random number, or
    the model's confidence (uncertainty: least confident first; items without predictions last).
    Limited to one import's items or given items when those are passed. Set-based."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return 0
    ordering = labeling_settings(project).ordering
    where = "project_id = %s"
    params: list[Any] = [project.id]
    if import_job_id is not None:
        where += " AND import_job_id = %s"
        params.append(import_job_id)
    if only_unranked:
        where += " AND rank = 0"
    if item_ids is not None:
        if not item_ids:
            return 0
        where += " AND id IN (" + ", ".join(["%s"] * len(item_ids)) + ")"
        params += item_ids
    if ordering == "random":
        value = _random_sql()
    elif ordering == "uncertainty":
        value = (
            "COALESCE((SELECT max(p.score) FROM annotation_prediction p "
            "WHERE p.item_id = annotation_item.id AND p.score IS NOT NULL), 2.0)"
        )
    else:
        value = "0"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE annotation_item SET rank = {value} WHERE {where}", params)  # noqa: S608
        queue_cursors_reset(project.id)
        return cursor.rowcount


# --- per-item levers ------------------------------------------------------------------------------------


@transaction.atomic
def items_workflow_update(
    *,
    project: Project,
    actor,
    item_ids: list[int],
    priority: int | None = None,
    pool: str | None = None,
    is_gold: bool | None = None,
) -> int:
    """Set priority, pool ("" for everyone, "@username" for one person, or a group name) or the gold
    flag on many items at once. Items of other projects are not touched (and not counted)."""
    project_ensure_active(project)
    if not item_ids or len(item_ids) > MAX_BULK_ITEMS:
        raise DomainError("invalid_items", f"Give 1 to {MAX_BULK_ITEMS:,} item ids.")
    fields: dict[str, Any] = {}
    if priority is not None:
        if not -1_000_000 <= priority <= 1_000_000:
            raise DomainError("invalid_priority", "A priority is between -1,000,000 and 1,000,000.")
        fields["priority"] = priority
    if pool is not None:
        pool = pool.strip()
        if len(pool) > POOL_MAX or any(ch.isspace() or not ch.isprintable() for ch in pool):
            raise DomainError("invalid_pool", "A pool is empty, @username or a group name (no spaces).")
        fields["pool"] = pool
    if is_gold is not None:
        fields["is_gold"] = is_gold
    if not fields:
        raise DomainError("nothing_to_change", "Give a priority, a pool or is_gold.")
    changed = Item.objects.filter(project=project, pk__in=item_ids).update(**fields)
    queue_cursors_reset(project.id)
    _audit(project, actor, "items.workflow_changed", project, {"items": changed, **fields})
    _announce(project.id, "items.workflow_changed", items=changed, fields=sorted(fields))
    return changed


def item_has_eligible_annotator(*, project: Project, item: Item) -> bool:
    """Whether someone could take one more slot on `item`: a member with the annotator role, an
    active account (not a deactivated one, nor an annotator imported from Label Studio, who cannot
    sign in), not paused, in the item's pool (everyone's, their @username or one of their groups),
    within their quota, who has not annotated, skipped or been leased it (an expired lease does not
    count)."""
    members = ProjectMembership.objects.filter(
        project=project, role=ProjectMembership.Role.ANNOTATOR, paused_at__isnull=True, user__is_active=True
    ).select_related("user")
    seen = set(
        Assignment.objects.filter(item=item)
        .exclude(status=Assignment.Status.EXPIRED)
        .values_list("annotator_id", flat=True)
    )
    default_quota = labeling_settings(project).quota
    for member in members:
        if member.user_id in seen:
            continue
        if (
            item.pool
            and item.pool != f"@{member.user.get_username()}"
            and item.pool not in (member.groups or [])
        ):
            continue
        quota = member.quota if member.quota is not None else default_quota
        if quota is not None:
            taken = (
                Assignment.objects.filter(project=project, annotator_id=member.user_id)
                .exclude(status__in=[Assignment.Status.SKIPPED, Assignment.Status.EXPIRED])
                .count()
            )
            if taken >= quota:
                continue
        return True
    return False


@transaction.atomic
def item_escalate(
    *,
    project: Project,
    actor,
    item_id: int,
    annotators: int = 1,
    reason: str = "",
    require_eligible: bool = False,
) -> Item:
    """Ask for more annotators on an item (low agreement, a dispute): its target grows and it opens
    again. Limited by the project's `max_escalation`. The quality app calls this too, with
    `require_eligible`: then an item nobody could take is refused with 409 `no_eligible_annotator`
    (the quality run sends it to review instead, so the project can still finish)."""
    project_ensure_active(project)
    if not 1 <= annotators <= 20:
        raise DomainError("invalid_annotators", "Escalate by 1 to 20 annotators.")
    if not Item.objects.filter(project=project, pk=item_id).exists():
        raise DomainError("not_found", "Not found.", status_code=404)
    item = _lock_item(item_id)
    limit = labeling_settings(project).max_escalation
    if item.extra + annotators > limit:
        raise DomainError(
            "escalation_limit",
            f"This item already has {item.extra} extra annotator(s); the project allows {limit}.",
            status_code=409,
        )
    if require_eligible and not item_has_eligible_annotator(project=project, item=item):
        raise DomainError(
            "no_eligible_annotator",
            "No annotator who has not seen this item could take it (role, pause, pool, quota).",
            status_code=409,
        )
    Item.objects.filter(pk=item.pk).update(extra=F("extra") + annotators, target=F("target") + annotators)
    queue_cursors_reset(project.id)
    item.refresh_from_db()
    _audit(project, actor, "item.escalated", item, {"annotators": annotators, "reason": reason[:500]})
    set_item_state(
        project, item, states.OPEN, actor, why=f"escalated: {reason[:200]}" if reason else "escalated"
    )
    return item


@transaction.atomic
def item_flag_for_review(*, project: Project, actor, item_id: int, reason: str) -> bool:
    """Send a finished item to the review queue with a reason (low agreement that no further annotator
    can resolve). Only items no reviewer has decided on: a completed item goes to `in_review` with its
    annotations pending; an item already in review stays there. Audited (`item.flagged_for_review`).
    Returns whether the item moved."""
    project_ensure_active(project)
    item = Item.objects.filter(project=project, pk=item_id).first()
    if item is None:
        raise DomainError("not_found", "Not found.", status_code=404)
    item = _lock_item(item_id)
    if item.state != Item.State.COMPLETED:
        return False
    annotations = Annotation.objects.filter(item=item, is_gold=False)
    if annotations.exclude(review=Annotation.Review.NOT_REQUIRED).exists():
        return False  # a reviewer has already looked at it
    annotations.update(review=Annotation.Review.PENDING, updated_at=timezone.now())
    _audit(project, actor, "item.flagged_for_review", item, {"reason": reason[:500]})
    set_item_state(project, item, states.IN_REVIEW, actor, why=f"flagged for review: {reason[:200]}")
    return True


# --- predictions ----------------------------------------------------------------------------------------


@transaction.atomic
def predictions_import(*, project: Project, actor, records: Any) -> int:
    """Store model pre-annotations: [{"item": id | "external_id": str, "model": name, "model_version":
    version, "score": 0..1 | null, "result": {control: answer}}]. Every record is validated against
    the newest schema; any error refuses the whole batch (listing up to 100 errors)."""
    project_ensure_active(project)
    if not isinstance(records, list) or not 1 <= len(records) <= settings.ANNOTATION_PREDICTIONS_MAX:
        raise DomainError(
            "invalid_predictions", f"Give a list of 1 to {settings.ANNOTATION_PREDICTIONS_MAX:,} predictions."
        )
    schema = latest_schema(project)
    ids = {r.get("item") for r in records if isinstance(r, dict) and isinstance(r.get("item"), int)}
    external = {
        r.get("external_id") for r in records if isinstance(r, dict) and isinstance(r.get("external_id"), str)
    }
    items = {
        item.pk: item
        for item in Item.objects.filter(project=project).filter(Q(pk__in=ids) | Q(external_id__in=external))
    }
    by_external = {item.external_id: item for item in items.values() if item.external_id}
    errors: list[dict] = []
    rows: list[Prediction] = []
    seen: set[tuple] = set()
    for index, record in enumerate(records):
        where = f"[{index}]"
        if not isinstance(record, dict):
            errors.append({"path": where, "code": "wrong_type", "message": "A prediction is an object."})
            continue
        unknown = set(record) - {"item", "external_id", "model", "model_version", "score", "result"}
        if unknown:
            errors.append(
                {"path": where, "code": "unknown_field", "message": f"Unknown: {', '.join(sorted(unknown))}."}
            )
            continue
        item = (
            items.get(record.get("item")) if "item" in record else by_external.get(record.get("external_id"))
        )
        if item is None:
            errors.append({"path": where, "code": "unknown_item", "message": "No such item in this project."})
            continue
        model, version, score = record.get("model"), record.get("model_version"), record.get("score")
        if not (
            isinstance(model, str)
            and 1 <= len(model) <= 200
            and isinstance(version, str)
            and 1 <= len(version) <= 200
        ):
            errors.append(
                {
                    "path": where,
                    "code": "invalid_model",
                    "message": "model and model_version are 1 to 200 characters.",
                }
            )
            continue
        if score is not None and (
            isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1
        ):
            errors.append(
                {"path": f"{where}.score", "code": "invalid_score", "message": "A score is 0 to 1, or null."}
            )
            continue
        key = (item.pk, model, version)
        if key in seen:
            errors.append(
                {"path": where, "code": "duplicate", "message": "This item has this model version twice."}
            )
            continue
        seen.add(key)
        try:
            validate_result(schema, item, record.get("result"))
        except DomainError as error:
            for issue in error.extra.get(
                "errors", [{"path": "", "code": error.code, "message": error.message}]
            ):
                errors.append({**issue, "path": f"{where}.result.{issue['path']}".rstrip(".")})
            continue
        rows.append(
            Prediction(
                project=project,
                item=item,
                model_name=model,
                model_version=version,
                score=score,
                result=record["result"],
                schema_version=schema,
            )
        )
    existing = Prediction.objects.filter(
        item_id__in=[row.item_id for row in rows],
        model_name__in={row.model_name for row in rows},
        model_version__in={row.model_version for row in rows},
    ).values_list("item_id", "model_name", "model_version")
    for key in set(existing) & seen:
        errors.append(
            {
                "path": "",
                "code": "already_imported",
                "message": f"Item {key[0]} already has {key[1]} {key[2]}.",
            }
        )
    if errors:
        raise DomainError(
            "invalid_predictions",
            f"{len(errors)} prediction(s) have errors; nothing was imported. First: {errors[0]['path']}: "
            f"{errors[0]['message']}",
            extra={"errors": errors[:100]},
        )
    Prediction.objects.bulk_create(rows, batch_size=2000)
    _audit(
        project,
        actor,
        "predictions.imported",
        project,
        {"count": len(rows), "models": sorted({f"{r.model_name} {r.model_version}" for r in rows})},
    )
    if labeling_settings(project).ordering == "uncertainty":
        item_ids = sorted({row.item_id for row in rows})
        transaction.on_commit(lambda: queue_order_apply(project_id=project.id, item_ids=item_ids))
    return len(rows)


def prediction_for(item: Item) -> Prediction | None:
    """The prediction offered to an annotator: the newest model version's, the most confident."""
    return (
        Prediction.objects.filter(item=item)
        .order_by("-created_at", F("score").desc(nulls_last=True), "-id")
        .first()
    )


# --- label migrations -----------------------------------------------------------------------------------


def label_migration_apply(*, migration_id: int) -> int:
    """Send items whose annotations used a split or deleted label back to review. Annotations are not
    changed (they keep their schema version and stay readable); their review becomes pending. Idempotent:
    a second run finds the same items already in review. Returns the number of items sent."""
    migration = LabelMigration.objects.select_related("from_version", "to_version", "project").get(
        pk=migration_id
    )
    from projects.schema.migrate import plan_label_migration

    plan = plan_label_migration(migration.from_version.definition, migration.operations)
    review = plan.re_review
    with transaction.atomic():  # consensus and agreement re-read old answers under the new names
        quality_schedule(project_id=migration.project_id, full=True)
    if not review:
        return 0
    project = migration.project
    older = LabelSchemaVersion.objects.filter(project=project, version__lt=migration.to_version.version)
    annotations = (
        Annotation.objects.filter(project=project, schema_version__in=older, is_gold=False)
        .values_list("id", "item_id", "result")
        .iterator(chunk_size=2000)
    )
    flagged_items: set[int] = set()
    flagged_annotations: list[int] = []
    for annotation_id, item_id, result in annotations:
        if not isinstance(result, dict):
            continue
        if any(labels_in_answer(result.get(control)) & labels for control, labels in review.items()):
            flagged_items.add(item_id)
            flagged_annotations.append(annotation_id)
    moved = 0
    for start in range(0, len(flagged_annotations), 2000):
        chunk = flagged_annotations[start : start + 2000]
        with transaction.atomic():
            Annotation.objects.filter(pk__in=chunk).exclude(review=Annotation.Review.REJECTED).update(
                review=Annotation.Review.PENDING, updated_at=timezone.now()
            )
    ordered = sorted(flagged_items)
    for start in range(0, len(ordered), 2000):
        chunk = ordered[start : start + 2000]
        with transaction.atomic():
            moved += Item.objects.filter(pk__in=chunk, state=Item.State.COMPLETED).update(
                state=Item.State.IN_REVIEW, state_changed_at=timezone.now()
            )
    with transaction.atomic():
        LabelMigration.objects.filter(pk=migration.pk).update(re_review=len(flagged_items))
        _audit(
            project,
            None,
            "items.sent_to_review",
            migration,
            {
                "why": "label migration",
                "to_version": migration.to_version.version,
                "items": len(flagged_items),
                "reopened_completed": moved,
                "item_ids": ordered[:1000],
                "labels": {name: sorted(labels) for name, labels in review.items()},
            },
        )
        _announce(project.id, "items.sent_to_review", items=len(flagged_items), why="label migration")
    return len(flagged_items)


QUEUE_ORDER_TASK = task_names.QUEUE_ORDER_APPLY


def queue_order_schedule(*, project, import_job_id: int | None = None) -> None:
    """New items get their place in a random or uncertainty-ordered queue (sequential needs nothing)."""
    from projects.labeling import labeling_settings

    if labeling_settings(project).ordering != "sequential":
        kwargs = {
            "project_id": project.id,
            "import_job_id": import_job_id,
            "only_unranked": import_job_id is None,
        }
        outbox_enqueue(task_name=QUEUE_ORDER_TASK, kwargs=kwargs)
