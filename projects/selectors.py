"""Reads on organisations and projects, always filtered by what the user may see."""

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from core.models import AuditEvent

from . import access
from .models import (
    GuidelineVersion,
    LabelSchemaVersion,
    Organisation,
    OrganisationMembership,
    Project,
    ProjectMembership,
)


def organisation_list_visible_to(*, user) -> QuerySet[Organisation]:
    return Organisation.objects.filter(access.organisations_visible_filter(user=user))


def project_list_visible_to(
    *, user, include_archived: bool = True, with_settings_facts: bool = False
) -> QuerySet[Project]:
    """`with_settings_facts`: each project carries what project_settings_warnings counts, so a list
    of projects with their warnings costs the same queries for one project or for many."""
    projects = (
        Project.objects.filter(access.projects_visible_filter(user=user))
        .select_related("organisation", "stats")
        .order_by("name", "id")
    )
    if not include_archived:
        projects = projects.filter(archived_at__isnull=True)
    if with_settings_facts:
        projects = projects.annotate(
            _active_annotators=_count_per_project(_active_annotators(OuterRef("pk"))),
            _gold_items=_count_per_project(_gold_items(OuterRef("pk"))),
        )
    return projects


def _count_per_project(rows: QuerySet):
    return Coalesce(Subquery(rows.order_by().values("project").annotate(n=Count("pk")).values("n")[:1]), 0)


def _active_annotators(project) -> QuerySet[ProjectMembership]:
    """Who can sign in and label (not paused, not imported ones)."""
    return ProjectMembership.objects.filter(
        project=project,
        role=ProjectMembership.Role.ANNOTATOR,
        paused_at__isnull=True,
        user__is_active=True,
    )


def _gold_items(project) -> QuerySet:
    """Gold items (read by model name: `projects` imports no other domain app)."""
    from django.apps import apps

    return apps.get_model("annotation", "Item").objects.filter(project=project, is_gold=True, excluded=False)


def project_member_list(*, project: Project) -> QuerySet[ProjectMembership]:
    return ProjectMembership.objects.filter(project=project).select_related("user").order_by("user__username")


def organisation_member_list(*, organisation: Organisation) -> QuerySet[OrganisationMembership]:
    return (
        OrganisationMembership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("user__username")
    )


def schema_version_list(*, project: Project) -> QuerySet[LabelSchemaVersion]:
    return (
        LabelSchemaVersion.objects.filter(project=project).select_related("created_by").order_by("-version")
    )


def schema_latest(*, project: Project | int) -> LabelSchemaVersion | None:
    """The project's newest label schema version (the one new answers are validated against), or None.
    `project` may be a Project or its id."""
    return LabelSchemaVersion.objects.filter(project=project).order_by("-version").first()


def guideline_latest(*, project: Project | int) -> GuidelineVersion | None:
    """The project's newest guideline version, or None."""
    return GuidelineVersion.objects.filter(project=project).order_by("-version").first()


def guideline_version_list(*, project: Project) -> QuerySet[GuidelineVersion]:
    return GuidelineVersion.objects.filter(project=project).select_related("created_by").order_by("-version")


def audit_event_list(*, organisation: Organisation) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(organisation=organisation).select_related("actor").order_by("-id")


def project_settings_warnings(*, project: Project) -> list[dict]:
    """The project's settings warnings (projects.project_settings.settings_warnings) with the facts
    they need: active annotators and gold items (no query for a project from
    project_list_visible_to(with_settings_facts=True))."""
    from .project_settings import Facts, settings_warnings

    annotators = getattr(project, "_active_annotators", None)
    gold_items = getattr(project, "_gold_items", None)
    facts = Facts(
        overlap=project.overlap,
        annotators=_active_annotators(project).count() if annotators is None else annotators,
        gold_items=_gold_items(project).count() if gold_items is None else gold_items,
    )
    return settings_warnings(project.settings, facts)
