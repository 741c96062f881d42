"""Shared by the projects service tests (test_project_services.py, test_member_and_version_services.py)."""

from django.contrib.auth import get_user_model

from core.models import AuditEvent, OutboxMessage
from projects.models import (
    GuidelineVersion,
    LabelSchemaVersion,
    OrganisationMembership,
    Project,
    ProjectMembership,
)

User = get_user_model()
STATS_TASK = "projects.tasks.project_stats_refresh_task"


def counts() -> dict[str, int]:
    """Row counts of everything a service here may write."""
    return {
        "users": User.objects.count(),
        "projects": Project.objects.count(),
        "org_members": OrganisationMembership.objects.count(),
        "project_members": ProjectMembership.objects.count(),
        "schema_versions": LabelSchemaVersion.objects.count(),
        "guideline_versions": GuidelineVersion.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "outbox": OutboxMessage.objects.count(),
    }


def audit_rows(**filters) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(**filters)
        .order_by("id")
        .values_list(
            "action", "actor_label", "organisation_id", "project_id", "target_type", "target_id", "changes"
        )
    )
