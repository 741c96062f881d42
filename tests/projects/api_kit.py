"""Shared by the projects API tests (test_project_api.py, test_project_api_versions.py)."""

from rest_framework.fields import DateTimeField

from core.models import AuditEvent
from projects.models import (
    GuidelineVersion,
    LabelSchemaVersion,
    OrganisationMembership,
    Project,
    ProjectMembership,
)

NOT_FOUND = {"code": "not_found", "detail": "Not found."}


def iso(value) -> str | None:
    return None if value is None else DateTimeField().to_representation(value)


def world_counts() -> dict[str, int]:
    return {
        "projects": Project.objects.count(),
        "project_members": ProjectMembership.objects.count(),
        "org_members": OrganisationMembership.objects.count(),
        "schema_versions": LabelSchemaVersion.objects.count(),
        "guideline_versions": GuidelineVersion.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


def url(project, suffix: str = "") -> str:
    return f"/api/projects/{project.id}/{suffix}"
