"""Reads on organisations and projects, always filtered by what the user may see."""

from django.db.models import QuerySet

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


def project_list_visible_to(*, user, include_archived: bool = True) -> QuerySet[Project]:
    projects = (
        Project.objects.filter(access.projects_visible_filter(user=user))
        .select_related("organisation", "stats")
        .order_by("name", "id")
    )
    if not include_archived:
        projects = projects.filter(archived_at__isnull=True)
    return projects


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
    return AuditEvent.objects.filter(organisation=organisation).order_by("-id")


def project_settings_warnings(*, project: Project) -> list[dict]:
    """The project's settings warnings (projects.project_settings.settings_warnings) with the facts
    they need: active annotators, and gold items (read by model name: `projects` imports no other
    domain app; the items table belongs to `annotation`)."""
    from django.apps import apps

    from .project_settings import Facts, settings_warnings

    item_model = apps.get_model("annotation", "Item")
    facts = Facts(
        overlap=project.overlap,
        annotators=ProjectMembership.objects.filter(  # who can sign in and label (not imported ones)
            project=project,
            role=ProjectMembership.Role.ANNOTATOR,
            paused_at__isnull=True,
            user__is_active=True,
        ).count(),
        gold_items=item_model.objects.filter(project=project, is_gold=True, excluded=False).count(),
    )
    return settings_warnings(project.settings, facts)
