"""CSV: one row per record, one column per control, for spreadsheets and pandas.

Files: ``csv/<split>.csv``, RFC 4180 (``\\r\\n`` row ends, fields quoted when they contain a comma, a
quote or a line break; quotes doubled), UTF-8 without BOM. Columns, in this order:

    item_id, external_id, split, media, label.<control>..., confidence.<control>...,
    agreement.<control>..., data, lineage[, annotations]

Control columns follow schema order and exist for every control, answered or not. Strings (single
choice, image class, text, transcription) are written as they are; numbers as canonical JSON numbers;
every other answer (lists, objects) and ``data``/``lineage``/``annotations`` as canonical JSON. An
unanswered control and an undefined metric are empty cells. Control names cannot contain dots, so
``label.x`` never collides with a fixed column.

Text cells are made safe to open in a spreadsheet (``core.spreadsheet.spreadsheet_safe``): a text
starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a single quote in front, so an
external id ``=HYPERLINK(...)`` arrives as text, not as a live formula (OWASP's CSV injection advice).
Numbers and JSON cells are not touched. JSONL and Parquet carry every value exactly; use them (or strip
one leading ``'`` from such cells) when the exact text matters.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from core.spreadsheet import spreadsheet_safe
from exports.canonical import canonical_dumps
from exports.formats.base import ExportFormat, LazyFiles, OpenFile, PlaceMedia
from exports.records import ExportContext, ExportRecord


def columns(ctx: ExportContext) -> list[str]:
    names = [c["name"] for c in ctx.controls()]
    out = ["item_id", "external_id", "split", "media"]
    out += (
        [f"label.{n}" for n in names] + [f"confidence.{n}" for n in names] + [f"agreement.{n}" for n in names]
    )
    out += ["data", "lineage"]
    if ctx.include_raw:
        out.append("annotations")
    return out


def cell(value: Any) -> str:
    """A value as CSV text: None -> empty, str spreadsheet-safe, everything else canonical JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return canonical_dumps(value)


def write(
    records: Iterable[ExportRecord],
    ctx: ExportContext,
    open_file: OpenFile,
    place_media: PlaceMedia | None = None,
) -> list[str]:
    header = columns(ctx)
    names = [c["name"] for c in ctx.controls()]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)

    def row_bytes(row: list[str]) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        return buffer.getvalue().encode("utf-8")

    header_bytes = row_bytes(header)
    with LazyFiles(open_file, header=lambda _name: header_bytes) as files:
        for record in records:
            row = [
                str(record.item_id),
                cell(record.external_id),
                cell(record.split),
                cell(record.media.path if record.media else None),
            ]
            row += [cell(record.labels.get(n)) for n in names]
            row += [cell(record.confidence.get(n)) for n in names]
            row += [cell(record.agreement.get(n)) for n in names]
            row += [canonical_dumps(record.data), canonical_dumps(record.lineage)]
            if ctx.include_raw:
                row.append(canonical_dumps([a.as_dict() for a in record.annotations]))
            files.write(f"csv/{record.split_name}.csv", row_bytes(row))
    return files.names()


FORMAT = ExportFormat("csv", "CSV (one row per item, a column per control)", write)
