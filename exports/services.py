"""Releases: create, build, publish, verify, reproduce and diff (docs/RELEASES.md).

The build streams the project's items with their consensus (and annotations) from one database
snapshot through every chosen format into a fresh prefix of default_storage, then writes
croissant.json, DATASHEET.md and the signed manifest.json, and publishes by flipping the release row
in one transaction. Until then nothing of the release is served. A build that fails deletes its
files; a build that was killed leaves them under its prefix, and the retry deletes them first.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import io
import logging
import os
import re
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from math import isfinite
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from annotation.items.selectors import exports as item_selectors
from core import task_names
from core.audit import audit_record
from core.exceptions import DomainError
from core.realtime import broadcast, broadcast_on_commit, project_group
from core.services import outbox_enqueue
from projects.models import GuidelineVersion, LabelSchemaVersion, Project
from quality import selectors_export as consensus_selectors

from .canonical import canonical_bytes
from .croissant import build_croissant
from .datasheet import build_datasheet
from .facts import ReleaseFacts, ReleaseTally, Source
from .formats import FORMATS, applicable_formats
from .manifest import (
    MANIFEST_NAME,
    DirectoryOutput,
    FileEntry,
    build_manifest,
    generate_private_key,
    key_id,
    manifest_bytes,
    private_key_from_pem,
    public_key_pem,
    sha256_stream,
    sign_manifest,
    sort_entries,
    verify_release,
)
from .models import RELEASE_NAME_PATTERN, Release, ReleaseFile
from .records import (
    ExportContext,
    ExportRecord,
    Media,
    RawAnnotation,
    file_suffix,
    lineage_dict,
    new_record,
)

logger = logging.getLogger(__name__)

BUILD_TASK = task_names.RELEASE_BUILD
FILTER_KEYS = {"reviewed", "gold", "split", "min_agreement", "created_from", "created_until"}
_NAME = re.compile(RELEASE_NAME_PATTERN)
_SPLIT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,49}$")
_LOCK_CLASS = 7007  # first key of the advisory lock a build holds (the second is the release id)
_REVIEW = {"accepted": "accepted", "fixed": "corrected", "rejected": "rejected"}
_CONSENT = {"granted": "obtained", "not_required": "not_required", "withdrawn": "not_obtained"}


# ---------------------------------------------------------------------------------------------
# Create and retry


_UN_M49_DIGITS = {f"{n:03d}" for n in range(1000)}  # a BCP 47 region of three ASCII digits


def _normalise_filter(raw: Any) -> dict[str, Any]:
    """The release filter with only known keys and canonical values (stored and put in the manifest)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DomainError("bad_filter", "The filter must be an object.")
    unknown = sorted(set(raw) - FILTER_KEYS)
    if unknown:
        raise DomainError("bad_filter", f"Unknown filter key(s): {', '.join(unknown)}.")
    out: dict[str, Any] = {}
    for key in ("reviewed", "gold"):
        if key in raw:
            if not isinstance(raw[key], bool):
                raise DomainError("bad_filter", f"{key} must be true or false.")
            if raw[key]:
                out[key] = True
    if raw.get("split") is not None:
        if not isinstance(raw["split"], str) or not _SPLIT.match(raw["split"]):
            raise DomainError("bad_filter", "split must be a split name (letters, digits, -_.).")
        out["split"] = raw["split"]
    if raw.get("min_agreement") is not None:
        value = raw["min_agreement"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise DomainError("bad_filter", "min_agreement must be a number from 0 to 1.")
        out["min_agreement"] = float(value)
    for key in ("created_from", "created_until"):
        if raw.get(key) is not None:
            try:
                out[key] = date.fromisoformat(str(raw[key])).isoformat()
            except ValueError:
                raise DomainError("bad_filter", f"{key} must be a date (YYYY-MM-DD).") from None
    if "created_from" in out and "created_until" in out and out["created_from"] > out["created_until"]:
        raise DomainError("bad_filter", "created_from is after created_until.")
    return out


_LICENCE_CHARACTERS = re.compile(r"^[A-Za-z0-9.+:() -]+$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
MAX_LANGUAGES = 20
MAX_DESCRIPTION = 5000


def normalise_licence(raw: Any) -> str:
    """An SPDX licence expression ("CC-BY-4.0", "MIT OR Apache-2.0", "LicenseRef-internal"), checked
    against the SPDX licence list (license-expression) and written in its canonical case; "" when
    none is stated. Unknown identifiers are refused with their names, so a typo never reaches a
    dataset card."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise DomainError("invalid_licence", "The licence must be text: an SPDX licence expression.")
    text = " ".join(raw.split())
    if not text:
        return ""
    if len(text) > 200 or not _LICENCE_CHARACTERS.match(text):
        raise DomainError(
            "invalid_licence",
            "A licence is an SPDX expression of letters, digits, '.', '-', '+', ':' and parentheses, "
            "e.g. CC-BY-4.0 or MIT OR Apache-2.0 (at most 200 characters).",
        )
    from license_expression import get_spdx_licensing

    try:
        info = get_spdx_licensing().validate(text)
    except Exception:  # the library raises on some malformed input instead of reporting it
        info = None
    unknown = [] if info is None else [s for s in info.invalid_symbols if not s.startswith("LicenseRef-")]
    if info is None or unknown or (info.errors and not info.invalid_symbols):
        names = f" Unknown: {', '.join(unknown)}." if unknown else ""
        raise DomainError(
            "invalid_licence",
            f"“{text}” is not an SPDX licence expression.{names} Use identifiers from "
            "https://spdx.org/licenses/ (e.g. CC-BY-4.0, CC0-1.0, MIT) or LicenseRef-<name> for your own.",
            extra={"unknown": unknown},
        )
    return info.normalized_expression if not info.invalid_symbols else text


def normalise_languages(raw: Any) -> list[str]:
    """BCP 47 language tags ("en", "pt-BR"), from a list or a comma-separated text; duplicates dropped,
    order kept, the language subtag in lower case."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        raw = [part for part in raw.replace(";", ",").split(",")]
    if not isinstance(raw, list) or not all(isinstance(tag, str) for tag in raw):
        raise DomainError(
            "invalid_languages", "languages must be a list of language tags such as en or pt-BR."
        )
    out: list[str] = []
    for tag in (tag.strip() for tag in raw):
        if not tag:
            continue
        if not _LANGUAGE.match(tag) or len(tag) > 35:
            raise DomainError(
                "invalid_languages", f"“{tag[:40]}” is not a language tag (BCP 47, such as en, de or pt-BR)."
            )
        tag = _bcp47_case(tag)
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_LANGUAGES:
        raise DomainError("invalid_languages", f"At most {MAX_LANGUAGES} languages.")
    return out


def _bcp47_case(tag: str) -> str:
    """The conventional case of a BCP 47 tag: language lower, script title, region upper (pt-BR,
    zh-Hant-TW, es-419)."""
    language, *subtags = tag.split("-")
    out = [language.lower()]
    for subtag in subtags:
        if len(subtag) == 4 and subtag.isalpha():
            out.append(subtag.title())
        elif (len(subtag) == 2 and subtag.isalpha()) or (len(subtag) == 3 and subtag in _UN_M49_DIGITS):
            out.append(subtag.upper())
        else:
            out.append(subtag.lower())
    return "-".join(out)


def _description_text(raw: Any, name: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise DomainError(f"invalid_{name}", f"{name} must be text.")
    text = raw.strip().replace("\r\n", "\n")
    if len(text) > MAX_DESCRIPTION:
        raise DomainError(f"invalid_{name}", f"{name} is at most {MAX_DESCRIPTION:,} characters.")
    return text


def _schema_of(project: Project) -> LabelSchemaVersion:
    schema = LabelSchemaVersion.objects.filter(project=project).order_by("-version").first()
    if schema is None:
        raise DomainError("no_schema", "The project has no label schema yet: there is nothing to release.")
    return schema


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
    schema = _schema_of(project)
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
    normalised = _normalise_filter(filter)
    if not isinstance(include_raw, bool) or not isinstance(include_media, bool):
        raise DomainError("invalid_option", "include_raw and include_media are true or false.")
    described = {
        "licence": normalise_licence(licence),
        "languages": normalise_languages(languages),
        "intended_uses": _description_text(intended_uses, "intended_uses"),
        "limitations": _description_text(limitations, "limitations"),
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
    broadcast_on_commit(project_group(project.id), "release.created", release_summary(release))
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
        if release.status == Release.Status.BUILDING and _build_running(release):
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


def _build_running(release: Release) -> bool:
    """Whether a live build holds this release. PostgreSQL: the build's advisory lock (released by
    the server when the build's connection dies). Elsewhere: started less than the stale time ago."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, release.id])
            free = cursor.fetchone()[0]
            if free:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, release.id])
        return not free
    stale = timedelta(seconds=settings.EXPORTS_BUILD_STALE_SECONDS)
    return release.started_at is not None and timezone.now() - release.started_at < stale


@contextmanager
def _build_lock(release_id: int) -> Iterator[bool]:
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, release_id])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, release_id])


# ---------------------------------------------------------------------------------------------
# Storage


def _is_local(storage) -> bool:
    return isinstance(storage, FileSystemStorage)


def storage_delete_prefix(prefix: str) -> None:
    """Delete every file under `prefix` in default_storage (idempotent)."""
    if not prefix:
        return
    if _is_local(default_storage):
        shutil.rmtree(default_storage.path(prefix), ignore_errors=True)
        return

    def walk(folder: str) -> None:
        try:
            directories, files = default_storage.listdir(folder)
        except FileNotFoundError:
            return
        for name in files:
            default_storage.delete(f"{folder}{name}")
        for name in directories:
            walk(f"{folder}{name}/")

    walk(prefix)


def storage_list_prefix(prefix: str) -> list[str]:
    """Relative paths of the files under `prefix`."""
    found: list[str] = []

    def walk(folder: str, relative: str) -> None:
        try:
            directories, files = default_storage.listdir(f"{prefix}{folder}")
        except FileNotFoundError:
            return
        found.extend(f"{relative}{name}" for name in files)
        for name in directories:
            walk(f"{folder}{name}/", f"{relative}{name}/")

    walk("", "")
    return sorted(found)


class _Target:
    """Where a build writes: straight into the prefix on local disk; a temporary directory uploaded
    file by file (streamed, multipart) to other storages. Media files never touch the temporary
    directory on remote storage: they are streamed into the prefix as they are copied
    (`remote_names`), so a release of a terabyte of images needs no such disk on the worker."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.remote_names: set[str] = set()
        self.local = _is_local(default_storage)
        if self.local:
            self.root = Path(default_storage.path(prefix))
            self.root.mkdir(parents=True, exist_ok=False)
        else:
            self.root = Path(tempfile.mkdtemp(prefix="tessera-release-"))
        self.output = DirectoryOutput(self.root)

    def upload(self, names: list[str]) -> None:
        if self.local:
            return
        for name in names:
            if name in self.remote_names:
                continue  # already in storage
            with self.root.joinpath(*name.split("/")).open("rb") as handle:
                default_storage.save(f"{self.prefix}{name}", File(handle, name=name))

    def cleanup(self) -> None:
        if not self.local:
            shutil.rmtree(self.root, ignore_errors=True)

    def discard(self) -> None:
        self.cleanup()
        storage_delete_prefix(self.prefix)


# ---------------------------------------------------------------------------------------------
# Signing key


def signing_key():
    """The server's Ed25519 release key (settings.EXPORTS_SIGNING_KEY_PATH), generated on first use
    with mode 0600 when the file does not exist (embedded mode); concurrent first uses agree."""
    path = Path(settings.EXPORTS_SIGNING_KEY_PATH)
    if not path.exists():
        from cryptography.hazmat.primitives import serialization

        key = generate_private_key()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
    return private_key_from_pem(path.read_bytes())


def signing_public_key_info() -> dict[str, str]:
    public_key = signing_key().public_key()
    return {"key_id": key_id(public_key), "public_key_pem": public_key_pem(public_key).decode("ascii")}


# ---------------------------------------------------------------------------------------------
# Build


def progress_key(release_id: int) -> str:
    return f"exports:release-progress:{release_id}"


def release_progress(*, release: Release) -> dict[str, int]:
    """The live progress of a build (from the cache the build writes), zeros before the first chunk."""
    state = cache.get(progress_key(release.id)) or {}
    return {"records_done": state.get("records_done", 0), "records_total": state.get("records_total", 0)}


def is_remote_storage() -> bool:
    """Whether default_storage is not the local disk (S3): downloads are then presigned redirects."""
    return not _is_local(default_storage)


def release_summary(release: Release) -> dict[str, Any]:
    return {
        "project_id": release.project_id,
        "release_id": release.id,
        "number": release.number,
        "name": release.name,
        "status": release.status,
        "records_done": release.records_done,
        "records_total": release.records_total,
    }


def _claim(release_id: int) -> Release | None:
    """Start an attempt: a release that is not building is never built (tasks are at-least-once).
    Deletes what an earlier attempt left and gives this attempt a fresh prefix."""
    with transaction.atomic():
        release = (
            Release.objects.select_for_update(of=("self",))
            .select_related("project", "project__organisation")
            .filter(pk=release_id)
            .first()
        )
        if release is None or release.status != Release.Status.BUILDING:
            return None
        storage_delete_prefix(release.storage_prefix)
        release.attempts += 1
        release.storage_prefix = f"releases/{release.project_id}/{release.number}/a{release.attempts}/"
        release.started_at = timezone.now()
        release.records_done = release.records_total = 0
        release.save(
            update_fields=["attempts", "storage_prefix", "started_at", "records_done", "records_total"]
        )
    storage_delete_prefix(release.storage_prefix)  # a stale prefix of the same attempt number
    return release


def release_build(*, release_id: int) -> Release | None:
    """Build and publish a release. Idempotent: a published or failed release is left as it is, and
    a second delivery of the task while a build runs does nothing (the build's advisory lock).

    Side effects: files under the release's prefix in default_storage; `release.progress` events
    while it runs; then, in one transaction, the ReleaseFile rows, the manifest and the status flip
    to published (`release.published`), or failed with the files deleted (`release.failed`).
    """
    with _build_lock(release_id) as acquired:
        if not acquired:
            return Release.objects.filter(pk=release_id).first()
        release = _claim(release_id)
        if release is None:
            return Release.objects.filter(pk=release_id).first()
        target = None
        try:
            target = _Target(release.storage_prefix)
            written = write_release(
                release, target.output, on_progress=_progress_reporter(release), target=target
            )
            target.upload([entry.path for entry in written.entries] + [MANIFEST_NAME])
        except Exception as error:
            logger.exception("release %s failed", release.id)
            if target is not None:
                target.discard()
            else:
                storage_delete_prefix(release.storage_prefix)
            reason = str(error) if isinstance(error, BuildProblem) else type(error).__name__
            return _fail(release, f"The build failed ({reason}); nothing was published.")
        target.cleanup()
        return _publish(release, written)


def _progress_reporter(release: Release):
    last = [0.0]

    def report(done: int, total: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - last[0] < 0.25:
            return
        last[0] = now
        state = {**release_summary(release), "records_done": done, "records_total": total}
        cache.set(progress_key(release.id), state, timeout=3600)
        # Sent now, not on commit: the build reads inside one long read-only transaction.
        broadcast(project_group(release.project_id), "release.progress", state)

    return report


@transaction.atomic
def _publish(release: Release, written: WrittenRelease) -> Release:
    release = Release.objects.select_for_update().get(pk=release.pk)
    ReleaseFile.objects.filter(release=release).delete()
    ReleaseFile.objects.bulk_create(
        [
            ReleaseFile(release=release, path=entry.path, sha256=entry.sha256, size=entry.bytes)
            for entry in sort_entries([*written.entries, written.manifest_entry])
        ]
    )
    release.status = Release.Status.PUBLISHED
    release.published_at = timezone.now()
    release.manifest = written.manifest
    release.records_done = release.records_total = written.records
    release.save()
    cache.delete(progress_key(release.id))
    audit_record(
        actor=None,
        organisation_id=release.project.organisation_id,
        project_id=release.project_id,
        action="release.published",
        target=release,
        changes={"records": written.records, "merkle_root": written.manifest["merkle_root"]},
    )
    broadcast_on_commit(project_group(release.project_id), "release.published", release_summary(release))
    return release


@transaction.atomic
def _fail(release: Release, message: str) -> Release:
    release = Release.objects.select_for_update().get(pk=release.pk)
    release.status = Release.Status.FAILED
    release.error = message[:1000]
    release.save(update_fields=["status", "error"])
    cache.delete(progress_key(release.id))
    broadcast_on_commit(
        project_group(release.project_id),
        "release.failed",
        {**release_summary(release), "error": release.error},
    )
    return release


@dataclass
class WrittenRelease:
    entries: list[FileEntry]  # every file but manifest.json
    manifest: dict[str, Any]
    manifest_entry: FileEntry
    records: int


@dataclass
class _Stats:
    """What only the database knows, gathered on the first pass: consensus methods and sources."""

    methods: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    sources: Counter = field(default_factory=Counter)  # (source, licence, consent, synthetic) -> items


def _item_filters(release: Release) -> dict[str, Any]:
    raw = release.filter or {}
    out: dict[str, Any] = {}
    if raw.get("split") is not None:
        out["split"] = raw["split"]
    if raw.get("gold"):
        out["gold"] = True
    if raw.get("reviewed"):
        out["reviewed"] = True
    for key in ("created_from", "created_until"):
        if raw.get(key):
            out[key] = date.fromisoformat(raw[key])
    return out


def _finite(value: float | None) -> float | None:
    return value if value is not None and isfinite(value) else None


class _Pseudonyms:
    """Stable pseudonymous annotator ids: HMAC of the project and user id under the server's secret."""

    def __init__(self, project_id: int):
        from annotation.models import ImportedAnnotator

        self._key = hashlib.sha256(f"tessera-release-pseudonym:{settings.SECRET_KEY}".encode()).digest()
        self._project = project_id
        self.known: dict[int, str] = {}  # user id -> pseudonym (read directly on the hot path)
        # Annotators imported with their work (Label Studio) say so: ann-imported-<hash>.
        self._imported = set(
            ImportedAnnotator.objects.filter(project_id=project_id).values_list("user_id", flat=True)
        )

    def __call__(self, user_id: int) -> str:
        found = self.known.get(user_id)
        if found is None:
            digest = hmac.new(self._key, f"{self._project}:{user_id}".encode(), hashlib.sha256).hexdigest()
            kind = "ann-imported-" if user_id in self._imported else "ann-"
            found = self.known[user_id] = f"{kind}{digest[:8]}"
        return found


def _records(
    release: Release,
    ctx: ExportContext,
    schema_version: int,
    stats: _Stats | None,
    on_chunk,
    snapshot_id: str | None = None,
    media=None,
) -> Iterator[ExportRecord]:
    """The release's records in item-id order: items (server-side cursor) merged with the consensus
    and annotations of each chunk (id-range queries). Items without a consensus answer, or below the
    filter's min_agreement on any control (or with agreement undefined), are left out.

    With `snapshot_id` (an exported PostgreSQL snapshot of the build's transaction) the chunks are
    read ahead by a thread on its own connection importing that snapshot, so the database works on
    the next chunk while this one is written: the same rows, in the same order."""
    project = release.project
    min_agreement = (release.filter or {}).get("min_agreement")
    chunk_size = settings.EXPORTS_BUILD_CHUNK
    filters = _item_filters(release)
    include_raw = ctx.include_raw
    # A generator's body runs where it is first advanced: with read-ahead, in the reading thread.
    batches = item_selectors.export_item_batches(project=project, chunk_size=chunk_size, **filters)
    if snapshot_id is None:
        chunks = _with_rows(project, batches, include_raw)
    else:
        chunks = _in_thread(lambda: _with_rows(project, batches, include_raw), snapshot_id)
    try:
        yield from _merged(project, chunks, ctx, schema_version, stats, min_agreement, on_chunk, media)
    finally:
        chunks.close()


def _with_rows(project, batches: Iterator[list], include_raw: bool) -> Iterator[tuple]:
    """(items, consensus by item id, annotations by item id, gold answers by item id) per batch of
    items, in id order."""
    try:
        for chunk in batches:
            first, last = chunk[0].id, chunk[-1].id
            consensus = defaultdict(list)
            for row in consensus_selectors.export_consensus(
                project=project, first_item_id=first, last_item_id=last
            ):
                consensus[row.item_id].append(row)
            annotations = defaultdict(list)
            for row in item_selectors.export_annotations(
                project=project, first_item_id=first, last_item_id=last, with_results=include_raw
            ):
                annotations[row.item_id].append(row)
            gold = (
                {
                    row.item_id: row
                    for row in consensus_selectors.export_gold(
                        project=project, first_item_id=first, last_item_id=last
                    )
                }
                if any(item.is_gold for item in chunk)
                else {}
            )
            yield chunk, consensus, annotations, gold
    finally:
        batches.close()  # the server-side cursor, while its transaction is alive


_DONE = object()


def _in_thread(produce, snapshot_id: str) -> Iterator:
    """The values of the generator `produce()` makes, produced by a thread on its own connection in a
    read-only REPEATABLE READ transaction that imports the build transaction's snapshot (so it sees
    exactly what the build sees), at most two values ahead (memory stays bounded). An error in the
    thread is raised here; closing this generator stops the thread and closes its generator."""
    import queue
    import threading

    ready: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def hand_over(value) -> bool:
        while not stop.is_set():
            try:
                ready.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot_id])
                values = produce()
                try:
                    for value in values:
                        if not hand_over(value):
                            return
                finally:
                    values.close()
            hand_over(_DONE)
        except BaseException as error:  # handed to the build, which raises it
            hand_over(error)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=run, name="release-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            value = ready.get()
            if value is _DONE:
                return
            if isinstance(value, BaseException):
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


def _merged(project, chunks, ctx, schema_version, stats, min_agreement, on_chunk, media):
    delay = settings.EXPORTS_BUILD_CHUNK_DELAY
    pseudonym = _Pseudonyms(project.id)
    seen = 0
    no_annotations: list = []
    for chunk, consensus, by_item, gold in chunks:
        get_annotations = by_item.get
        for item in chunk:
            rows = consensus.get(item.id)
            reference = gold.get(item.id) if item.is_gold else None
            if reference is not None:
                rows = _gold_rows(item.id, reference, ctx)  # the reference answer is the label
                if rows:
                    rows.append(reference)
            if not rows:
                continue
            if (
                reference is None
                and min_agreement is not None
                and any(_finite(r.agreement) is None or r.agreement < min_agreement for r in rows)
            ):
                continue
            yield _record(
                item,
                rows,
                get_annotations(item.id, no_annotations),
                ctx,
                schema_version,
                pseudonym,
                stats,
                media,
            )
        seen += len(chunk)
        on_chunk(seen)
        if delay:
            time.sleep(delay)  # tests only: makes a build slow enough to be killed midway


_METHOD_NAMES: dict[tuple[str, str], str] = {}  # (method, version) -> "method@version", a handful
GOLD_METHOD = "gold"


def _gold_rows(item_id: int, reference, ctx: ExportContext) -> list:
    """A gold item's reference answers as consensus-shaped rows (method "gold", confidence and
    agreement undefined), for the controls of the release's schema that the reference answers."""
    result = reference.result if isinstance(reference.result, dict) else {}
    return [
        consensus_selectors.ExportConsensusRow(item_id, name, result[name], None, None, GOLD_METHOD, "1")
        for name in sorted(c.get("name") for c in ctx.controls())
        if result.get(name) is not None
    ]


def _record(item, rows, annotations, ctx, schema_version, pseudonym, stats, media_of) -> ExportRecord:
    # Hot path (once per record): plain loops, no helper calls per value.
    labels, confidence, agreement, aggregation = {}, {}, {}, {}
    methods = stats.methods if stats is not None else None
    gold = None
    if type(rows[-1]) is not consensus_selectors.ExportConsensusRow:  # a gold item: see _merged
        reference = rows[-1]
        rows = rows[:-1]
        gold = {"source": reference.source, "schema_version": reference.schema_version}
    for r in rows:
        control = r.control
        labels[control] = r.answer
        value = r.confidence
        confidence[control] = value if value is None or isfinite(value) else None
        value = r.agreement
        agreement[control] = value if value is None or isfinite(value) else None
        method = (r.method, r.method_version)
        name = _METHOD_NAMES.get(method)
        if name is None:
            name = _METHOD_NAMES[method] = f"{r.method}@{r.method_version}"
        aggregation[control] = name
        if methods is not None:
            methods[control][method] += 1
    review = None
    guideline_version = None
    annotators = []
    versions_of = [
        {"annotation_id": a.id, "guideline_version": a.guideline_version, "schema_version": a.schema_version}
        for a in annotations
    ]
    if len(annotations) == 1:  # the usual case, without the sets and generators below
        a = annotations[0]
        review = _REVIEW.get(a.review)
        guideline_version = a.guideline_version
        annotators = [pseudonym.known.get(a.annotator_id) or pseudonym(a.annotator_id)]
    elif annotations:
        reviews = {a.review for a in annotations}
        review = next((_REVIEW[r] for r in ("fixed", "accepted", "rejected") if r in reviews), None)
        versions = [a.guideline_version for a in annotations if a.guideline_version is not None]
        guideline_version = max(versions) if versions else None
        annotators = [pseudonym(a.annotator_id) for a in annotations]
    if stats is not None:
        stats.sources[(item.source, item.licence, item.consent, item.synthetic)] += 1
    media = media_of(item) if item.media or item.media_url else None
    raw = ()
    if ctx.include_raw:
        raw = tuple(
            RawAnnotation(
                annotation_id=a.id,
                annotator=name,
                result=a.result if isinstance(a.result, dict) else {},
                revision=a.revision,
                review=_REVIEW.get(a.review),
            )
            for a, name in zip(annotations, annotators, strict=True)
        )
    return new_record(
        item.id,
        item.external_id,
        item.split or None,
        item.data,
        media,
        schema_version,
        labels,
        confidence,
        agreement,
        raw,
        lineage_dict(
            source=item.source,
            checksum=item.checksum or None,
            annotation_ids=[a.id for a in annotations],
            annotators=annotators,
            guideline_version=guideline_version,
            schema_version=schema_version,
            review=review,
            aggregation=aggregation,
            synthetic=bool(item.synthetic),
            annotation_versions=versions_of,
            label_source="consensus" if gold is None else "gold",
            gold=gold,
        ),
    )


class BuildProblem(Exception):
    """Why a build cannot finish, in words the person who asked for the release can act on (shown
    on the release as its error)."""


def _positive(data: Any, key: str, kind: type) -> Any:
    value = data.get(key) if type(data) is dict else None
    if type(value) is bool or not isinstance(value, int | float) or not isfinite(value) or value <= 0:
        return None
    if kind is int:
        return value if type(value) is int else None
    return float(value)


class _ReleaseMedia:
    """The media of released items as records carry them, and their copies in the release.

    `media_of(item)` is called for each released item that has media. With `include_media` (the
    default) stored files (uploads, archive members) and bucket objects (s3://bucket/key) are
    released as ``media/<item id><ext>``: on the first pass (`copying`) the file is copied there,
    streamed (from default_storage, or with the project's bucket source through the egress guard),
    and listed with its SHA-256 like every other file. http(s) URLs are referenced, never fetched.
    Without `include_media` nothing is copied: bucket objects keep their s3:// reference and stored
    files are referenced by their media endpoint (``/api/projects/<p>/items/<i>/media/``, with a token).
    Sizes (width, height, duration, frame count) are what the import recorded in the item's data.
    Layouts that need images next to their labels (YOLO, VOC) get `place`: a link to the copy."""

    def __init__(self, release: Release, output: DirectoryOutput, target: _Target | None = None):
        self.include = release.include_media
        self.project_id = release.project_id
        self.output = output
        self.remote = target if target is not None and not target.local else None
        self.copying = False
        self.files = 0
        self.bytes = 0
        self._clients: dict[int, Any] = {}

    def __call__(self, item) -> Media | None:
        url = item.media_url
        if item.media or url.startswith("s3://"):
            if not self.include:  # referenced where a downloader with a token can fetch it
                path = url if not item.media else f"/api/projects/{self.project_id}/items/{item.id}/media/"
            else:
                path = f"media/{item.id}{file_suffix(item.media or url)}"
                if self.copying:
                    self._copy(item, path)
        elif url.startswith(("http://", "https://")):
            path = url
        else:
            return None
        data = item.data
        return Media(
            path,
            _positive(data, "width", int),
            _positive(data, "height", int),
            _positive(data, "duration", float),
            _positive(data, "frame_count", int),
        )

    def place(self, media: Media, name: str) -> None:
        if self.remote is None:
            self.output.link(media.path, name)
            return
        copied = next(e for e in self.output.entries() if e.path == media.path)
        _storage_copy(f"{self.remote.prefix}{media.path}", f"{self.remote.prefix}{name}")
        self.output.add_entry(FileEntry(name, copied.sha256, copied.bytes))
        self.remote.remote_names.add(name)

    def summary(self) -> dict[str, Any]:
        return {"included": self.include, "files": self.files, "bytes": self.bytes}

    def _copy(self, item, path: str) -> None:
        if self.remote is not None:
            self._copy_remote(item, path)
            return
        with self.output(path) as target:
            if item.media:
                try:
                    with default_storage.open(item.media, "rb") as source:
                        shutil.copyfileobj(source, target, 1 << 20)
                except Exception as error:
                    raise BuildProblem(
                        f"the media file of item {item.id} could not be read from storage "
                        f"({type(error).__name__}); build the release without media, or import the item again"
                    ) from error
            else:
                self._copy_object(item, target)
            self.files += 1
            self.bytes += target.tell()

    def _copy_remote(self, item, path: str) -> None:
        """Stream the file into the release's prefix in remote storage, hashing what passes."""
        sink = _HashingPipe()
        if item.media:
            try:
                with default_storage.open(item.media, "rb") as source:
                    sink.source = source
                    _storage_save(f"{self.remote.prefix}{path}", sink)
            except BuildProblem:
                raise
            except Exception as error:
                raise BuildProblem(
                    f"the media file of item {item.id} could not be read from storage "
                    f"({type(error).__name__}); build the release without media, or import the item again"
                ) from error
        else:
            self._copy_object(item, sink)  # read into the pipe's buffer (one object at a time)
            sink.source = io.BytesIO(bytes(sink.buffer))
            sink.buffer = bytearray()
            sink.digest, sink.size = hashlib.sha256(), 0
            _storage_save(f"{self.remote.prefix}{path}", sink)
        self.output.add_entry(FileEntry(path, sink.digest.hexdigest(), sink.size))
        self.remote.remote_names.add(path)
        self.files += 1
        self.bytes += sink.size

    def _copy_object(self, item, target) -> None:
        from annotation.sources.s3 import parse_object_reference, s3_client
        from annotation.sources.selectors import bucket_source_for_object

        bucket, key = parse_object_reference(item.media_url)
        source = bucket_source_for_object(project_id=self.project_id, bucket=bucket, key=key)
        if source is None:
            raise BuildProblem(
                f"no bucket source of the project covers the media of item {item.id} any more "
                f"({item.media_url}); add the source again, or build the release without media"
            )
        client = self._clients.get(source.id)
        if client is None:
            client = self._clients[source.id] = s3_client(source)
        try:
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
            while chunk := body.read(1 << 20):
                target.write(chunk)
        except Exception as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code") or type(error).__name__
            raise BuildProblem(
                f"the media of item {item.id} could not be read from bucket {bucket} ({code}); "
                "check the bucket source, or build the release without media"
            ) from error


class _HashingPipe:
    """A read-only file for storage.save that hashes what is read from `source`; also a write-only
    file (`write`) collecting a bucket object before it is saved."""

    def __init__(self):
        self.source = None
        self.digest = hashlib.sha256()
        self.size = 0
        self.buffer = bytearray()
        self.name = "media"
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        chunk = self.source.read(size)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk

    def write(self, data: bytes) -> int:
        self.buffer += data
        return len(data)

    def tell(self) -> int:
        return self.size

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        pass


def _storage_save(name: str, content) -> None:
    saved = default_storage.save(name, File(content, name=name.rsplit("/", 1)[-1]))
    if saved != name:  # a fresh attempt prefix is empty; a renamed file would not be the release's
        default_storage.delete(saved)
        raise BuildProblem(f"storage renamed {name} to {saved}; nothing was published")


def _storage_copy(source: str, name: str) -> None:
    """Copy a file within default_storage: server-side on S3 (no bytes through the worker), else by
    streaming it through."""
    bucket = getattr(default_storage, "bucket", None)
    normalise = getattr(default_storage, "_normalize_name", None)  # django-storages' key of a name
    if bucket is not None and normalise is not None:
        from storages.utils import clean_name

        bucket.copy(
            {"Bucket": bucket.name, "Key": normalise(clean_name(source))}, normalise(clean_name(name))
        )
        return
    with default_storage.open(source, "rb") as handle:
        _storage_save(name, handle)


@contextmanager
def _fewer_gc_pauses() -> Iterator[None]:
    """Records are acyclic and freed by reference counting; the cyclic collector, which a million
    records trigger thousands of times over every object the process holds, costs a third of the
    build. Freeze what exists and collect the young generation less often while the build runs."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 50_000), threshold[1], threshold[2])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def write_release(
    release: Release, output: DirectoryOutput, *, on_progress=None, target: _Target | None = None
) -> WrittenRelease:
    """Write every file of `release` into `output` (and manifest.json into its root): a pure function
    of the database snapshot and the release row, so writing twice gives identical bytes.

    All passes (one per format) read inside one transaction, REPEATABLE READ on PostgreSQL, so every
    format sees the same items and consensus even while annotators keep working.
    """
    project = release.project
    schema = _schema_of(project)
    guideline = GuidelineVersion.objects.filter(project=project).order_by("-version").first()
    ctx = ExportContext(
        project_name=project.name,
        project_slug=slugify(project.name) or f"project-{project.id}",
        schema=schema.definition,
        release_name=release.name,
        release_number=release.number,
        include_raw=release.include_raw,
    )
    tally = ReleaseTally(schema.definition)
    stats = _Stats()
    media = _ReleaseMedia(release, output, target)
    place_media = media.place if media.include else None
    report = on_progress or (lambda done, total, force=False: None)
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    snapshot_id = None
    with _fewer_gc_pauses(), transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                if getattr(settings, "EXPORTS_BUILD_READ_AHEAD", True):
                    cursor.execute("SELECT pg_export_snapshot()")
                    snapshot_id = cursor.fetchone()[0]
        total = item_selectors.export_item_count(project=project, **_item_filters(release))
        transformations = item_selectors.export_transformations(project=project, until=release.created_at)
        passes = len(release.formats)
        for index, name in enumerate(release.formats):

            def on_chunk(seen: int, index: int = index) -> None:
                report(index * total + seen, passes * total)

            first = index == 0
            media.copying = first  # the first pass copies each file once; later ones link to it
            records = _records(
                release, ctx, schema.version, stats if first else None, on_chunk, snapshot_id, media
            )
            try:
                FORMATS[name].write(tally.wrap(records) if first else records, ctx, output, place_media)
            finally:
                # Close the server-side cursor now, while its transaction is alive (also on errors).
                records.close()
    report(passes * total, passes * total, force=True)
    summary = tally.summary()
    facts = ReleaseFacts(
        project_name=project.name,
        project_slug=ctx.project_slug,
        release_name=release.name,
        release_number=release.number,
        schema=schema.definition,
        schema_version=schema.version,
        guideline_version=guideline.version if guideline else None,
        licence=release.licence or None,
        consensus={
            control: {"method": method, "version": version}
            for control, counter in sorted(stats.methods.items())
            for (method, version), _ in [min(counter.items(), key=lambda kv: (-kv[1], kv[0]))]
        },
        filter=release.filter or {},
        counts=summary["counts"],
        agreement={
            control: {"metric": "mean_item_agreement", "value": value}
            for control, value in summary["mean_item_agreement"].items()
        },
        annotators=summary["annotators"],
        sources=tuple(_sources(stats.sources)),
        synthetic_share=summary["synthetic_share"],
        formats=tuple(release.formats),
        organisation=project.organisation.name,
        description=project.description,
        published=release.created_at.date().isoformat(),  # stored with the release, not the build clock
        languages=tuple(release.languages or ()),
        intended_uses=release.intended_uses,
        limitations=release.limitations,
        media=media.summary(),
        transformations=tuple(transformations),
    )
    data_files = output.entries()
    with output("croissant.json") as handle:
        handle.write(canonical_bytes(build_croissant(facts, data_files)) + b"\n")
    with output("DATASHEET.md") as handle:
        handle.write(build_datasheet(facts, data_files).encode("utf-8"))
    entries = output.entries()
    manifest = sign_manifest(build_manifest(facts, entries), signing_key())
    body = manifest_bytes(manifest)
    (output.root / MANIFEST_NAME).write_bytes(body)
    manifest_entry = FileEntry(MANIFEST_NAME, hashlib.sha256(body).hexdigest(), len(body))
    return WrittenRelease(entries, manifest, manifest_entry, summary["counts"]["records"])


def _sources(counts: Counter) -> list[Source]:
    merged: dict[str, list] = {}
    for (source, licence, consent, synthetic), items in sorted(counts.items()):
        name = f"{source} ({licence})" if licence else source
        if synthetic:
            name += ", synthetic"
        found = merged.setdefault(name, [0, licence or None, set(), "synthetic" if synthetic else "other"])
        found[0] += items
        found[2].add(_CONSENT.get(consent, "unknown"))
    return [
        Source(
            name=name,
            items=items,
            licence=licence,
            consent=next(iter(c)) if len(c) == 1 else "unknown",
            kind=kind,
        )
        for name, (items, licence, c, kind) in sorted(merged.items())
    ]


# ---------------------------------------------------------------------------------------------
# Verify, reproduce, diff


def release_verify(*, release: Release) -> dict[str, Any]:
    """Re-hash the stored files of a published release and check the stored manifest's signature
    against the server key. Problems name each file: "changed: P", "missing: P", "extra: P", and
    "changed: manifest.json" when the stored manifest differs from the one recorded at publication.
    Read-only; safe to call any time."""
    _require_published(release)
    prefix = release.storage_prefix
    entries: list[FileEntry] = []
    stored_manifest: dict | None = None
    problems: list[str] = []
    for path in storage_list_prefix(prefix):
        with default_storage.open(f"{prefix}{path}", "rb") as handle:
            if path == MANIFEST_NAME:
                body = handle.read()
                if body != manifest_bytes(release.manifest):
                    problems.append(f"changed: {MANIFEST_NAME}")
                try:
                    import orjson

                    stored_manifest = orjson.loads(body)
                except ValueError:
                    stored_manifest = None
                continue
            digest, size = sha256_stream(handle)
        entries.append(FileEntry(path, digest, size))
    if stored_manifest is None and f"changed: {MANIFEST_NAME}" not in problems:
        problems.append(f"missing: {MANIFEST_NAME}")
    public_key = signing_key().public_key()
    problems += verify_release(entries, release.manifest, public_key)
    if isinstance(stored_manifest, dict) and stored_manifest != release.manifest:
        problems += [
            p for p in verify_release(entries, stored_manifest, public_key) if p.startswith("signature")
        ]
    problems = sorted(set(problems), key=problems.index)
    return {
        "ok": not problems,
        "problems": problems,
        "files": len(release.manifest.get("files", [])),
        "merkle_root": release.manifest.get("merkle_root"),
        "key_id": key_id(public_key),
    }


def release_reproduce(*, release: Release, directory: Path, on_progress=None) -> list[str]:
    """Build the published release again from the database into `directory` and compare with what
    was published: [] when every file (manifest.json included) is byte-identical, else one line per
    file ("missing: P", "extra: P", "changed: P")."""
    lines = []
    for difference in _reproduce_differences(release, directory, on_progress)[0]:
        kind = (
            "missing"
            if difference["actual"] is None
            else "extra"
            if difference["expected"] is None
            else "changed"
        )
        lines.append(f"{kind}: {difference['path']}")
    return lines


def _reproduce_differences(release: Release, directory: Path, on_progress=None) -> tuple[list[dict], int]:
    """(the files that differ, by path: {"path", "expected", "actual"} with {"sha256", "size"} or None
    for a file only one side has; the number of files compared)."""
    _require_published(release)
    written = write_release(release, DirectoryOutput(directory), on_progress=on_progress)
    recorded = {f.path: (f.sha256, f.size) for f in release.files.all()}
    rebuilt = {e.path: (e.sha256, e.bytes) for e in [*written.entries, written.manifest_entry]}
    differences = []
    paths = sorted(set(recorded) | set(rebuilt))
    for path in paths:
        if recorded.get(path) != rebuilt.get(path):
            expected, actual = recorded.get(path), rebuilt.get(path)
            differences.append(
                {
                    "path": path,
                    "expected": {"sha256": expected[0], "size": expected[1]} if expected else None,
                    "actual": {"sha256": actual[0], "size": actual[1]} if actual else None,
                }
            )
    return differences, len(paths)


REPRODUCE_TASK = task_names.RELEASE_REPRODUCE


def reproduction_progress_key(reproduction_id: int) -> str:
    return f"exports:reproduction-progress:{reproduction_id}"


def reproduction_summary(reproduction) -> dict[str, Any]:
    """A reproduction as the API, the page and the feed show it (progress while it runs)."""
    state = {}
    if reproduction.status in ("queued", "running"):
        state = cache.get(reproduction_progress_key(reproduction.id)) or {}
    return {
        "id": reproduction.id,
        "release_id": reproduction.release_id,
        "number": reproduction.release.number,
        "status": reproduction.status,
        "identical": reproduction.identical,
        "files": reproduction.files,
        "differences": reproduction.differences,
        "error": reproduction.error,
        "created_at": reproduction.created_at.isoformat(),
        "finished_at": reproduction.finished_at.isoformat() if reproduction.finished_at else None,
        "progress": {
            "records_done": state.get("records_done", 0),
            "records_total": state.get("records_total", 0),
        },
    }


def release_reproduce_request(*, release: Release, actor):
    """Ask the worker to rebuild a published release and compare it with what was published
    (through the outbox, like builds). While one is queued or running for the release, that one is
    returned instead of starting another. 409 `release_not_published` for a release not published."""
    from .models import ReleaseReproduction

    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        _require_published(release)
        pending = (
            ReleaseReproduction.objects.filter(release=release, status__in=["queued", "running"])
            .order_by("-id")
            .first()
        )
        if pending is not None:
            return pending
        reproduction = ReleaseReproduction.objects.create(release=release, requested_by=actor)
        audit_record(
            actor=actor,
            organisation_id=release.project.organisation_id,
            project_id=release.project_id,
            action="release.reproduce_requested",
            target=release,
            changes={"reproduction": reproduction.id},
        )
        outbox_enqueue(task_name=REPRODUCE_TASK, kwargs={"reproduction_id": reproduction.id})
    return reproduction


def release_reproduce_run(*, reproduction_id: int):
    """The worker's part: rebuild into a temporary directory (deleted afterwards), compare, store
    the result (`identical`, `differences`) and announce `release.reproduced` on the project feed.
    Idempotent: a reproduction that is not queued (a second delivery) is left as it is."""
    from .models import ReleaseReproduction

    with transaction.atomic():
        reproduction = (
            ReleaseReproduction.objects.select_for_update()
            .select_related("release", "release__project", "release__project__organisation")
            .filter(pk=reproduction_id)
            .first()
        )
        if reproduction is None or reproduction.status != ReleaseReproduction.Status.QUEUED:
            return reproduction
        reproduction.status = ReleaseReproduction.Status.RUNNING
        reproduction.started_at = timezone.now()
        reproduction.save(update_fields=["status", "started_at"])
    release = reproduction.release
    key = reproduction_progress_key(reproduction.id)
    last = [0.0]

    def report(done: int, total: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - last[0] >= 0.25:
            last[0] = now
            cache.set(key, {"records_done": done, "records_total": total}, timeout=3600)

    directory = Path(tempfile.mkdtemp(prefix="tessera-reproduce-"))
    try:
        differences, files = _reproduce_differences(release, directory, report)
    except Exception as error:
        logger.exception("reproduction %s failed", reproduction.id)
        reproduction.status = ReleaseReproduction.Status.FAILED
        reason = str(error) if isinstance(error, BuildProblem) else type(error).__name__
        reproduction.error = f"The rebuild failed ({reason})."[:1000]
    else:
        reproduction.status = ReleaseReproduction.Status.DONE
        reproduction.identical = not differences
        reproduction.differences = differences
        reproduction.files = files
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        cache.delete(key)
    reproduction.finished_at = timezone.now()
    with transaction.atomic():
        reproduction.save(
            update_fields=["status", "identical", "differences", "files", "error", "finished_at"]
        )
        broadcast_on_commit(
            project_group(release.project_id), "release.reproduced", reproduction_summary(reproduction)
        )
    return reproduction


def _require_published(release: Release) -> None:
    if release.status != Release.Status.PUBLISHED:
        raise DomainError("release_not_published", "This release is not published.", status_code=409)


def release_diff(*, old: Release, new: Release, limit: int | None = None) -> dict[str, Any]:
    """What changed from `old` to `new` (two published releases of one project): items added,
    removed and relabelled (old and new labels, and why), and per-label count changes.

    Streams both releases' JSONL files in item-id order (a merge join: memory bounded by `limit`,
    the number of items listed per kind; the counts are always complete)."""
    _require_published(old)
    _require_published(new)
    if old.project_id != new.project_id:
        raise DomainError("not_found", "No such release.", status_code=404)
    limit = settings.EXPORTS_DIFF_MAX_ITEMS if limit is None else limit
    from .display import item_key, labels_text

    schema = LabelSchemaVersion.objects.filter(project_id=new.project_id).order_by("-version").first()
    definition = schema.definition if schema is not None else {}

    def named(row: dict) -> dict:
        return {
            "item_id": row["item_id"],
            "external_id": row["external_id"],
            "key": item_key(row["external_id"], row["lineage"].get("checksum"), row["item_id"]),
        }

    def listed(row: dict) -> dict:
        return {
            **named(row),
            "labels": row["labels"],
            "labels_text": labels_text(definition, row["labels"], row["data"]),
        }

    added, removed, relabelled = [], [], []
    totals = Counter()
    old_rows, new_rows = _jsonl_stream(old), _jsonl_stream(new)
    a, b = next(old_rows, None), next(new_rows, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a["item_id"] < b["item_id"]):
            totals["removed"] += 1
            if len(removed) < limit:
                removed.append(listed(a))
            a = next(old_rows, None)
        elif a is None or b["item_id"] < a["item_id"]:
            totals["added"] += 1
            if len(added) < limit:
                added.append(listed(b))
            b = next(new_rows, None)
        else:
            if a["labels"] != b["labels"]:
                totals["relabelled"] += 1
                if len(relabelled) < limit:
                    controls = sorted(
                        name
                        for name in set(a["labels"]) | set(b["labels"])
                        if a["labels"].get(name) != b["labels"].get(name)
                    )
                    old_text = labels_text(definition, a["labels"], a["data"])
                    new_text = labels_text(definition, b["labels"], b["data"])
                    relabelled.append(
                        {
                            **named(b),
                            "controls": controls,
                            "old": a["labels"],
                            "new": b["labels"],
                            "changes": [
                                {
                                    "control": name,
                                    "old": a["labels"].get(name),
                                    "new": b["labels"].get(name),
                                    "old_text": old_text.get(name, "(not answered)"),
                                    "new_text": new_text.get(name, "(not answered)"),
                                }
                                for name in controls
                            ],
                            "reasons": _reasons(a["lineage"], b["lineage"]),
                        }
                    )
            else:
                totals["unchanged"] += 1
            a, b = next(old_rows, None), next(new_rows, None)
    return {
        "old": old.number,
        "new": new.number,
        "totals": {key: totals[key] for key in ("added", "removed", "relabelled", "unchanged")},
        "added": added,
        "removed": removed,
        "relabelled": relabelled,
        "truncated": any(totals[k] > limit for k in ("added", "removed", "relabelled")),
        "label_counts": _label_count_changes(old.manifest, new.manifest),
    }


def _reasons(old: dict, new: dict) -> list[str]:
    reasons = []
    if old.get("schema_version") != new.get("schema_version"):
        reasons.append("label schema changed (migration)")
    if old.get("aggregation") != new.get("aggregation"):
        reasons.append("consensus method changed")
    if old.get("annotation_ids") != new.get("annotation_ids"):
        reasons.append("annotations added or removed")
    if old.get("review") != new.get("review"):
        reasons.append("review decision changed")
    if old.get("guideline_version") != new.get("guideline_version"):
        reasons.append("guidelines changed")
    return reasons or ["annotations revised or consensus recomputed"]


def _label_count_changes(old: dict, new: dict) -> dict[str, dict[str, dict[str, int]]]:
    before = (old.get("counts") or {}).get("labels", {})
    after = (new.get("counts") or {}).get("labels", {})
    out: dict[str, dict[str, dict[str, int]]] = {}
    for control in sorted(set(before) | set(after)):
        b, a = before.get(control, {}), after.get(control, {})
        changes = {
            label: {
                "old": b.get(label, 0),
                "new": a.get(label, 0),
                "change": a.get(label, 0) - b.get(label, 0),
            }
            for label in sorted(set(b) | set(a))
            if b.get(label, 0) != a.get(label, 0)
        }
        if changes:
            out[control] = changes
    return out


def _jsonl_stream(release: Release) -> Iterator[dict]:
    """The release's JSONL records in item-id order: a heap merge of its per-split files."""
    import heapq

    import orjson

    paths = [f["path"] for f in release.manifest["files"] if re.match(r"^jsonl/[^/]+\.jsonl$", f["path"])]

    def lines(path: str) -> Iterator[tuple[int, dict]]:
        with default_storage.open(f"{release.storage_prefix}{path}", "rb") as handle:
            for line in handle:
                row = orjson.loads(line)
                yield (
                    row["item_id"],
                    {
                        "item_id": row["item_id"],
                        "external_id": row.get("external_id"),
                        "data": row.get("data") or {},
                        "labels": row["labels"],
                        "lineage": row["lineage"],
                    },
                )

    for _, row in heapq.merge(*(lines(p) for p in paths), key=lambda pair: pair[0]):
        yield row
