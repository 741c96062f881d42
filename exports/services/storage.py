"""Where releases live: prefixes in default_storage (local disk or S3), and the build's write target."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage

from exports.manifest import (
    DirectoryOutput,
)

from .common import BuildProblem


def is_local(storage) -> bool:
    return isinstance(storage, FileSystemStorage)


def is_remote_storage() -> bool:
    """Whether default_storage is not the local disk (S3): downloads are then presigned redirects."""
    return not is_local(default_storage)


def storage_delete_prefix(prefix: str) -> None:
    """Delete every file under `prefix` in default_storage (idempotent)."""
    if not prefix:
        return
    if is_local(default_storage):
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


class Target:
    """Where a build writes: straight into the prefix on local disk; a temporary directory uploaded
    file by file (streamed, multipart) to other storages. Media files never touch the temporary
    directory on remote storage: they are streamed into the prefix as they are copied
    (`remote_names`), so a release of a terabyte of images needs no such disk on the worker."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.remote_names: set[str] = set()
        self.local = is_local(default_storage)
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


def storage_save(name: str, content) -> None:
    saved = default_storage.save(name, File(content, name=name.rsplit("/", 1)[-1]))
    if saved != name:  # a fresh attempt prefix is empty; a renamed file would not be the release's
        default_storage.delete(saved)
        raise BuildProblem(f"storage renamed {name} to {saved}; nothing was published")


def storage_copy(source: str, name: str) -> None:
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
        storage_save(name, handle)
