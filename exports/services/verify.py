"""Verifying a published release: its stored files re-hashed against the signed manifest."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage

from exports.manifest import (
    MANIFEST_NAME,
    FileEntry,
    key_id,
    manifest_bytes,
    sha256_stream,
    verify_release,
)
from exports.models import Release

from .common import require_published
from .signing import signing_key
from .storage import storage_list_prefix


def release_verify(*, release: Release) -> dict[str, Any]:
    """Re-hash the stored files of a published release and check the stored manifest's signature
    against the server key. Problems name each file: "changed: P", "missing: P", "extra: P", and
    "changed: manifest.json" when the stored manifest differs from the one recorded at publication.
    Read-only; safe to call any time."""
    require_published(release)
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
