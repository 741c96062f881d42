"""Reads for the labeling workflow: progress, an annotator's own work, annotations visible to a user."""

from django.db.models import Count, Q, QuerySet

from projects.access import ProjectAction, can_do_in_project
from projects.labeling import labeling_settings
from projects.models import Project

from ...models import Annotation, AnnotationRevision, Assignment, Item, ReviewDecision
from .. import states


def project_progress(*, project: Project) -> dict:
    """Items by state (excluded and gold items apart), annotations, and what is leased right now."""
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
    leased = Assignment.objects.filter(project=project, status=Assignment.Status.LEASED).count()
    total = sum(items.values())
    return {
        "items": items,
        "total_items": total,
        "completed_share": round(items[states.COMPLETED] / total, 4) if total else 0.0,
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
