"""Reads for the labeling workflow: progress, an annotator's own work, annotations visible to a user."""

from django.db.models import Count, F, Prefetch, Q, QuerySet

from projects.access import ProjectAction, can_do_in_project
from projects.labeling import labeling_settings
from projects.models import Project

from ...models import Annotation, AnnotationRevision, Assignment, Item, Prediction, ReviewDecision
from .. import states


def project_progress(*, project: Project) -> dict:
    """Items by state (excluded and gold items apart, counted in `apart`: gold items are checks served
    to annotators, not work, so they never complete), annotations, and what is leased right now."""
    items = dict.fromkeys(states.STATES, 0)
    rows = (
        Item.objects.filter(project=project, excluded=False, is_gold=False)
        .values("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    for state, n in rows:
        items[state] = n
    annotations = Annotation.objects.filter(project=project, is_gold=False).aggregate(
        total=Count("id"),
        pending_review=Count("id", filter=Q(review=Annotation.Review.PENDING)),
        rejected=Count("id", filter=Q(review=Annotation.Review.REJECTED)),
    )
    apart = Item.objects.filter(project=project).aggregate(
        gold=Count("id", filter=Q(is_gold=True, excluded=False)),
        excluded=Count("id", filter=Q(excluded=True)),
    )
    leased = Assignment.objects.filter(project=project, status=Assignment.Status.LEASED).count()
    total = sum(items.values())
    return {
        "items": items,
        "total_items": total,
        "completed_share": round(items[states.COMPLETED] / total, 4) if total else 0.0,
        "apart": apart,
        "annotations": annotations,
        "leased_now": leased,
    }


def annotator_progress(*, project: Project, annotator) -> dict:
    """What one annotator has done in the project (shown in their labeling view)."""
    counts = dict(
        Assignment.objects.filter(project=project, annotator=annotator)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in Assignment.Status.values}


def assignment_list_for_annotator(
    *, project: Project, annotator, status: str | None = None
) -> QuerySet[Assignment]:
    """An annotator's own assignments, newest first, with everything the assignment list shows of each
    loaded up front (a fixed number of queries for any page): the item, the annotation with its
    author and versions, its rejections (newest first) and the item's predictions in the order
    annotation.workflow.services.queue.prediction_for offers them."""
    assignments = Assignment.objects.filter(project=project, annotator=annotator)
    if status:
        assignments = assignments.filter(status=status)
    return (
        assignments.select_related(
            "item", "annotation__annotator", "annotation__schema_version", "annotation__guideline_version"
        )
        .prefetch_related(
            Prefetch(
                "item__model_predictions",
                queryset=Prediction.objects.order_by("-created_at", F("score").desc(nulls_last=True), "-id"),
                to_attr="offered_predictions",
            ),
            Prefetch(
                "annotation__decisions",
                queryset=ReviewDecision.objects.filter(decision=ReviewDecision.Decision.REJECT)
                .select_related("reviewer")
                .order_by("-id"),
                to_attr="rejections",
            ),
        )
        .order_by("-id")
    )


def annotations_visible(*, project: Project, user) -> QuerySet[Annotation]:
    """Everyone's annotations for managers and reviewers; for annotators only their own, unless the
    project turned blind labeling off (`show_others`)."""
    annotations = Annotation.objects.filter(project=project).select_related(
        "annotator", "schema_version", "guideline_version"
    )
    if can_do_in_project(user=user, project=project, action=ProjectAction.VIEW_ANNOTATIONS):
        return annotations
    if labeling_settings(project).show_others:
        return annotations
    return annotations.filter(annotator=user)


def annotation_history(*, annotation: Annotation) -> dict:
    """Every revision and review decision of an annotation, oldest first."""
    return {
        "revisions": list(
            AnnotationRevision.objects.filter(annotation=annotation)
            .select_related("author")
            .order_by("number")
        ),
        "decisions": list(
            ReviewDecision.objects.filter(annotation=annotation).select_related("reviewer").order_by("id")
        ),
    }
