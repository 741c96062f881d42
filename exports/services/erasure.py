"""Releases after an erasure: withdraw the published releases that hold erased items and request a
successor for each (docs/RELEASES.md#erasure, docs/GOVERNANCE.md#erasure).

Called by governance.erasure.services inside the erasure's transaction, after it locked the project
row (which _publish in build.py also takes): a build that publishes first is found here by its
item ids; one that publishes after finds the items gone and builds again."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.audit import audit_record
from exports.itemset import decode_ids, encode_ids
from exports.models import ErasureGeneration, Release, ReleaseFile
from projects.models import Project

from .create import release_create
from .storage import storage_delete_prefix

ERASURE_REASON = "erasure"


@dataclass(frozen=True)
class WithdrawnRelease:
    number: int
    name: str
    erased_items: int  # of this erasure
    successor: int | None  # its successor's number (None when it already had one)


def releases_holding(*, project: Project, item_ids: set[int]) -> list[tuple[Release, int]]:
    """The project's published releases that hold any of `item_ids`, with how many (a dry run's answer)."""
    found = []
    releases = Release.objects.filter(project=project, status=Release.Status.PUBLISHED).exclude(item_ids=None)
    for release in releases.order_by("number"):
        held = len(item_ids.intersection(decode_ids(release.item_ids)))
        if held:
            found.append((release, held))
    return found


def releases_withdraw_for_erasure(
    *, project: Project, item_ids: set[int], actor, reason: str = ERASURE_REASON
) -> list[WithdrawnRelease]:
    """Withdraw every published release of `project` holding any of `item_ids`: its files are deleted
    (after commit), its item ids forget the erased ones, `erased_items` grows, and a release that
    was not withdrawn before gets a successor (same filter, formats, licence and description; next
    number) whose manifest says what it supersedes and why. Must run inside the erasure's
    transaction, after the project row is locked."""
    assert transaction.get_connection().in_atomic_block
    # Builds running now read an older generation: they check their items before publishing.
    generation, _ = ErasureGeneration.objects.get_or_create(project_id=project.id)
    ErasureGeneration.objects.filter(pk=generation.pk).update(generation=F("generation") + 1)
    withdrawn: list[WithdrawnRelease] = []
    for release, held in releases_holding(project=project, item_ids=item_ids):
        release = Release.objects.select_for_update().get(pk=release.pk)
        remaining = [i for i in decode_ids(release.item_ids) if i not in item_ids]
        release.item_ids = encode_ids(remaining)
        release.erased_items += held
        first = release.withdrawn_at is None
        successor = None
        if first:
            release.withdrawn_at = timezone.now()
            prefix = release.storage_prefix
            transaction.on_commit(lambda prefix=prefix: storage_delete_prefix(prefix))
            # The file rows go with the files (media copies are named by item id); the signed manifest
            # stays as the record of what was published.
            ReleaseFile.objects.filter(release=release).delete()
            successor = release_create(
                project=project,
                actor=actor,
                name=_successor_name(project, release),
                formats=list(release.formats),
                filter=dict(release.filter or {}),
                include_raw=release.include_raw,
                include_media=release.include_media,
                licence=release.licence or None,
                languages=list(release.languages or []),
                intended_uses=release.intended_uses,
                limitations=release.limitations,
            )
            successor.supersedes = [
                {"number": release.number, "name": release.name, "reason": reason, "erased_items": held}
            ]
            successor.save(update_fields=["supersedes"])
            release.superseded_by = successor
        release.save(update_fields=["item_ids", "erased_items", "withdrawn_at", "superseded_by"])
        audit_record(
            actor=actor,
            organisation_id=project.organisation_id,
            project_id=project.id,
            action="release.withdrawn",
            target=release,
            changes={
                "reason": reason,
                "erased_items": held,
                "superseded_by": successor.number if successor else None,
            },
        )
        withdrawn.append(
            WithdrawnRelease(release.number, release.name, held, successor.number if successor else None)
        )
    return withdrawn


def _successor_name(project: Project, release: Release) -> str:
    base = release.name[:80]
    for n in range(2, 1000):
        name = f"{base}-e{n}"
        if not Release.objects.filter(project=project, name=name).exists():
            return name
    raise RuntimeError("no free successor name")  # pragma: no cover - a thousand successors
