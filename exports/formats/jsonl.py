"""JSONL, the native format: everything Tessera knows about each record, one canonical JSON object per line.

Files: ``jsonl/<split>.jsonl`` (``train``, ``validation``, ``test``, or ``unsplit``). Each line:

    {"agreement": {control: number|null}, "annotations": [...] (only with include_raw),
     "confidence": {control: number|null}, "data": {...}, "external_id": str|null, "item_id": int,
     "labels": {control: answer}, "lineage": {...}, "media": {...}|null, "schema_version": int,
     "split": str|null}

Lines are in item-id order within each file; keys sorted; ``\\n`` line ends; UTF-8.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from exports.canonical import canonical_line_checked, check_finite
from exports.formats.base import ExportFormat, LazyFiles, OpenFile, PlaceMedia
from exports.records import UNSPLIT, ExportContext, ExportRecord

_BATCH = 2000  # lines per split joined and written at once (bounded memory, few calls per record)


def record_dict(record: ExportRecord, include_raw: bool) -> dict[str, Any]:
    """The native JSON object of a record (also the basis of Label Studio's and Croissant's views)."""
    out = {
        "item_id": record.item_id,
        "external_id": record.external_id,
        "split": record.split,
        "data": record.data,
        "media": record.media.as_dict() if record.media is not None else None,
        "schema_version": record.schema_version,
        "labels": record.labels,
        "confidence": record.confidence,
        "agreement": record.agreement,
        "lineage": record.lineage,
    }
    if include_raw:
        out["annotations"] = [annotation.as_dict() for annotation in record.annotations]
    return out


def write(
    records: Iterable[ExportRecord],
    ctx: ExportContext,
    open_file: OpenFile,
    place_media: PlaceMedia | None = None,
) -> list[str]:
    include_raw = ctx.include_raw
    pending: dict[str, list[bytes]] = {}  # split name -> lines not yet handed to `files`
    with LazyFiles(open_file) as files:
        for record in records:
            row = record_dict(record, include_raw)
            # NaN can only hide in the free-form parts: metrics and media are checked when built.
            check_finite(record.data)
            check_finite(
                (record.labels, record.lineage, record.item_id, record.external_id, record.schema_version)
            )
            if include_raw:
                check_finite(row["annotations"])
            split = record.split or UNSPLIT  # one list per file, so lines stay in item order
            lines = pending.get(split)
            if lines is None:
                files.write(f"jsonl/{split}.jsonl", b"")  # opened (and its name checked) now
                lines = pending[split] = []
            lines.append(canonical_line_checked(row))
            if len(lines) >= _BATCH:
                files.handle(f"jsonl/{split}.jsonl").write(b"".join(lines))
                lines.clear()
        for split, lines in pending.items():
            if lines:
                files.handle(f"jsonl/{split}.jsonl").write(b"".join(lines))
    return files.names()


FORMAT = ExportFormat("jsonl", "JSON Lines (native, everything)", write)
