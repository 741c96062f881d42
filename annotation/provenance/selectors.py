"""Reads of provenance sources."""

from django.db.models import QuerySet

from core.exceptions import NotFound
from projects.models import Project

from ..models import ProvenanceSource


def provenance_source_list(*, project: Project) -> QuerySet[ProvenanceSource]:
    return ProvenanceSource.objects.filter(project=project).order_by("name", "id")


def provenance_source_get(*, project: Project, source_id: int) -> ProvenanceSource:
    found = ProvenanceSource.objects.filter(project=project, pk=source_id).first()
    if found is None:
        raise NotFound("No such provenance source in this project.")
    return found


def provenance_by_id(*, project_id: int) -> dict[int, dict]:
    """{source id: {kind, name, terms}} of one project: what a release writes into each record's lineage
    (one query per release, never per item)."""
    from .terms import summary

    return {
        pk: summary(kind, name, terms)
        for pk, kind, name, terms in ProvenanceSource.objects.filter(project_id=project_id).values_list(
            "id", "kind", "name", "terms"
        )
    }
