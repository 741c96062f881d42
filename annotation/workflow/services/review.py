"""The reviewer's side: a review queue with leases, and accept / reject / fix decisions.

A reviewer reviews an item (all its annotations together, so overlapping work is compared side by
side). Each decision is on one annotation revision; a stale revision is 409. The item's next state
follows from its annotations' review values (annotation.workflow.states.state_after_reviews).
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from annotation import events
from core.exceptions import DomainError
from projects.labeling import labeling_settings
from projects.models import Project
from projects.services import project_ensure_active
from quality.scheduling import quality_schedule

from ...models import Annotation, AnnotationRevision, Assignment, Item, ReviewDecision, ReviewLease
from ...pii.services import pii_result_to_original
from .. import states
from .labeling import _announce, _audit, _lock_item, latest_schema, validate_result
from .submit import _item_after_reviews

_PG_PICK = """
SELECT i.id FROM annotation_item i
WHERE i.project_id = %(project)s AND i.state = 'in_review'
  AND NOT EXISTS (
      SELECT 1 FROM annotation_reviewlease r
      WHERE r.item_id = i.id AND r.reviewer_id <> %(user)s AND r.expires_at > %(now)s
  )
  AND NOT EXISTS (SELECT 1 FROM annotation_annotation a WHERE a.item_id = i.id AND a.annotator_id = %(user)s)
ORDER BY i.priority DESC, i.id
LIMIT 1
"""


@dataclass
class ReviewTask:
    item: Item | None
    annotations: list[Annotation]
    reason: str = ""  # queue_empty


def _review_lease_until(project: Project):
    return timezone.now() + timedelta(seconds=labeling_settings(project).lease_seconds)


def _pending(item: Item) -> list[Annotation]:
    return list(
        Annotation.objects.filter(item=item, is_gold=False)
        .exclude(review=Annotation.Review.NOT_REQUIRED)
        .select_related("annotator")
        .order_by("id")
    )


@transaction.atomic
def review_next(*, project: Project, reviewer) -> ReviewTask:
    """The next item for `reviewer` to review, held by a review lease. Their own held item first; never
    an item they annotated themselves."""
    project_ensure_active(project)
    now = timezone.now()
    held = (
        ReviewLease.objects.filter(reviewer=reviewer, item__project=project, item__state=Item.State.IN_REVIEW)
        .select_related("item")
        .first()
    )
    if held is not None:
        held.expires_at = _review_lease_until(project)
        held.save(update_fields=["expires_at"])
        return ReviewTask(held.item, _pending(held.item))
    params = {"project": project.id, "user": reviewer.pk, "now": now}
    sql = _PG_PICK + (" FOR UPDATE OF i SKIP LOCKED" if connection.vendor == "postgresql" else "")
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            sql = sql.replace("%(project)s", "%s").replace("%(user)s", "%s").replace("%(now)s", "%s")
            cursor.execute(sql, [project.id, reviewer.pk, now, reviewer.pk])
        else:
            cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return ReviewTask(None, [], reason="queue_empty")
    item = Item.objects.get(pk=row[0])
    ReviewLease.objects.update_or_create(
        item=item, defaults={"reviewer": reviewer, "expires_at": _review_lease_until(project)}
    )
    _announce(project.id, events.REVIEW_LEASED, item_id=item.id)
    return ReviewTask(item, _pending(item))


def review_task_get(*, project: Project, item_id: int) -> ReviewTask:
    """An item with its annotations, for a reviewer (the review page and API)."""
    item = Item.objects.filter(project=project, pk=item_id).first()
    if item is None:
        raise DomainError("not_found", "Not found.", status_code=404)
    return ReviewTask(item, _pending(item))


@transaction.atomic
def review_decide(
    *,
    project: Project,
    reviewer,
    annotation_id: int,
    decision: str,
    revision: int,
    reason: str = "",
    comment: str = "",
    result: Any = None,
) -> ReviewDecision:
    """Accept, reject (with a reason code and a comment for the annotator) or fix (a reviewer revision)
    one annotation of an item in review."""
    project_ensure_active(project)
    found = (
        Annotation.objects.filter(pk=annotation_id, project=project).values_list("item_id", flat=True).first()
    )
    if found is None:
        raise DomainError("not_found", "Not found.", status_code=404)
    item = _lock_item(found)
    annotation = Annotation.objects.select_for_update(of=("self",)).get(pk=annotation_id)
    if annotation.annotator_id == reviewer.pk:
        raise DomainError("own_annotation", "You cannot review your own annotation.", status_code=403)
    if item.state != Item.State.IN_REVIEW:
        raise DomainError(
            "not_in_review", f"This item is {item.get_state_display().lower()}.", status_code=409
        )
    lease = ReviewLease.objects.select_for_update().filter(item=item).first()
    if lease is not None and lease.reviewer_id != reviewer.pk and lease.expires_at > timezone.now():
        raise DomainError(
            "review_held", "Another reviewer is reviewing this item right now.", status_code=409
        )
    if annotation.review != Annotation.Review.PENDING:
        raise DomainError(
            "already_decided", f"This annotation is already {annotation.review}.", status_code=409
        )
    if revision != annotation.revision:
        raise DomainError(
            "stale_revision",
            f"The annotation is at revision {annotation.revision}; you reviewed revision {revision}.",
            status_code=409,
            extra={"revision": annotation.revision},
        )
    comment = (comment or "").strip()
    if len(comment) > 5000:
        raise DomainError("comment_too_long", "A comment may be at most 5,000 characters.")
    if decision not in ReviewDecision.Decision.values:
        raise DomainError("invalid_decision", "A decision is accept, reject or fix.")
    if decision != ReviewDecision.Decision.REJECT and reason:
        raise DomainError("unexpected_reason", "Only a rejection takes a reason code.")
    knobs = labeling_settings(project)
    if decision == ReviewDecision.Decision.REJECT:
        if reason not in knobs.reject_reasons:
            raise DomainError(
                "unknown_reason",
                f"Give a reason code: one of {', '.join(knobs.reject_reasons)}.",
                extra={"reasons": list(knobs.reject_reasons)},
            )
        annotation.review = Annotation.Review.REJECTED
        Assignment.objects.filter(pk=annotation.assignment_id).update(status=Assignment.Status.CORRECTION)
    elif decision == ReviewDecision.Decision.FIX:
        schema = latest_schema(project)
        result = pii_result_to_original(
            project=project, user=reviewer, item=item, definition=schema.definition, result=result
        )
        validate_result(schema, item, result)
        annotation.revision += 1
        AnnotationRevision.objects.create(
            annotation=annotation,
            number=annotation.revision,
            kind=AnnotationRevision.Kind.REVIEW_FIX,
            author=reviewer,
            result=result,
            schema_version=schema,
            guideline_version=annotation.guideline_version,
        )
        annotation.result = result
        annotation.schema_version = schema
        annotation.review = Annotation.Review.FIXED
    else:
        annotation.review = Annotation.Review.ACCEPTED
    annotation.save()
    made = ReviewDecision.objects.create(
        annotation=annotation,
        item=item,
        reviewer=reviewer,
        decision=decision,
        revision=revision,
        reason=reason,
        comment=comment,
    )
    _audit(
        project,
        reviewer,
        "review.decided",
        made,
        {"annotation_id": annotation.id, "decision": decision, "reason": reason, "revision": revision},
    )
    _announce(
        project.id,
        events.REVIEW_DECIDED,
        item_id=item.id,
        annotation_id=annotation.id,
        decision=decision,
        annotator_id=annotation.annotator_id,
    )
    _item_after_reviews(project, item, reviewer)
    if item.state != states.IN_REVIEW:
        ReviewLease.objects.filter(item=item).delete()
    if decision == ReviewDecision.Decision.FIX:
        quality_schedule(project_id=project.id)  # the fixed answer changes agreement and consensus
    return made


def last_rejection(annotation: Annotation) -> ReviewDecision | None:
    """The reviewer's rejection an annotator sees when a correction comes back to them."""
    return (
        ReviewDecision.objects.filter(annotation=annotation, decision=ReviewDecision.Decision.REJECT)
        .order_by("-id")
        .first()
    )
