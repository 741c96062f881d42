"""Keyed hashes a tombstone keeps instead of content: HMAC-SHA-256 under a key derived from the
server's SECRET_KEY, so a hash cannot be reversed by hashing guesses without the server."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def _key(purpose: str) -> bytes:
    return hashlib.sha256(f"tessera-erasure:{purpose}:{settings.SECRET_KEY}".encode()).digest()


def keyed_hash(purpose: str, project_id: int, value: str) -> str:
    return hmac.new(_key(purpose), f"{project_id}:{value}".encode(), hashlib.sha256).hexdigest()


def content_key(project_id: int, content_hash: str) -> str:
    """Blocks importing the same content again into the project (annotation import checks it)."""
    return keyed_hash("content", project_id, content_hash)


def external_id_hash(project_id: int, external_id: str) -> str:
    return keyed_hash("external-id", project_id, external_id)


def subject_value_hash(project_id: int, key: str, value: str) -> str:
    return keyed_hash("subject", project_id, f"{key}={value}")
