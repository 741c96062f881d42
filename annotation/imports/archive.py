"""ZIP archives of media files, with an optional manifest. No Django imports.

`Archive(file, limits)` reads the central directory and refuses the whole archive (`FileError`)
before anything is extracted when:

- a member's name is absolute ("/etc/x", "C:/x", "\\\\server\\x"), has a ".." part, a backslash
  or a NUL (zip slip: nothing is ever written under a member's name, but such an archive is
  crafted or broken, and refusing it is clearer than guessing);
- it holds more than `max_members` entries, a member declares more than `max_member_bytes`, all
  members together more than `max_total_bytes`, or a member larger than RATIO_MIN_BYTES expands
  more than `max_ratio` times (zip bombs);
- a member is encrypted or uses a compression other than stored/deflate;
- it holds several candidate manifests, or nothing to import.

Extraction (`read_records`) streams one member at a time into a temporary file (outside the
storage root) and counts the bytes that actually come out: more than the member declared, or
than any limit, stops the import with `FileError` (a lying header).

The manifest is manifest.json / .jsonl / .ndjson / .csv / .tsv at the archive root or, without
one, the archive's only JSON/JSONL/CSV/TSV file. It is parsed like an uploaded item file
(formats.parse). Each record names a member under "file" (or "image", "audio", "video": then the
member must be of that media type); its other fields, meta, id and provenance go to the item. A
record whose "image"/"audio"/"video" is a URL is a media reference, as in any item file. Members
no record names become items on their own. Junk that zip tools add (directories, "__MACOSX/",
dot files such as ".DS_Store", "Thumbs.db") is skipped.

Line numbers: manifest records keep their manifest line; the members imported on their own are
numbered on after the manifest's last line, in archive order (every error names the member).
"""

import io
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from . import formats, media
from .records import FileError, MediaFile, Record, RowError

MANIFEST_NAMES = ("manifest.json", "manifest.jsonl", "manifest.ndjson", "manifest.csv", "manifest.tsv")
MANIFEST_EXTENSIONS = (".json", ".jsonl", ".ndjson", ".csv", ".tsv")
REFERENCE_FIELDS = ("file", *media.REFERENCE_KEYS)  # how a manifest record names its member
RATIO_MIN_BYTES = 1024 * 1024  # smaller members may compress as well as they like
COPY_CHUNK = 1024 * 1024  # bytes extracted at a time
_JUNK_NAMES = frozenset({"thumbs.db", "desktop.ini"})
_COMPRESSIONS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})

# store(path in the archive, the extracted file at position 0, what inspect found) -> storage name
Store = Callable[[str, BinaryIO, media.Inspected], str]


@dataclass(frozen=True)
class ArchiveLimits:
    max_members: int
    max_total_bytes: int  # uncompressed, all members
    max_member_bytes: int  # uncompressed, one member
    max_ratio: int  # uncompressed / compressed size of one member


class Archive:
    """A checked ZIP archive: its importable members, in archive order, and its manifest if any."""

    def __init__(self, file: BinaryIO, limits: ArchiveLimits):
        self.limits = limits
        try:
            self.zip = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
            raise FileError("bad_archive", f"The file is not a readable ZIP archive ({error}).") from None
        entries = self.zip.infolist()
        if len(entries) > limits.max_members:
            raise FileError(
                "archive_too_large",
                f"The archive holds {len(entries):,} entries; the limit is {limits.max_members:,}.",
            )
        self.by_name: dict[str, zipfile.ZipInfo] = {}
        files: list[zipfile.ZipInfo] = []
        total = 0
        for info in entries:
            name = info.filename
            _check_name(name)
            if name in self.by_name:
                raise FileError("bad_archive", f'The archive holds "{name}" twice.')
            self.by_name[name] = info
            if info.is_dir():
                continue
            _check_member(info, limits)
            total += info.file_size
            if total > limits.max_total_bytes:
                raise FileError(
                    "archive_too_large",
                    f"The archive expands to more than {limits.max_total_bytes:,} bytes, the limit.",
                )
            if not _is_junk(name):
                files.append(info)
        self.manifest = _find_manifest(files)
        self.members = [info for info in files if info is not self.manifest]
        if not self.members and self.manifest is None:
            raise FileError("empty_archive", "The archive holds no files to import.")
        self.extracted = 0  # bytes that came out of the archive so far

    def open(self, info: zipfile.ZipInfo) -> "_MemberReader":
        """A binary stream of one member that stops the import as soon as it outgrows a limit."""
        return _MemberReader(self, info)

    def close(self) -> None:
        self.zip.close()


def read_records(
    archive: Archive,
    *,
    archive_name: str,
    store: Store,
    limits: media.MediaLimits,
    max_record_bytes: int,
) -> Iterator[Record | RowError]:
    """Records (with their media stored through `store`) and row errors, manifest records first.

    Raises FileError when the archive breaks a limit while extracting, or the manifest cannot be read.
    """
    referenced: set[str] = set()
    last_line = 0
    if archive.manifest is not None:
        for parsed in _manifest(archive, archive.manifest, max_record_bytes):
            last_line = max(last_line, parsed.line)
            if isinstance(parsed, RowError):
                yield parsed
            else:
                yield _manifest_record(parsed, archive, archive_name, store, limits, referenced)
    for position, info in enumerate(
        (info for info in archive.members if info.filename not in referenced), start=1
    ):
        line = last_line + position
        result = _extract(archive, info, archive_name, store, limits)
        if isinstance(result, str):
            yield RowError(line, "file", result)
        else:
            stored, inspected = result
            yield Record(line, media.media_data(info.filename, inspected), media=stored)


def member_name(path: str) -> str:
    """A manifest's path as the archive names it: "./a/b.png" and "a//b.png" are "a/b.png"."""
    return "/".join(part for part in path.strip().split("/") if part not in ("", "."))


# --- Records ----------------------------------------------------------------------------------------


def _manifest(archive: Archive, info: zipfile.ZipInfo, max_record_bytes: int) -> Iterator[Record | RowError]:
    """The manifest's records, parsed as a stream like an uploaded item file."""
    with archive.open(info) as raw:
        stream = io.BufferedReader(raw, buffer_size=256 * 1024)
        try:
            fmt = formats.detect_format(info.filename, stream.peek(64 * 1024)[: 64 * 1024])
            yield from formats.parse(stream, fmt, max_record_bytes=max_record_bytes)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise FileError(
                "bad_archive", f'The manifest "{info.filename}" cannot be extracted ({error}).'
            ) from None


def _manifest_record(
    record: Record,
    archive: Archive,
    archive_name: str,
    store: Store,
    limits: media.MediaLimits,
    referenced: set[str],
) -> Record | RowError:
    line = record.line
    keys = [key for key in REFERENCE_FIELDS if key in record.data]
    if not keys:
        return RowError(line, "file", 'names no file: give "file" (or "image", "audio", "video")')
    if len(keys) > 1:
        return RowError(line, keys[1], f"give one of {', '.join(keys)}, not several")
    key = keys[0]
    value = record.data[key]
    if type(value) is not str or not value.strip():
        return RowError(line, key, "must be the path of a file in the archive")
    if media.is_url(value):
        if key == "file":
            return RowError(
                line, key, 'must be a path in the archive (URLs go under "image", "audio", "video")'
            )
        return record  # a media reference: the importer checks it like any other
    name = member_name(value)
    info = archive.by_name.get(name)
    if info is None or info.is_dir() or info is archive.manifest:
        return RowError(line, key, f'"{value}" is not a file in the archive')
    referenced.add(name)
    if key != "file":
        try:
            claimed = media.kind_of(name).media_type
        except media.MediaError as error:
            return RowError(line, key, error.message)
        if claimed != key:
            return RowError(line, key, f'"{value}" is {claimed}, not {key}')
    result = _extract(archive, info, archive_name, store, limits)
    if isinstance(result, str):
        return RowError(line, key, result)
    stored, inspected = result
    extra = {field: item for field, item in record.data.items() if field != key}
    record.data = media.media_data(name, inspected, extra)
    record.media = stored
    return record


def _extract(
    archive: Archive, info: zipfile.ZipInfo, archive_name: str, store: Store, limits: media.MediaLimits
) -> tuple[MediaFile, media.Inspected] | str:
    """Extract, check and store one member: (its MediaFile, what inspect found) or why not."""
    name = info.filename
    try:
        media.kind_of(name)
    except media.MediaError as error:
        return error.message
    with tempfile.TemporaryFile() as scratch:
        try:
            with archive.open(info) as source:
                while chunk := source.read(COPY_CHUNK):
                    scratch.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            return f'"{name}" cannot be extracted ({error})'
        scratch.seek(0)
        try:
            inspected = media.inspect(scratch, name, limits)
        except media.MediaError as error:
            return error.message
        scratch.seek(0)
        stored_name = store(name, scratch, inspected)
    stored = MediaFile(
        name=stored_name,
        media_type=inspected.media_type,
        size=inspected.size,
        sha256=inspected.sha256,
        image_hash=inspected.image_hash,
        source_ref=f"{archive_name}:{name}",
    )
    return stored, inspected


# --- Checks -----------------------------------------------------------------------------------------


def _check_name(name: str) -> None:
    parts = name.split("/")
    unsafe = (
        not name
        or "\x00" in name
        or "\\" in name
        or name.startswith("/")
        or (len(name) > 1 and name[0].isalpha() and name[1] == ":")  # a Windows drive: "C:/..."
        or ".." in parts
    )
    if unsafe:
        raise FileError(
            "unsafe_path",
            f'The archive holds "{name[:200]}", a path that points outside the archive '
            "(absolute, with .. or a backslash). Nothing was imported.",
        )


def _check_member(info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    name = info.filename
    if info.flag_bits & 0x1:
        raise FileError("bad_archive", f'"{name}" is encrypted; upload an archive without a password.')
    if info.compress_type not in _COMPRESSIONS:
        raise FileError("bad_archive", f'"{name}" uses a compression method other than deflate or none.')
    if info.file_size > limits.max_member_bytes:
        raise FileError(
            "archive_member_too_large",
            f'"{name}" expands to {info.file_size:,} bytes; the limit for one file is '
            f"{limits.max_member_bytes:,}.",
        )
    if info.file_size > RATIO_MIN_BYTES and info.file_size > max(info.compress_size, 1) * limits.max_ratio:
        raise FileError(
            "zip_bomb",
            f'"{name}" expands more than {limits.max_ratio} times ({info.compress_size:,} to '
            f"{info.file_size:,} bytes): refused as a decompression bomb.",
        )


def _is_junk(name: str) -> bool:
    path = PurePosixPath(name)
    return name.startswith("__MACOSX/") or path.name.startswith(".") or path.name.lower() in _JUNK_NAMES


def _find_manifest(files: list[zipfile.ZipInfo]) -> zipfile.ZipInfo | None:
    named = [info for info in files if info.filename.lower() in MANIFEST_NAMES]
    if len(named) > 1:
        shown = ", ".join(info.filename for info in named)
        raise FileError("ambiguous_manifest", f"The archive holds several manifests ({shown}); keep one.")
    if named:
        return named[0]
    candidates = [info for info in files if media.extension(info.filename) in MANIFEST_EXTENSIONS]
    if len(candidates) > 1:
        shown = ", ".join(info.filename for info in candidates[:5])
        raise FileError(
            "ambiguous_manifest",
            f"The archive holds several JSON/CSV files ({shown}); name the one that describes the "
            "media manifest.json, manifest.jsonl or manifest.csv.",
        )
    return candidates[0] if candidates else None


class _MemberReader(io.RawIOBase):
    """One member's bytes, counted as they come out: more than declared or allowed stops the import."""

    def __init__(self, archive: Archive, info: zipfile.ZipInfo):
        self._archive = archive
        self._info = info
        self._limits = archive.limits
        self._raw = archive.zip.open(info)
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        size = len(data)
        self._count += size
        self._archive.extracted += size
        info, limits = self._info, self._limits
        if self._count > info.file_size:
            raise FileError(
                "zip_bomb", f'"{info.filename}" holds more than the {info.file_size:,} bytes it declares.'
            )
        if self._count > limits.max_member_bytes or self._archive.extracted > limits.max_total_bytes:
            raise FileError("archive_too_large", f'Extracting "{info.filename}" went past the size limit.')
        if self._count > RATIO_MIN_BYTES and self._count > max(info.compress_size, 1) * limits.max_ratio:
            raise FileError("zip_bomb", f'"{info.filename}" expands more than {limits.max_ratio} times.')
        buffer[:size] = data
        return size

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()
