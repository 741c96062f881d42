"""The media of released items: referenced, or copied into the release (from storage or a bucket
source), hashed as they stream."""

from __future__ import annotations

import hashlib
import io
import shutil
from math import isfinite
from typing import Any

from django.core.files.storage import default_storage

from exports.manifest import (
    DirectoryOutput,
    FileEntry,
)
from exports.models import Release
from exports.records import (
    Media,
    file_suffix,
)

from .common import BuildProblem
from .storage import Target, storage_copy, storage_save


class ReleaseMedia:
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

    def __init__(self, release: Release, output: DirectoryOutput, target: Target | None = None):
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
        storage_copy(f"{self.remote.prefix}{media.path}", f"{self.remote.prefix}{name}")
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
                    storage_save(f"{self.remote.prefix}{path}", sink)
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
            storage_save(f"{self.remote.prefix}{path}", sink)
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


def _positive(data: Any, key: str, kind: type) -> Any:
    value = data.get(key) if type(data) is dict else None
    if type(value) is bool or not isinstance(value, int | float) or not isfinite(value) or value <= 0:
        return None
    if kind is int:
        return value if type(value) is int else None
    return float(value)


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
