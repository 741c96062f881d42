"""Streaming parsers for uploaded item files. Pure: no Django imports.

`parse(stream, fmt, max_record_bytes=...)` reads a binary stream line by line (jsonl, csv, tsv,
text) or chunk by chunk (json, labelstudio) and yields `Record`s and `RowError`s in file order.
Memory is bounded by `max_record_bytes` plus one read chunk, whatever the size of the file.
`FileError` means the file as a whole cannot be read; it can be raised before the first record or
part-way through, and then the caller discards what it got.

Decisions, in one place:

- Encoding is UTF-8, strictly; a UTF-8 BOM at the very start is dropped. Invalid UTF-8 is reported
  where it can be localised. jsonl, text: a `RowError` for that line ("not valid UTF-8 at byte 5
  of the line"), and later lines still parse. csv, tsv: a `RowError` for the row holding the bad
  line (the bytes are decoded as U+FFFD only so the quote structure stays intact), and later rows
  still parse. json, labelstudio: `FileError("encoding")` with the byte offset, because a JSON
  array cannot be resumed reliably after a hole.
- A record larger than `max_record_bytes` is one `RowError` ("record is N bytes; the limit is M")
  and is skipped without being held in memory: jsonl and text lines are read with a bounded
  `readline` and the rest of an oversized line is drained in small pieces; csv reads 64 KiB
  chunks and drains the same way; an oversized array element is skipped by a scanner that only
  tracks nesting depth and strings. Exceptions: a CSV line over the limit inside a quoted value,
  or a CSV record that outgrows the limit across several lines (usually an unclosed quote), cannot
  be skipped reliably, so it is `FileError("record_too_large")`; an oversized array element whose
  first `max_record_bytes` already hold a syntax error is reported as that syntax error.
- A JSON array element that is not valid JSON yields one `RowError` at its position and parsing
  stops there (the reason says so): there is no reliable place to resume inside an array. The
  results never depend on the chunk size.
- Line numbers are physical lines: jsonl and text end lines at LF (CRLF works; a lone CR does not
  end a line, as in JSON itself); csv and tsv end them where the csv module does (LF, CRLF or a
  lone CR, as old Mac spreadsheets write) and a row's line is the one it starts on.
- Object keys "id"/"external_id" (a string or an integer; an empty string means none), "meta" (an
  object) and the provenance keys "licence"/"license", "consent", "synthetic", "generator" are
  not item data. An object whose "data" is an object is a Label Studio task, in every JSON format.
  Provenance values are passed through raw; `normalise.coerce_provenance` validates them.
- CSV/TSV headers are matched case-insensitively against those reserved names (people type
  headers; programs write JSON keys, which match exactly). "meta.x" and "meta:x" columns become
  meta key "x"; empty meta and provenance cells are left out, data cells are kept as given. TSV
  uses the same quoting rules as CSV (Excel's "tab-delimited" dialect). Rows whose cells are all
  empty are skipped like blank lines.
"""

import json
import re
from collections.abc import Iterator
from typing import BinaryIO

from ..records import FileError, Record, RowError
from .common import _BOM, _JSON_WS, _from_object, _from_task, _raw_decode
from .delimited import _parse_delimited
from .json_array import _parse_array
from .jsonl import _parse_jsonl, _parse_text

FORMATS = ("jsonl", "json", "csv", "tsv", "text", "labelstudio")

DEFAULT_CHUNK_SIZE = 64 * 1024  # bytes read at a time from JSON files
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "text",
}
_TASK_HINT = re.compile(r'"data"\s*:\s*\{')


def detect_format(filename: str, head: bytes) -> str:
    """The format of an upload, from its name and its first bytes (pass at least 64 KiB).

    A .json file holding an array whose first element has a "data" object is "labelstudio"; when
    the first element is longer than `head`, a `"data": {` inside it is taken as the sign. A .json
    file whose first line is a complete JSON object is JSON Lines under the wrong name (common in
    dataset dumps) and is "jsonl".
    """
    dot = filename.rfind(".")
    fmt = _EXTENSIONS.get(filename[dot:].lower()) if dot >= 0 else None
    if fmt is None:
        raise FileError(
            "unknown_format",
            f'Cannot tell the format of "{filename}". '
            "Name the file .jsonl, .ndjson, .json, .csv, .tsv or .txt.",
        )
    if fmt != "json":
        return fmt
    text = head.removeprefix(_BOM).decode("utf-8", "ignore")
    start = _JSON_WS.match(text).end()
    if text.startswith("[", start):
        first = _JSON_WS.match(text, start + 1).end()
        try:
            element, _ = _raw_decode(text, first)
        except (ValueError, RecursionError):
            return "labelstudio" if _TASK_HINT.search(text, first) else "json"
        is_task = type(element) is dict and type(element.get("data")) is dict
        return "labelstudio" if is_task else "json"
    if text.startswith("{", start):
        newline = text.find("\n", start)
        try:
            first_line = json.loads(text[start:] if newline < 0 else text[start:newline])
        except (ValueError, RecursionError):
            return "json"
        return "jsonl" if type(first_line) is dict else "json"
    return "json"


def parse(
    stream: BinaryIO, fmt: str, *, max_record_bytes: int, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[Record | RowError]:
    """Records and row errors from `stream`, in file order. See the module docstring for the rules.

    `chunk_size` is how many bytes the JSON array reader asks for at a time (tests shrink it).
    """
    if fmt == "jsonl":
        return _parse_jsonl(stream, max_record_bytes)
    if fmt == "csv":
        return _parse_delimited(stream, ",", max_record_bytes)
    if fmt == "tsv":
        return _parse_delimited(stream, "\t", max_record_bytes)
    if fmt == "text":
        return _parse_text(stream, max_record_bytes)
    if fmt == "json":
        return _parse_array(stream, max_record_bytes, chunk_size, _from_object)
    if fmt == "labelstudio":
        return _parse_array(stream, max_record_bytes, chunk_size, _from_task)
    raise FileError("unknown_format", f"Unknown import format {fmt!r}; expected one of {', '.join(FORMATS)}.")
