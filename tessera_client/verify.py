"""Pure verification of a downloaded release: SHA-256 of every file, the Merkle root and the
Ed25519 signature. A copy of the construction in exports/manifest.py (docs/RELEASES.md, "Verifying
a release") that needs only the standard library and `cryptography`, so an ML engineer can verify a
release without installing the server.

- leaf = SHA256(0x00 || utf8(path) || 0x00 || 32-byte digest); node = SHA256(0x01 || left || right);
  leaves in file-list order (sorted by the UTF-8 bytes of the path), an odd last node carried up;
  no files: SHA256(b"").
- signature: Ed25519 over the canonical JSON of the manifest without "signature" (sorted keys, no
  spaces, UTF-8, floats as orjson writes them: shortest round-trip, see `_float`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CHUNK = 1 << 20
MANIFEST_NAME = "manifest.json"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def merkle_root(entries: list[tuple[str, str]]) -> str:
    """Merkle root (hex) over (path, hex sha256) pairs."""
    ordered = sorted(entries, key=lambda entry: entry[0].encode("utf-8"))
    level = [
        hashlib.sha256(b"\x00" + path.encode("utf-8") + b"\x00" + bytes.fromhex(digest)).digest()
        for path, digest in ordered
    ]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        paired = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()


def _float(value: float) -> str:
    """A float as exports.canonical writes it (orjson): Python's shortest repr, except that
    exponents have no leading zero ("1e-7", "1e+16") and 1e-5 <= |x| < 1e-4 is written in full."""
    if not math.isfinite(value):
        raise ValueError(f"not canonical JSON: {value!r}")
    text = repr(value)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = int(exponent)
    if power == -5:
        sign = "-" if mantissa.startswith("-") else ""
        return f"{sign}0.0000{mantissa.lstrip('-').replace('.', '')}"
    return f"{mantissa}e{'+' if power > 0 else '-'}{abs(power)}"


def _encode(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, bool):
        out.append({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        for index, key in enumerate(sorted(value)):
            if not isinstance(key, str):
                raise TypeError("not canonical JSON: keys must be strings")
            if index:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    else:
        raise TypeError(f"not canonical JSON: {type(value).__name__}")


def canonical_bytes(value: Any) -> bytes:
    """Canonical JSON as exports.canonical.canonical_bytes writes it."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def load_public_key(pem: bytes):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the release verification key must be an Ed25519 key")
    return key


def _raw(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verify_signature(manifest: Mapping[str, Any], public_key) -> list[str]:
    from cryptography.exceptions import InvalidSignature

    signature = manifest.get("signature")
    if not isinstance(signature, dict) or signature.get("algorithm") != "Ed25519":
        return ["signature: missing or not Ed25519"]
    expected = key_id(_raw(public_key))
    if signature.get("key_id") != expected:
        return [f"signature: made with key {signature.get('key_id')!r}, not {expected!r}"]
    payload = canonical_bytes({key: value for key, value in manifest.items() if key != "signature"})
    try:
        public_key.verify(base64.b64decode(signature.get("value", ""), validate=True), payload)
    except (InvalidSignature, ValueError):
        return ["signature: does not verify (manifest.json was changed or signed with another key)"]
    return []


def verify_directory(root: Path, manifest: Mapping[str, Any], public_key) -> list[str]:
    """Every problem with the release in `root`: [] when intact and signed by `public_key`.
    "missing: P", "changed: P", "extra: P", "merkle_root: ...", "signature: ..."."""
    problems = verify_signature(manifest, public_key)
    try:
        listed = {str(f["path"]): (str(f["sha256"]), int(f["bytes"])) for f in manifest["files"]}
        if not all(_HEX64.match(digest) for digest, _ in listed.values()):
            raise ValueError
    except (KeyError, TypeError, ValueError):
        return [*problems, "files: the manifest's file list is malformed"]
    if merkle_root([(path, digest) for path, (digest, _) in listed.items()]) != manifest.get("merkle_root"):
        problems.append("merkle_root: does not match the manifest's file list")
    actual = {
        path.relative_to(root).as_posix(): sha256_file(path)
        for path in root.rglob("*")
        if path.is_file() and path != root / MANIFEST_NAME
    }
    for path in sorted(set(listed) | set(actual), key=lambda p: p.encode("utf-8")):
        if path not in actual:
            problems.append(f"missing: {path}")
        elif path not in listed:
            problems.append(f"extra: {path}")
        elif actual[path] != listed[path]:
            problems.append(f"changed: {path}")
    return problems
