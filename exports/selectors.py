"""Reads of releases: the project's list, one release by number, its files."""

from django.db.models import QuerySet

from core.exceptions import DomainError, NotFound
from projects.models import Project

from .models import Release, ReleaseFile


def release_list(*, project: Project) -> QuerySet[Release]:
    return (
        Release.objects.filter(project=project)
        .select_related("requested_by", "superseded_by")
        .defer("item_ids", "superseded_by__item_ids", "superseded_by__manifest")
        .order_by("-number")
    )


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
    if release.withdrawn_at is not None:
        successor = release.superseded_by
        raise DomainError(
            "release_erased",
            f"Release {release.number} was withdrawn: it held {release.erased_items} erased item(s)"
            + (f"; its successor is release {successor.number} ({successor.name})." if successor else "."),
            status_code=410,
            extra={"superseded_by": successor.number if successor else None},
        )
    found = ReleaseFile.objects.filter(release=release, path=path).first()
    if found is None:
        raise NotFound()
    return found


# Files that describe a release and carry no item content: every reader may download them.
DESCRIPTION_FILES = frozenset({"manifest.json", "croissant.json", "DATASHEET.md"})


def release_file_ensure_readable(*, release: Release, path: str, viewer) -> None:
    """Release files cannot be masked per reader, so someone the project shows personal-data
    placeholders to (annotation.pii: reviewers with privacy.mask_for_reviewers) may download a
    release's data files only when the release holds no raw personal data: it was scanned and built
    with the `mask` or `drop` policy, or with `flag` and nothing flagged. Otherwise 403
    `release_personal_data` (a release without those facts counts as holding some: fail closed).
    The description files (manifest, croissant.json, DATASHEET.md) stay readable."""
    from annotation.pii.services import pii_masking_applies

    if path in DESCRIPTION_FILES or not pii_masking_applies(project=release.project, user=viewer):
        return
    facts = (release.manifest or {}).get("personal_data") or {}
    items = facts.get("items") or {}
    clean = bool(facts.get("scanned")) and (
        facts.get("policy") in ("mask", "drop")
        or (facts.get("policy") == "flag" and not items.get("flagged"))
    )
    if not clean:
        raise DomainError(
            "release_personal_data",
            f"Release {release.number} holds personal data as it was imported, and this project shows "
            "you placeholders for personal data, so its data files are not yours to download. Ask a "
            "manager, or for a release built with the personal-data policy 'mask' or 'drop'.",
            status_code=403,
        )


def release_file_listing(*, release: Release, per_folder: int = 12) -> list[dict]:
    """The files of a published release for a page: every file of a folder with at most `per_folder`
    files ({"path", "size", "sha256"}), and one row for each larger folder (media/, per-item label
    folders) with its file count and total size ({"folder", "files", "size"}), in path order.
    Streams the rows, so a release with a million files costs a million small rows, not a page."""
    if not release.is_published or release.withdrawn_at is not None:
        return []
    folders: dict[str, dict] = {}
    order: list[str] = []
    rows = ReleaseFile.objects.filter(release=release).order_by("path").values_list("path", "size", "sha256")
    for path, size, sha256 in rows.iterator(chunk_size=5000):
        folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
        found = folders.get(folder)
        if found is None:
            found = folders[folder] = {"folder": folder, "files": 0, "size": 0, "listed": []}
            order.append(folder)
        found["files"] += 1
        found["size"] += size
        if len(found["listed"]) <= per_folder:
            found["listed"].append({"path": path, "size": size, "sha256": sha256})
    listing: list[dict] = []
    for folder in order:
        found = folders[folder]
        if folder and found["files"] > per_folder:
            listing.append({"folder": folder, "files": found["files"], "size": found["size"]})
        else:
            listing.extend(found["listed"])
    return listing


def reproduction_latest(*, release: Release):
    """The release's latest rebuild (ReleaseReproduction), or None."""
    from .models import ReleaseReproduction

    return (
        ReleaseReproduction.objects.filter(release=release).select_related("release").order_by("-id").first()
    )
