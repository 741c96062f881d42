"""Parquet: the CSV columns with real types, loadable by Hugging Face `datasets` and pandas.

Files: ``parquet/<split>.parquet``, so that ``load_dataset("parquet", data_dir=...)``-style loading
with ``data_files={"train": "parquet/train.parquet", ...}`` gives the release's splits.

Columns: ``item_id`` int64, ``external_id``/``split``/``media`` string, ``media_width``/
``media_height`` int64, ``media_duration`` float64; per control ``label.<control>`` typed by the
answer shape (string for single choice, single image class, text and transcription; list<string>
for multiple choice and multiple image class; float64 for ratings; canonical JSON text for every
structured answer), ``confidence.<control>`` and ``agreement.<control>`` float64; then ``data``,
``lineage`` (and ``annotations`` with raw annotations) as canonical JSON text.

Streaming: rows are buffered per split and written as row groups of ROW_GROUP_SIZE rows. Fixed writer
options (zstd level 3, dictionary encoding, statistics, format 2.6, data page v1, no page index) make
the bytes a function of the rows; the footer's ``created_by`` names the pyarrow version, so
byte-identical rebuilds assume the same pinned pyarrow.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from exports.canonical import canonical_dumps
from exports.formats.base import ExportFormat, OpenFile, PlaceMedia, join
from exports.records import ExportContext, ExportRecord


class _Lazy:
    """pyarrow is imported on first use: the web process loads the format registry (for the API's
    list of formats) and should not pay for pyarrow (~40 MB) unless it writes Parquet."""

    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attribute: str):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)


pa: Any = _Lazy("pyarrow")
pq: Any = _Lazy("pyarrow.parquet")

ROW_GROUP_SIZE = 10_000
WRITER_OPTIONS = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "write_page_index": False,
    "store_schema": True,
}
_STRING_TYPES = {"single_choice", "text", "transcription"}


def label_type(control: Mapping[str, Any]) -> pa.DataType:
    kind = control["type"]
    if kind in _STRING_TYPES or (kind == "image_class" and not control.get("multiple")):
        return pa.string()
    if kind in {"multiple_choice", "image_class"}:
        return pa.list_(pa.string())
    if kind == "rating":
        return pa.float64()
    return pa.string()  # canonical JSON


def label_value(control: Mapping[str, Any], value: Any) -> Any:
    if value is None:
        return None
    kind = label_type(control)
    if kind == pa.string():
        return value if isinstance(value, str) else canonical_dumps(value)
    if kind == pa.float64():
        return float(value)
    return [str(v) for v in value]


def arrow_schema(ctx: ExportContext) -> pa.Schema:
    controls = ctx.controls()
    fields = [
        pa.field("item_id", pa.int64(), nullable=False),
        pa.field("external_id", pa.string()),
        pa.field("split", pa.string()),
        pa.field("media", pa.string()),
        pa.field("media_width", pa.int64()),
        pa.field("media_height", pa.int64()),
        pa.field("media_duration", pa.float64()),
    ]
    fields += [pa.field(f"label.{c['name']}", label_type(c)) for c in controls]
    fields += [pa.field(f"confidence.{c['name']}", pa.float64()) for c in controls]
    fields += [pa.field(f"agreement.{c['name']}", pa.float64()) for c in controls]
    fields += [pa.field("data", pa.string()), pa.field("lineage", pa.string())]
    if ctx.include_raw:
        fields.append(pa.field("annotations", pa.string()))
    metadata = {
        b"tessera": canonical_dumps(
            {"project": ctx.project_slug, "release": ctx.release_number, "format": 1}
        ).encode("utf-8")
    }
    return pa.schema(fields, metadata=metadata)


class _SplitWriter:
    def __init__(self, handle, schema: pa.Schema):
        self.handle = handle
        self.sink = pa.PythonFile(handle, mode="w")
        self.writer = pq.ParquetWriter(self.sink, schema, **WRITER_OPTIONS)
        self.schema = schema
        self.columns: list[list[Any]] = [[] for _ in schema]

    def add(self, row: list[Any]) -> None:
        for column, value in zip(self.columns, row, strict=True):
            column.append(value)
        if len(self.columns[0]) >= ROW_GROUP_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.columns[0]:
            table = pa.Table.from_arrays(
                [
                    pa.array(col, type=field.type)
                    for col, field in zip(self.columns, self.schema, strict=True)
                ],
                schema=self.schema,
            )
            self.writer.write_table(table, row_group_size=ROW_GROUP_SIZE)
            self.columns = [[] for _ in self.schema]

    def abort(self) -> None:
        self.writer.is_open = False  # pyarrow would write the footer when the writer is collected
        self.handle.close()

    def close(self) -> None:
        self.flush()
        self.writer.close()
        self.sink.close()
        self.handle.close()


def write(
    records: Iterable[ExportRecord],
    ctx: ExportContext,
    open_file: OpenFile,
    place_media: PlaceMedia | None = None,
) -> list[str]:
    schema = arrow_schema(ctx)
    controls = ctx.controls()
    writers: dict[str, _SplitWriter] = {}
    try:
        for record in records:
            name = join("parquet", f"{record.split_name}.parquet")
            writer = writers.get(name)
            if writer is None:
                writer = writers[name] = _SplitWriter(open_file(name), schema)
            media = record.media
            row = [
                record.item_id,
                record.external_id,
                record.split,
                media.path if media else None,
                media.width if media else None,
                media.height if media else None,
                media.duration if media else None,
            ]
            row += [label_value(c, record.labels.get(c["name"])) for c in controls]
            row += [record.confidence.get(c["name"]) for c in controls]
            row += [record.agreement.get(c["name"]) for c in controls]
            row += [canonical_dumps(record.data), canonical_dumps(record.lineage)]
            if ctx.include_raw:
                row.append(canonical_dumps([a.as_dict() for a in record.annotations]))
            writer.add(row)
    except BaseException:
        for writer in writers.values():  # no footer: a failed file must not read as a shorter table
            writer.abort()
        raise
    for writer in writers.values():
        writer.close()
    return sorted(writers)


FORMAT = ExportFormat("parquet", "Parquet (Hugging Face datasets, pandas)", write)
