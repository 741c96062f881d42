"""The server's Ed25519 release signing key."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from exports.manifest import (
    generate_private_key,
    key_id,
    private_key_from_pem,
    public_key_pem,
)


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
