"""Requesting a release (number N+1, its build scheduled through the outbox) and retrying a failed one."""

from __future__ import annotations

import re

from django.db import transaction

from core import task_names
from core.audit import audit_record
from core.exceptions import DomainError
from core.realtime import broadcast_on_commit, project_group
from core.services import outbox_enqueue
from exports.formats import FORMATS, applicable_formats
from exports.models import RELEASE_NAME_PATTERN, Release
from projects.models import Project

from .. import events
from .build import build_running, release_summary
from .common import schema_of
from .validation import description_text, normalise_filter, normalise_languages, normalise_licence

BUILD_TASK = task_names.RELEASE_BUILD


_NAME = re.compile(RELEASE_NAME_PATTERN)


@transaction.atomic
def release_create(
    *,
    project: Project,
    actor,
    name: str,
    formats: list[str],
    filter: dict | None = None,
    include_raw: bool = False,
    include_media: bool = True,
    licence: str | None = None,
    languages: list[str] | str | None = None,
    intended_uses: str | None = None,
    limitations: str | None = None,
) -> Release:
    """Request release number N+1 of `project` and schedule its build (through the outbox).

    Rules: the name is letters, digits and -_. (never a path) and unique in the project; formats are
    known and applicable to the active schema (jsonl, the native format, is always included: diffs
    and lineage read it); the filter has only known keys; the licence is an SPDX expression and the
    languages are BCP 47 tags (both normalised); intended uses and limitations are free text that
    the manifest, croissant.json and DATASHEET.md carry. `include_media` copies each item's stored
    media file (uploads, bucket objects) into the release. Not idempotent: each call is a release.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise DomainError(
            "invalid_name",
            "A release name is 1 to 100 letters, digits, '-', '_' or '.', starting with a letter or digit.",
        )
    schema = schema_of(project)
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        raise DomainError("unknown_format", "formats must be a list of format names.")
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise DomainError(
            "unknown_format",
            f"Unknown format(s): {', '.join(unknown)}. Known: {', '.join(FORMATS)}.",
            extra={"formats": unknown},
        )
    applicable = set(applicable_formats(schema.definition))
    inapplicable = sorted(set(formats) - applicable)
    if inapplicable:
        raise DomainError(
            "format_not_applicable",
            f"Nothing in the label schema for: {', '.join(inapplicable)}.",
            extra={"formats": inapplicable},
        )
    chosen = sorted({"jsonl", *formats})
    normalised = normalise_filter(filter)
    if not isinstance(include_raw, bool) or not isinstance(include_media, bool):
        raise DomainError("invalid_option", "include_raw and include_media are true or false.")
    described = {
        "licence": normalise_licence(licence),
        "languages": normalise_languages(languages),
        "intended_uses": description_text(intended_uses, "intended_uses"),
        "limitations": description_text(limitations, "limitations"),
    }
    project = Project.objects.select_for_update().get(pk=project.pk)  # numbers are allocated in turn
    if Release.objects.filter(project=project, name=name).exists():
        raise DomainError("name_taken", f"The project already has a release named {name!r}.")
    last = (
        Release.objects.filter(project=project).order_by("-number").values_list("number", flat=True).first()
    )
    release = Release.objects.create(
        project=project,
        number=(last or 0) + 1,
        name=name,
        filter=normalised,
        formats=chosen,
        include_raw=include_raw,
        include_media=include_media,
        requested_by=actor,
        **described,
    )
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="release.created",
        target=release,
        changes={
            "name": name,
            "formats": chosen,
            "filter": normalised,
            "include_raw": include_raw,
            "include_media": include_media,
            **described,
        },
    )
    # Announced first: with an in-process (eager) job the build starts in the next commit callback.
    broadcast_on_commit(project_group(project.id), events.RELEASE_CREATED, release_summary(release))
    outbox_enqueue(task_name=BUILD_TASK, kwargs={"release_id": release.id})
    return release


def release_retry(*, release: Release, actor) -> Release:
    """Build a failed release again, or one whose build died (its worker was killed).

    A published release is immutable (409); a build still running is left alone (409). The retry's
    build deletes whatever the previous attempt left under its prefix before writing anything.
    """
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        if release.status == Release.Status.PUBLISHED:
            raise DomainError("release_published", "A published release never changes.", status_code=409)
        if release.status == Release.Status.BUILDING and build_running(release):
            raise DomainError("build_running", "This release is being built right now.", status_code=409)
        release.status = Release.Status.BUILDING
        release.error = ""
        release.save(update_fields=["status", "error"])
        audit_record(
            actor=actor,
            organisation_id=release.project.organisation_id,
            project_id=release.project_id,
            action="release.retried",
            target=release,
            changes={"attempts": release.attempts},
        )
        outbox_enqueue(task_name=BUILD_TASK, kwargs={"release_id": release.id})
    return release
