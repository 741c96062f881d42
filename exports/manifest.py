"""manifest.json: what a release contains, where it came from, and a signature that proves both.

Pure: no Django, no clock. The build writes the data files (and croissant.json, DATASHEET.md) through
`DirectoryOutput`, which hashes while writing, then calls

    manifest = sign_manifest(build_manifest(facts, output.entries()), private_key)
    (root / MANIFEST_NAME).write_bytes(manifest_bytes(manifest))

and a downloader checks a copy with `verify_release(root, manifest, public_key)` (or
``python -m exports.verify DIR --public-key key.pem``).

File list: every file of the release except manifest.json itself, as ``{"path", "sha256", "bytes"}``,
sorted by the UTF-8 bytes of the path. Paths are relative POSIX paths.

Merkle root (hex SHA-256), RFC 6962-style domain separation so a leaf can never pass for a node:

    leaf(path, digest) = SHA256(0x00 || utf8(path) || 0x00 || digest)   (digest = 32 raw bytes)
    node(left, right)  = SHA256(0x01 || left || right)
    level 0 = leaves in file-list order; each next level pairs neighbours left to right, and an odd
    last node is carried up unchanged (never duplicated); the root is the single node left.
    No files: SHA256(b"") .

Signature: Ed25519 (RFC 8032, deterministic) over ``canonical_bytes(manifest without "signature")``
(exports.canonical: sorted keys, no spaces, UTF-8). ``manifest["signature"]`` is
``{"algorithm": "Ed25519", "key_id": first 16 hex digits of SHA256(raw public key),
"public_key": base64 raw 32 bytes, "value": base64 64-byte signature}``. The embedded public key is a
convenience: trust comes from comparing it (or key_id) with the key the server publishes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exports.canonical import canonical_bytes
from exports.facts import ReleaseFacts

MANIFEST_NAME = "manifest.json"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MANIFEST_VERSION = 1
CHUNK = 1 << 20


@dataclass(frozen=True, order=True)
class FileEntry:
    path: str
    sha256: str  # hex
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "bytes": self.bytes}


# ---------------------------------------------------------------------------------------------
# Hashing


def sha256_stream(stream: BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def sha256_file(path: Path) -> tuple[str, int]:
    """(hex SHA-256, size in bytes) of a file, read in 1 MiB chunks."""
    with path.open("rb") as stream:
        return sha256_stream(stream)


def check_relative_path(name: str) -> str:
    """`name` if it is a clean relative POSIX path inside the release, else ValueError."""
    pure = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or "\x00" in name
        or pure.is_absolute()
        or any(part in {"", ".", ".."} for part in name.split("/"))
    ):
        raise ValueError(f"not a clean relative path: {name!r}")
    return name


class _HashingFile:
    """A binary file that hashes what is written and reports (path, sha256, size) on close."""

    def __init__(self, path: Path, name: str, done):
        self._file = path.open("xb")
        self._name, self._done = name, done
        self._digest, self._size = hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        self._size += len(data)
        return self._file.write(data)

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._size

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
            self._done(FileEntry(self._name, self._digest.hexdigest(), self._size))

    @property
    def closed(self) -> bool:
        return self._file.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class DirectoryOutput:
    """`open_file` for writers: files under `root`, created exclusively (a name is written once), hashed."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._entries: dict[str, FileEntry] = {}
        self._folders: set[str] = set()  # folders made and checked to be inside the root

    def _target(self, name: str) -> Path:
        """The path of `name` under the root, its folder made; ValueError when it would leave the
        root (a symbolic link). Folders are checked once: a release has few folders, many files."""
        path = self.root.joinpath(*name.split("/"))
        folder = name.rpartition("/")[0]
        if folder not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.parent.resolve().is_relative_to(self.root.resolve()):
                raise ValueError(f"{name!r} leaves the release directory")
            self._folders.add(folder)
        return path  # the file itself is created exclusively: an existing name or link is refused

    def __call__(self, name: str) -> BinaryIO:
        check_relative_path(name)
        if name == MANIFEST_NAME or name in self._entries:
            raise ValueError(f"{name!r} is written twice")
        return _HashingFile(self._target(name), name, self._record)  # type: ignore[return-value]

    def _record(self, entry: FileEntry) -> None:
        self._entries[entry.path] = entry

    def entry(self, name: str) -> FileEntry | None:
        """The listed file `name`, if written."""
        return self._entries.get(name)

    def add_entry(self, entry: FileEntry) -> FileEntry:
        """List a file written elsewhere (streamed straight to remote storage), as hashed there."""
        check_relative_path(entry.path)
        if entry.path == MANIFEST_NAME or entry.path in self._entries:
            raise ValueError(f"{entry.path!r} is written twice")
        self._entries[entry.path] = entry
        return entry

    def add_existing(self, name: str) -> FileEntry:
        """Hash a file placed by other means (e.g. copied media) and include it in the list."""
        check_relative_path(name)
        digest, size = sha256_file(self.root.joinpath(*name.split("/")))
        self._entries[name] = entry = FileEntry(name, digest, size)
        return entry

    def link(self, existing: str, name: str) -> FileEntry:
        """Put a second copy of the written file `existing` at `name` (a hard link where the file
        system allows, else a byte copy) and list it with the same hash, without reading it again."""
        check_relative_path(name)
        found = self._entries.get(existing)
        if found is None:
            raise ValueError(f"{existing!r} has not been written")
        if name == MANIFEST_NAME or name in self._entries:
            raise ValueError(f"{name!r} is written twice")
        source = self.root.joinpath(*existing.split("/"))
        target = self._target(name)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        self._entries[name] = entry = FileEntry(name, found.sha256, found.bytes)
        return entry

    def entries(self) -> list[FileEntry]:
        return sort_entries(self._entries.values())


def sort_entries(entries: Iterable[FileEntry]) -> list[FileEntry]:
    return sorted(entries, key=lambda entry: entry.path.encode("utf-8"))


def scan_directory(root: Path) -> list[FileEntry]:
    """Hash every regular file under `root` except manifest.json (what a downloader has)."""
    found = []
    for directory, _dirs, files in os.walk(root):
        for file_name in files:
            path = Path(directory, file_name)
            name = path.relative_to(root).as_posix()
            if name == MANIFEST_NAME:
                continue
            digest, size = sha256_file(path)
            found.append(FileEntry(name, digest, size))
    return sort_entries(found)


# ---------------------------------------------------------------------------------------------
# Merkle root


def merkle_root(entries: Iterable[FileEntry]) -> str:
    """See the module docstring for the exact construction."""
    level = [
        hashlib.sha256(b"\x00" + entry.path.encode("utf-8") + b"\x00" + bytes.fromhex(entry.sha256)).digest()
        for entry in sort_entries(entries)
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


# ---------------------------------------------------------------------------------------------
# The manifest


def build_manifest(facts: ReleaseFacts, files: Iterable[FileEntry]) -> dict[str, Any]:
    """The unsigned manifest: a pure function of the facts and the file list. A successor release
    (erasure) also carries `supersedes`; other releases do not have the key (their bytes unchanged)."""
    entries = sort_entries(files)
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "project": {
            "name": facts.project_name,
            "slug": facts.project_slug,
            "organisation": facts.organisation,
        },
        "release": {
            "name": facts.release_name,
            "number": facts.release_number,
            "published": facts.published,
            "licence": facts.licence,
            "url": facts.url,
            "languages": list(facts.languages),
            "intended_uses": facts.intended_uses,
            "limitations": facts.limitations,
        },
        "media": dict(facts.media),
        "schema": {
            "version": facts.schema_version,
            "sha256": hashlib.sha256(canonical_bytes(facts.schema)).hexdigest(),
        },
        "guidelines": {"version": facts.guideline_version},
        "consensus": {name: dict(method) for name, method in sorted(facts.consensus.items())},
        "filter": dict(facts.filter),
        "counts": dict(facts.counts),
        "agreement": {name: dict(value) for name, value in sorted(facts.agreement.items())},
        "annotators": {
            "count": len(facts.annotators),
            "annotations": dict(sorted(facts.annotators.items())),
        },
        "sources": [source.as_dict() for source in sorted(facts.sources, key=lambda s: s.name)],
        "synthetic_share": facts.synthetic_share,
        "transformations": [dict(step) for step in facts.transformations],
        **({"personal_data": dict(facts.personal_data)} if facts.personal_data else {}),  # #18
        "formats": sorted(facts.formats),
        "files": [entry.as_dict() for entry in entries],
        "merkle_root": merkle_root(entries),
        **_release_policy(facts),
    }
    if facts.supersedes:
        manifest["supersedes"] = [dict(entry) for entry in facts.supersedes]
    return manifest


def _release_policy(facts: ReleaseFacts) -> dict[str, Any]:
    """The release policy and what it left out, by reason (docs/GOVERNANCE.md); absent in facts that
    carry no policy (releases built before it existed)."""
    if not facts.release_policy:
        return {}
    return {
        "release_policy": {**dict(facts.release_policy), "excluded": dict(sorted(facts.exclusions.items()))}
    }


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The bytes of manifest.json: canonical JSON and a final newline."""
    return canonical_bytes(manifest) + b"\n"


def _signed_payload(manifest: Mapping[str, Any]) -> bytes:
    return canonical_bytes({key: value for key, value in manifest.items() if key != "signature"})


def key_id(public_key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_raw(public_key)).hexdigest()[:16]


def public_raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign_manifest(manifest: Mapping[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """A copy of `manifest` with its Ed25519 signature (deterministic: same manifest, same bytes)."""
    public_key = private_key.public_key()
    signature = private_key.sign(_signed_payload(manifest))
    return {
        **{key: value for key, value in manifest.items() if key != "signature"},
        "signature": {
            "algorithm": "Ed25519",
            "key_id": key_id(public_key),
            "public_key": base64.b64encode(public_raw(public_key)).decode("ascii"),
            "value": base64.b64encode(signature).decode("ascii"),
        },
    }


def verify_signature(manifest: Mapping[str, Any], public_key: Ed25519PublicKey) -> list[str]:
    signature = manifest.get("signature")
    if not isinstance(signature, dict) or signature.get("algorithm") != "Ed25519":
        return ["signature: missing or not Ed25519"]
    if signature.get("key_id") != key_id(public_key):
        return [f"signature: made with key {signature.get('key_id')!r}, not {key_id(public_key)!r}"]
    try:
        public_key.verify(
            base64.b64decode(signature.get("value", ""), validate=True), _signed_payload(manifest)
        )
    except (InvalidSignature, ValueError):
        return ["signature: does not verify (manifest.json was changed or signed with another key)"]
    return []


def verify_release(
    files: Path | Iterable[FileEntry], manifest: Mapping[str, Any], public_key: Ed25519PublicKey
) -> list[str]:
    """Every problem with a downloaded release; [] when it is intact and signed by `public_key`.

    `files` is the release directory (hashed here) or the entries already hashed. Problems name each
    file: "missing: P", "changed: P", "extra: P", plus signature and Merkle-root problems.
    """
    problems = verify_signature(manifest, public_key)
    try:
        listed_entries = _listed_entries(manifest)
    except (KeyError, TypeError, ValueError):
        return [*problems, "files: the manifest's file list is malformed"]
    if merkle_root(listed_entries) != manifest.get("merkle_root"):
        problems.append("merkle_root: does not match the manifest's file list")
    actual = {entry.path: entry for entry in (scan_directory(files) if isinstance(files, Path) else files)}
    listed = {entry.path: entry for entry in listed_entries}
    for path in sorted(set(listed) | set(actual), key=lambda p: p.encode("utf-8")):
        if path not in actual:
            problems.append(f"missing: {path}")
        elif path not in listed:
            problems.append(f"extra: {path}")
        elif (actual[path].sha256, actual[path].bytes) != (listed[path].sha256, listed[path].bytes):
            problems.append(f"changed: {path}")
    return problems


def _listed_entries(manifest: Mapping[str, Any]) -> list[FileEntry]:
    entries = [
        FileEntry(str(item["path"]), str(item["sha256"]), int(item["bytes"])) for item in manifest["files"]
    ]
    if not all(_HEX64.match(entry.sha256) for entry in entries):
        raise ValueError("a sha256 is not 64 lower-case hex digits")
    return entries


# ---------------------------------------------------------------------------------------------
# Keys


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_from_pem(data: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the release signing key must be an Ed25519 key")
    return key


def public_key_from_pem(data: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the release verification key must be an Ed25519 key")
    return key


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
