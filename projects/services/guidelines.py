"""Writes on the versioned guidelines: new versions and acknowledgements."""

from django.conf import settings
from django.db import transaction

from core.audit import audit_record
from core.exceptions import DomainError

from ..models import (
    GuidelineAcknowledgement,
    GuidelineVersion,
    Project,
)
from ..selectors import guideline_latest
from .common import (
    project_ensure_active,
    project_lock,
    version_append,
)


@transaction.atomic
def guideline_version_create(*, project: Project, actor, body: str, note: str = "") -> GuidelineVersion:
    """Append a new guideline version (max + 1). Earlier versions are never changed."""
    project = project_lock(project)
    project_ensure_active(project)
    if not body.strip():
        raise DomainError("empty_guidelines", "Guidelines cannot be empty.")
    if len(body) > settings.PROJECTS_GUIDELINE_MAX_CHARS:
        raise DomainError(
            "guidelines_too_long",
            f"Guidelines may be at most {settings.PROJECTS_GUIDELINE_MAX_CHARS} characters.",
        )
    if "\x00" in body:
        raise DomainError("invalid_guidelines", "Guidelines may not contain NUL characters.")
    return version_append(GuidelineVersion, project=project, actor=actor, note=note, body=body)


@transaction.atomic
def guideline_acknowledge(*, project: Project, user, version: int) -> GuidelineAcknowledgement:
    """Record that `user` read guideline `version` (the newest; acknowledging an old one is refused).
    Idempotent."""
    if not GuidelineVersion.objects.filter(project=project, version=version).exists():
        raise DomainError("not_found", "Not found.", status_code=404)
    latest = guideline_latest(project=project)
    if latest is None or latest.version != version:
        raise DomainError(
            "stale_guidelines",
            f"Guidelines version {version} is not the newest"
            + (f" (version {latest.version} is); read it first." if latest else "; there are none."),
            status_code=409,
        )
    ack, created = GuidelineAcknowledgement.objects.get_or_create(guideline_version=latest, user=user)
    if created:
        audit_record(
            actor=user,
            organisation_id=project.organisation_id,
            project_id=project.id,
            action="guideline.acknowledged",
            target=latest,
            changes={"version": latest.version},
        )
    return ack
