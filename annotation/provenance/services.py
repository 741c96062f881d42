"""Provenance sources: create (kind and terms checked per kind), change, delete when unused. Every change
is audited inside its transaction."""

from typing import Any

from django.db import IntegrityError, transaction

from core.audit import audit_record
from core.exceptions import DomainError
from projects.models import Project
from projects.services import project_ensure_active

from ..models import Item, ProvenanceSource
from . import selectors
from .terms import KINDS, TermsError, clean_terms


def _checked(kind: str, terms: Any) -> dict[str, Any]:
    if kind not in KINDS:
        raise DomainError(
            "invalid_provenance_kind",
            f"kind: must be one of {', '.join(KINDS)}.",
            extra={"field": "kind"},
        )
    try:
        return clean_terms(kind, terms)
    except TermsError as error:
        raise DomainError(
            f"invalid_provenance_{error.field}",
            f"{error.field}: {error.reason}.",
            extra={"field": error.field},
        ) from error


def _name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise DomainError(
            "invalid_provenance_name",
            "name: 1 to 100 characters, unique in the project.",
            extra={"field": "name"},
        )
    return name


@transaction.atomic
def provenance_source_create(
    *, project: Project, actor, name: str, kind: str, terms: Any = None, description: str = ""
) -> ProvenanceSource:
    """A source items can be attributed to. Wrong kind or terms: DomainError whose code names the
    field (`invalid_provenance_<field>`); the same name twice in a project: `provenance_name_taken`."""
    project_ensure_active(project)
    clean = _checked(kind, terms)
    source = ProvenanceSource(
        project=project,
        name=_name(name),
        kind=kind,
        terms=clean,
        description=(description or "")[:500],
        created_by=actor,
    )
    try:
        with transaction.atomic():
            source.save()
    except IntegrityError as error:
        raise DomainError(
            "provenance_name_taken",
            f"A source named “{source.name}” exists in this project.",
            status_code=409,
        ) from error
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="provenance_source.created",
        target=source,
        changes={"name": source.name, "kind": kind, "terms": clean},
    )
    return source


@transaction.atomic
def provenance_source_update(
    *,
    project: Project,
    actor,
    source_id: int,
    name: str | None = None,
    terms: Any = None,
    description: str | None = None,
) -> ProvenanceSource:
    """Change the name, terms or description; the kind never changes (make a new source instead, so
    releases already built keep meaning what they said)."""
    project_ensure_active(project)
    source = selectors.provenance_source_get(project=project, source_id=source_id)
    before = {"name": source.name, "terms": source.terms, "description": source.description}
    if name is not None:
        source.name = _name(name)
    if terms is not None:
        source.terms = _checked(source.kind, terms)
    if description is not None:
        source.description = description[:500]
    after = {"name": source.name, "terms": source.terms, "description": source.description}
    try:
        with transaction.atomic():
            source.save()
    except IntegrityError as error:
        raise DomainError(
            "provenance_name_taken",
            f"A source named “{source.name}” exists in this project.",
            status_code=409,
        ) from error
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        audit_record(
            actor=actor,
            organisation_id=project.organisation_id,
            project_id=project.id,
            action="provenance_source.changed",
            target=source,
            changes=changes,
        )
    return source


@transaction.atomic
def provenance_source_delete(*, project: Project, actor, source_id: int) -> None:
    """Only a source no item, import or bucket source points at (409 `provenance_source_in_use`)."""
    source = selectors.provenance_source_get(project=project, source_id=source_id)
    used = (
        Item.objects.filter(project=project, provenance_source_id=source.id).exists()
        or project.import_jobs.filter(provenance_source_id=source.id).exists()
        or project.bucket_sources.filter(provenance_source_id=source.id).exists()
    )
    if used:
        raise DomainError(
            "provenance_source_in_use",
            "Items, imports or bucket sources point at this source; it stays.",
            status_code=409,
        )
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="provenance_source.deleted",
        target=source,
        changes={"name": source.name, "kind": source.kind},
    )
    source.delete()


def provenance_source_for_project(*, project: Project, source_id: int | None) -> ProvenanceSource | None:
    """The source an import or bucket source names, checked to be the project's (400 otherwise)."""
    if source_id is None:
        return None
    found = ProvenanceSource.objects.filter(project=project, pk=source_id).first()
    if found is None:
        raise DomainError(
            "invalid_provenance_source",
            "provenance_source: no such source in this project.",
            extra={"field": "provenance_source"},
        )
    return found
