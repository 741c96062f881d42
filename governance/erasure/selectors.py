"""Reads of erasures and tombstones."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.models import Erasure, ErasureTombstone
from projects.models import Project

from . import keys


def erasure_list(*, project: Project) -> QuerySet[Erasure]:
    return Erasure.objects.filter(project=project).select_related("actor").order_by("-id")


def erased_content_keys(*, project_id: int, content_hashes: list[str]) -> set[str]:
    """The content hashes (of `content_hashes`) whose content was erased from the project: an import
    reports such rows as blocked (`erased_content`) instead of bringing them back."""
    by_key = {keys.content_key(project_id, h): h for h in content_hashes}
    found = ErasureTombstone.objects.filter(project_id=project_id, content_key__in=list(by_key)).values_list(
        "content_key", flat=True
    )
    return {by_key[k] for k in found}


def project_has_erasures(project_id: int) -> bool:
    return ErasureTombstone.objects.filter(project_id=project_id).exists()
