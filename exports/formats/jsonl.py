"""JSONL, the native format: everything Tessera knows about each record, one canonical JSON object per line.

Files: ``jsonl/<split>.jsonl`` (``train``, ``validation``, ``test``, or ``unsplit``). Each line:

    {"agreement": {control: number|null}, "annotations": [...] (only with include_raw),
     "confidence": {control: number|null}, "data": {...}, "external_id": str|null, "item_id": int,
     "labels": {control: answer}, "lineage": {...}, "media": {...}|null, "schema_version": int,
     "split": str|null}

Lines are in item-id order within each file; keys sorted; ``\\n`` line ends; UTF-8.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from exports.canonical import canonical_line
from exports.formats.base import LazyFiles, OpenFile, PlaceMedia
from exports.records import ExportContext, ExportRecord


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


class JsonlFormat:
    name = "jsonl"
    title = "JSON Lines (native, everything)"
    control_types: frozenset[str] = frozenset()

    def applicable(self, schema: Mapping[str, Any]) -> bool:
        return True

    def write(
        self,
        records: Iterable[ExportRecord],
        ctx: ExportContext,
        open_file: OpenFile,
        place_media: PlaceMedia | None = None,
    ) -> list[str]:
        include_raw = ctx.include_raw
        with LazyFiles(open_file) as files:
            for record in records:
                files.write(
                    f"jsonl/{record.split_name}.jsonl", canonical_line(record_dict(record, include_raw))
                )
        return files.names()


FORMAT = JsonlFormat()
