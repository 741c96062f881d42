"""ExportFormat, what every format is, and the small helpers every writer shares.

A format is one module with one `ExportFormat` (`FORMAT`), which states only what differs:

    name           registry key and the release sub-folder every file of the format lives under
    title          human-readable name for pages
    write(records, ctx, open_file, place_media=None) -> list[str]   relative names written, sorted
    control_types  the control types it exports (empty: all of them); `applicable(schema)` follows
                   from it: whether a schema has something this format can carry

`open_file(relative_name)` returns a binary writable file object; the writer closes it. Names are
POSIX relative paths under ``<name>/`` built only from fixed strings, split names, control names
(identifiers by the schema rules) and item ids: never from item data or label values, so nothing a
user typed can become a path. `place_media(media, relative_name)` (optional) asks the build to put a
copy of the item's media file at `relative_name` in the release, for layouts that need images next to
their labels (YOLO, Pascal VOC); without it those writers only write labels.

Writers stream: they consume `records` once, write incrementally, and keep at most a fixed-size buffer.
The output is a pure function of (records, ctx): fixed writer options, no timestamps, no host names.
When a writer raises, its files are incomplete (COCO and Parquet files then lack their closing part, so
they cannot pass for a complete file); the build discards the whole release directory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from exports.records import ExportContext, ExportRecord, Media

OpenFile = Callable[[str], BinaryIO]
PlaceMedia = Callable[[Media, str], None]

_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class Writer(Protocol):
    def __call__(
        self,
        records: Iterable[ExportRecord],
        ctx: ExportContext,
        open_file: OpenFile,
        place_media: PlaceMedia | None = None,
    ) -> list[str]: ...


@dataclass(eq=False)
class ExportFormat:
    name: str
    title: str
    write: Writer
    control_types: frozenset[str] = frozenset()

    def applicable(self, schema: Mapping[str, Any]) -> bool:
        return not self.control_types or has_controls(schema, self.control_types)


def has_controls(schema: Mapping[str, Any], types: Iterable[str]) -> bool:
    wanted = set(types)
    return any(control.get("type") in wanted for control in schema.get("controls", []))


def safe_segment(value: str) -> str:
    """`value` if it is a safe single path segment, else ValueError (a bug: callers pass identifiers)."""
    if not _SAFE_SEGMENT.match(value) or value in {".", ".."}:
        raise ValueError(f"unsafe path segment: {value!r}")
    return value


def join(*segments: str) -> str:
    return "/".join(safe_segment(segment) for segment in segments)


class LazyFiles:
    """Files opened on first use (one per split, usually) and closed together; writes are buffered.

    Lines are collected per file and flushed every `flush_every` lines, which keeps memory bounded and
    the number of write calls low. Use as a context manager.
    """

    def __init__(self, open_file: OpenFile, header: Callable[[str], bytes] | None = None, flush_every=2000):
        self._open_file = open_file
        self._header = header
        self._flush_every = flush_every
        self._files: dict[str, BinaryIO] = {}
        self._buffers: dict[str, list[bytes]] = {}

    def write(self, name: str, chunk: bytes) -> None:
        buffer = self._buffers.get(name)
        if buffer is None:
            handle = self._open_file(join(*name.split("/")))
            self._files[name] = handle
            buffer = self._buffers[name] = []
            if self._header is not None:
                buffer.append(self._header(name))
        buffer.append(chunk)
        if len(buffer) >= self._flush_every:
            self._files[name].write(b"".join(buffer))
            buffer.clear()

    def handle(self, name: str) -> BinaryIO:
        """The open file for `name` after flushing its buffer (for writers that add a footer)."""
        self._flush(name)
        return self._files[name]

    def names(self) -> list[str]:
        return sorted(self._files)

    def _flush(self, name: str) -> None:
        buffer = self._buffers[name]
        if buffer:
            self._files[name].write(b"".join(buffer))
            buffer.clear()

    def close(self) -> None:
        for name in list(self._files):
            self._flush(name)
            self._files[name].close()

    def __enter__(self) -> LazyFiles:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def candidate_ids(candidates: Any) -> list:
    """Ids of an item's candidates: an object's "id", otherwise its 0-based position (as the schema)."""
    if not isinstance(candidates, list):
        return []
    return [
        c["id"] if isinstance(c, dict) and isinstance(c.get("id"), str | int) else i
        for i, c in enumerate(candidates)
    ]


def candidate_text(candidate: Any) -> Any:
    """What a candidate says: a string as is; an object's "text" or "content"; otherwise the object."""
    if isinstance(candidate, dict):
        for key in ("text", "content"):
            if key in candidate:
                return candidate[key]
    return candidate


def prompt_of(record: ExportRecord, ctx: ExportContext, candidates_field: str) -> Any:
    """The prompt for candidates: the text or conversation field named "prompt", otherwise the first
    text or conversation field of the schema (candidates excluded)."""
    fields = [
        f for f in ctx.fields_of_type("text", "rich_text", "conversation") if f["name"] != candidates_field
    ]
    fields.sort(key=lambda f: f["name"] != "prompt")  # stable: "prompt" first, then schema order
    return record.data.get(fields[0].get("source") or fields[0]["name"]) if fields else None


def split_file_name(split: str, *, short: bool = False) -> str:
    """Split as used in file names; `short` gives the detection-tool names (``val``)."""
    return "val" if short and split == "validation" else split
