"""Reads of releases: the project's list, one release by number, its files."""

from django.db.models import QuerySet

from core.exceptions import NotFound
from projects.models import Project

from .models import Release, ReleaseFile


def release_list(*, project: Project) -> QuerySet[Release]:
    return Release.objects.filter(project=project).select_related("requested_by").order_by("-number")


def release_get(*, project: Project, number: int) -> Release:
    """The project's release `number`, or 404 (also for a release of another project)."""
    release = Release.objects.filter(project=project, number=number).select_related("project").first()
    if release is None:
        raise NotFound()
    return release


def release_file_get(*, release: Release, path: str) -> ReleaseFile:
    """A file of a published release, or 404: files of a release being built are never served."""
    if release.status != Release.Status.PUBLISHED:
        raise NotFound()
    found = ReleaseFile.objects.filter(release=release, path=path).first()
    if found is None:
        raise NotFound()
    return found
