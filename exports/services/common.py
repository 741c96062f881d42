"""What the release services share: the build error shown to people, and two checks."""

from __future__ import annotations

from core.exceptions import DomainError
from exports.models import Release
from projects import selectors as project_selectors
from projects.models import LabelSchemaVersion, Project


class BuildProblem(Exception):
    """Why a build cannot finish, in words the person who asked for the release can act on (shown
    on the release as its error)."""


def schema_of(project: Project) -> LabelSchemaVersion:
    schema = project_selectors.schema_latest(project=project)
    if schema is None:
        raise DomainError("no_schema", "The project has no label schema yet: there is nothing to release.")
    return schema


def require_published(release: Release) -> None:
    if release.status != Release.Status.PUBLISHED:
        raise DomainError("release_not_published", "This release is not published.", status_code=409)
