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

import codecs
import csv
import json
import re
from collections.abc import Callable, Generator, Iterator
from typing import Any, BinaryIO

from .records import FileError, Record, RowError

FORMATS = ("jsonl", "json", "csv", "tsv", "text", "labelstudio")

DEFAULT_CHUNK_SIZE = 64 * 1024  # bytes read at a time from JSON files
EXTERNAL_ID_MAX_LENGTH = 255  # Item.external_id

_BOM = b"\xef\xbb\xbf"
_NEWLINE = 10  # b"\n"[0]
_DRAIN_SIZE = 64 * 1024  # bytes read at a time while skipping an oversized line
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "text",
}
_PROVENANCE_KEYS = {  # key in the file -> key in Record.provenance; "licence" wins over "license"
    "licence": "licence",
    "license": "licence",
    "consent": "consent",
    "synthetic": "synthetic",
    "generator": "generator",
}
_ID_KEYS = ("external_id", "id")
_RESERVED = frozenset({*_ID_KEYS, "meta", *_PROVENANCE_KEYS})
_MISSING = object()

_JSON_WS = re.compile(r"[ \t\n\r]*")
_STRUCTURE = re.compile(r'["\[\]{}]')
_STRING_END = re.compile(r'["\\]')
_SCALAR_END = re.compile(r"[ \t\n\r,\]}]")
_CLOSED = (dict, list, str)
_AFTER_SCALAR = frozenset(" \t\n\r,]}")
_LINE_END = re.compile(rb"\r\n|\r|\n")  # where csv ends a line
_CSV_CHUNK = 64 * 1024  # bytes read at a time from CSV files
_TASK_HINT = re.compile(r'"data"\s*:\s*\{')
_DECODER = json.JSONDecoder()
_raw_decode = _DECODER.raw_decode
_scan_once = _DECODER.scan_once  # (text, index) -> (value, end); StopIteration when no value starts there


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


# Line formats ----------------------------------------------------------------------------------


def _parse_jsonl(stream: BinaryIO, max_record_bytes: int) -> Iterator[Record | RowError]:
    readline = stream.readline
    limit = max_record_bytes + 1  # room for the "\n" of a line of exactly max_record_bytes
    scan_once = _scan_once
    line = 0
    while raw := readline(limit):
        line += 1
        if line == 1 and raw.startswith(_BOM):
            raw = raw[3:]
        if len(raw) == limit and raw[-1] != _NEWLINE:
            yield RowError(line, "", _too_large(_drain_line(readline, len(raw)), max_record_bytes))
            continue
        if raw.isspace():
            continue
        try:
            text = raw.decode()
        except UnicodeDecodeError as error:
            yield RowError(line, "", f"not valid UTF-8 at byte {error.start + 1} of the line")
            continue
        # json.loads minus its Python-level wrapping (half its time on a short line); anything
        # unusual (leading space, trailing data, an error to word) goes through json.loads itself.
        try:
            value, end = scan_once(text, 0)
            if end != len(text) and text[end:].strip(" \t\n\r"):
                value = json.loads(text)
        except (ValueError, StopIteration, RecursionError):
            try:
                value = json.loads(text)
            except ValueError as error:
                yield RowError(line, "", _json_error(error, f"at column {getattr(error, 'colno', 0)}"))
                continue
            except RecursionError:
                yield RowError(line, "", "invalid JSON: nested too deeply")
                continue
        if type(value) is dict:
            yield _from_object(value, line)
        else:
            yield RowError(line, "", f"expected a JSON object, got {_kind(value)}")


def _parse_text(stream: BinaryIO, max_record_bytes: int) -> Iterator[Record | RowError]:
    readline = stream.readline
    limit = max_record_bytes + 1
    line = 0
    while raw := readline(limit):
        line += 1
        if line == 1 and raw.startswith(_BOM):
            raw = raw[3:]
        if raw[-1:] == b"\n":
            raw = raw[:-2] if raw[-2:] == b"\r\n" else raw[:-1]
        elif len(raw) == limit:
            yield RowError(line, "", _too_large(_drain_line(readline, len(raw)), max_record_bytes))
            continue
        try:
            text = raw.decode()
        except UnicodeDecodeError as error:
            yield RowError(line, "", f"not valid UTF-8 at byte {error.start + 1} of the line")
            continue
        if text and not text.isspace():
            yield Record(line, {"text": text})


def _drain_line(readline: Callable[[int], bytes], size: int) -> int:
    """Read and drop the rest of an oversized line; its full size in bytes, without the "\n"."""
    while piece := readline(_DRAIN_SIZE):
        if piece[-1] == _NEWLINE:
            return size + len(piece) - 1
        size += len(piece)
    return size


def _too_large(size: int, limit: int) -> str:
    return f"record is {size} bytes; the limit is {limit}"


# CSV and TSV -----------------------------------------------------------------------------------


def _parse_delimited(stream: BinaryIO, delimiter: str, max_record_bytes: int) -> Iterator[Record | RowError]:
    # The csv module refuses fields over a process-wide limit (128 KiB by default); raising it to
    # the record limit is harmless to other readers, and _CsvLines bounds the records anyway.
    if csv.field_size_limit() < max_record_bytes:
        csv.field_size_limit(max_record_bytes)
    lines = _CsvLines(stream, max_record_bytes)
    reader = csv.reader(lines, delimiter=delimiter)
    lines.start_record()
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise FileError("bad_header", f"The header (line 1) cannot be read: {error}.") from None
    if lines.bad_utf8 is not None:
        raise FileError("encoding", f"The file is not valid UTF-8 ({lines.bad_utf8}). {_SAVE_AS_UTF8}")
    if lines.pending is not None:
        raise FileError("bad_header", f"The header (line 1) is longer than {max_record_bytes} bytes.")
    if not header:
        raise FileError("bad_header", "The first line must name the columns; it is empty.")
    columns = _Columns(header)
    width = len(header)
    while True:
        start = lines.line + 1
        lines.start_record()
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield RowError(start, "", f"cannot read the row: {error}")
            continue
        if lines.pending is not None:
            yield lines.pending
        elif lines.bad_utf8 is not None:
            yield RowError(start, "", f"not valid UTF-8 ({lines.bad_utf8})")
        elif not any(row):
            continue
        elif len(row) != width:
            yield RowError(start, "", f"row has {len(row)} cells; the header has {width}")
        else:
            yield columns.record(start, row)


_SAVE_AS_UTF8 = "Save it as UTF-8 and upload it again."


class _CsvLines:
    """The decoded physical lines of a CSV file, for csv.reader, with the bookkeeping it lacks.

    Splits lines where csv does (LF, CRLF, or a lone CR as old Mac spreadsheets write), counts
    them (so a row's first line is known), bounds what one record may hold, and turns an oversized
    or undecodable line into a pending error instead of an exception, so the reader can carry on
    with the next row. An oversized line at the start of a record, with its quotes balanced, is
    skipped without being held and replaced by a blank line (which the reader returns as []).
    """

    def __init__(self, stream: BinaryIO, max_record_bytes: int):
        self._read = stream.read
        self._max = max_record_bytes
        self._limit = max_record_bytes + 1
        self._buf = b""
        self._pos = 0
        self._started = False
        self._eof = False
        self._after_skip = False  # the next terminator ends a line that was skipped
        self._record_bytes = 0
        self._record_start = 1
        self._at_start = True
        self.line = 0  # physical lines handed to the reader so far
        self.pending: RowError | None = None
        self.bad_utf8: str | None = None  # where the current record first failed to decode

    def start_record(self) -> None:
        self._at_start = True
        self._record_start = self.line + 1
        self.pending = None
        self.bad_utf8 = None

    def __iter__(self) -> "_CsvLines":
        return self

    def __next__(self) -> str:
        while True:
            buf, pos = self._buf, self._pos
            match = _LINE_END.search(buf, pos)
            # A CR at the end of the buffer may be the first half of a CRLF: read on to know.
            while match is None or (match.end() == len(buf) and match.group() == b"\r" and not self._eof):
                if match is None and len(buf) - pos > self._limit:
                    self.line += 1
                    return self._skip(len(buf) - pos, buf.count(b'"', pos))
                if self._eof:
                    break
                self._fill()
                buf, pos = self._buf, self._pos
                match = _LINE_END.search(buf, pos)
            if self._after_skip:
                self._after_skip = False
                self._pos = match.end() if match else len(buf)
                continue
            if pos == len(buf):
                raise StopIteration
            end = match.end() if match else len(buf)
            size = (match.start() if match else end) - pos
            raw = buf[pos:end]
            self._pos = end
            self.line += 1
            if size > self._max:
                return self._oversized(size, raw.count(b'"'))
            return self._decode(raw)

    def _decode(self, raw: bytes) -> str:
        if self._at_start:
            self._at_start = False
            self._record_bytes = len(raw)
        else:
            self._record_bytes += len(raw)
            if self._record_bytes > self._limit:
                raise FileError(
                    "record_too_large",
                    f"The record starting on line {self._record_start} is longer than {self._max} bytes "
                    "(is a quote left open?); the rest of the file cannot be read reliably.",
                )
        try:
            return raw.decode()
        except UnicodeDecodeError as error:
            if self.bad_utf8 is None:
                self.bad_utf8 = f"line {self.line}, byte {error.start + 1}"
            return raw.decode("utf-8", "replace")  # U+FFFD is never a quote or a delimiter

    def _fill(self) -> None:
        chunk = self._read(_CSV_CHUNK)
        if not self._started:
            self._started = True
            while 0 < len(chunk) < 3 and (more := self._read(_CSV_CHUNK)):
                chunk += more
            chunk = chunk.removeprefix(_BOM)
        if not chunk:
            self._eof = True
        self._buf = self._buf[self._pos :] + chunk
        self._pos = 0

    def _skip(self, size: int, quotes: int) -> str:
        """Drop the rest of a line longer than the limit, counting its bytes and quotes."""
        self._buf, self._pos = b"", 0
        while True:
            self._fill()
            if self._eof:
                break
            match = _LINE_END.search(self._buf)
            if match:
                size += match.start()
                quotes += self._buf.count(b'"', 0, match.start())
                self._pos = match.start()
                self._after_skip = True
                break
            size += len(self._buf)
            quotes += self._buf.count(b'"')
            self._buf = b""
        return self._oversized(size, quotes)

    def _oversized(self, size: int, quotes: int) -> str:
        if self._at_start and quotes % 2 == 0:
            self._at_start = False
            self.pending = RowError(self.line, "", _too_large(size, self._max))
            return "\n"
        raise FileError(
            "record_too_large",
            f"Line {self.line} is {size} bytes, over the limit of {self._max} bytes for one record, inside "
            "a quoted value; the rest of the file cannot be read reliably.",
        )


class _Columns:
    """What each header column feeds: the item's data, its meta, its external id or its provenance."""

    def __init__(self, header: list[str]):
        names = [name.strip() for name in header]
        self.data: list[tuple[int, str]] = []
        self.meta: list[tuple[int, str]] = []
        self.provenance: list[tuple[int, str]] = []
        self.id_index: int | None = None
        seen: dict[str, str] = {}  # what a column is for -> the header name that claimed it
        for index, name in enumerate(names):
            if not name:
                raise FileError("bad_header", f"Column {index + 1} of the header has no name.")
            lower = name.lower()
            if lower in _ID_KEYS:
                role = "external_id"
                self.id_index = index
            elif lower in _PROVENANCE_KEYS:
                role = _PROVENANCE_KEYS[lower]
                self.provenance.append((index, role))
            elif lower.startswith(("meta.", "meta:")):
                key = name[5:].strip()
                if not key:
                    raise FileError("bad_header", f'Column {index + 1} ("{name}") names no metadata key.')
                role = "meta " + key
                self.meta.append((index, key))
            else:
                role = "data " + name
                self.data.append((index, name))
            if role in seen:
                raise FileError("bad_header", f'The columns "{seen[role]}" and "{name}" say the same thing.')
            seen[role] = name
        if not self.data:
            raise FileError("bad_header", "The header has no data columns, only ids, metadata or provenance.")
        self.keys = [name for _, name in self.data]
        self.only_data = len(self.data) == len(names)

    def record(self, line: int, row: list[str]) -> Record | RowError:
        if self.only_data:
            return Record(line, dict(zip(self.keys, row, strict=True)))
        record = Record(line, {key: row[index] for index, key in self.data})
        for index, key in self.meta:
            if row[index]:
                record.meta[key] = row[index]
        for index, key in self.provenance:
            if row[index]:
                record.provenance[key] = row[index]
        if self.id_index is not None:
            external_id = row[self.id_index].strip()
            if len(external_id) > EXTERNAL_ID_MAX_LENGTH:
                return RowError(line, "external_id", _id_too_long(external_id))
            record.external_id = external_id or None
        return record


# JSON arrays -----------------------------------------------------------------------------------


def _parse_array(
    stream: BinaryIO,
    max_record_bytes: int,
    chunk_size: int,
    convert: Callable[[dict[str, Any], int], Record | RowError],
) -> Iterator[Record | RowError]:
    what = "tasks" if convert is _from_task else "items"
    for position, value in _JsonArray(stream, max_record_bytes, chunk_size, what).elements():
        if value is _MISSING:
            yield position  # a RowError from the reader
        elif type(value) is dict:
            yield convert(value, position)
        else:
            yield RowError(position, "", f"expected a JSON object, got {_kind(value)}")


_Steps = Generator[tuple[Any, Any], None, Any]  # yields (RowError, _MISSING); returns a value or a marker
_SKIPPED = object()  # the element was too large and has been reported


class _JsonArray:
    """Reads the elements of one top-level JSON array from a binary stream, a chunk at a time.

    Holds the undecoded rest of the current chunk plus at most one element (up to
    `max_record_bytes`); longer elements are skipped by `_Scanner`. `elements()` yields
    (position, value) or (RowError, _MISSING).
    """

    def __init__(self, stream: BinaryIO, max_record_bytes: int, chunk_size: int, what: str):
        self._read = stream.read
        self._chunk_size = chunk_size
        self._max = max_record_bytes
        self._what = what
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._offset = 0  # bytes of the file decoded so far
        self._started = False
        self._eof = False
        self._lines = 0  # newlines in the text already dropped from `buf`
        self._column = 0  # characters after the last dropped newline
        self.buf = ""
        self.pos = 0

    def elements(self) -> Iterator[tuple[Any, Any]]:
        if self._peek() != "[":
            found = self._peek()
            start = f"it starts with {found!r}" if found else "it is empty"
            raise FileError(
                "not_an_array", f"The file must hold one JSON array ([...]) of {self._what}; {start}."
            )
        self.pos += 1
        position = 1
        char = self._peek()
        if char == "]":
            self.pos += 1
            yield from self._after_array(position)
            return
        while True:
            if char == "":
                yield self._fail(position, "the file ends inside the array")
                return
            value = yield from self._element(position)
            if value is _MISSING:
                return
            if value is not _SKIPPED:
                yield position, value
            char = self._peek()
            if char == "]":
                self.pos += 1
                yield from self._after_array(position + 1)
                return
            if char != ",":
                what = f"found {char!r}" if char else "the file ends"
                yield self._fail(position + 1, f"expected ',' or ']' after record {position}, {what}")
                return
            self.pos += 1
            position += 1
            char = self._peek()
            if char == "]":
                yield self._fail(position, "a ',' must be followed by another record, not ']'")
                return

    def _element(self, position: int) -> _Steps:
        """Parse the element at `pos`; returns its value, _SKIPPED (too large) or _MISSING (stop).

        Whatever the chunk size, an element longer than the limit is skipped unless its first
        `max_record_bytes` characters already hold a syntax error, which is reported (and stops
        the parse) as for any other element.
        """
        start = self.pos
        buf = self.buf
        try:
            value, end = _raw_decode(buf, start)
        except (ValueError, RecursionError):
            pass
        else:
            # Objects, arrays and strings end with their own closing character. A number or
            # literal is only complete if a delimiter follows: "0" of "0.5" parses on its own.
            if type(value) in _CLOSED or self._eof or (end < len(buf) and buf[end] in _AFTER_SCALAR):
                return (yield from self._accept(position, value, start, end))
        # Incomplete (it goes on in the next chunk) or broken: find its end without parsing it.
        scanner = _Scanner()
        scanned = start
        while (stop := scanner.feed(self.buf, scanned)) < 0:
            scanned = len(self.buf)
            self.pos = start
            if scanned - start > self._max:
                return (yield from self._oversized(position, scanner, None))
            if not self._more():
                yield self._fail(position, "the file ends inside the record")
                return _MISSING
            scanned -= start
            start = 0
        try:
            value, end = _raw_decode(self.buf, start)
        except (ValueError, RecursionError) as error:
            self.pos = start
            if stop - start > self._max or len(self.buf[start:stop].encode()) > self._max:
                return (yield from self._oversized(position, None, stop))
            yield self._syntax_error(position, error, start)
            return _MISSING
        return (yield from self._accept(position, value, start, end))

    def _accept(self, position: int, value: Any, start: int, end: int) -> _Steps:
        self.pos = end
        chars = end - start
        if chars * 4 > self._max:  # UTF-8 uses at most 4 bytes a character
            size = len(self.buf[start:end].encode())
            if size > self._max:
                yield RowError(position, "", _too_large(size, self._max)), _MISSING
                return _SKIPPED
        return value

    def _oversized(self, position: int, scanner: "_Scanner | None", stop: int | None) -> _Steps:
        """The element at `pos` is over the limit: report a syntax error in its first part, or skip it.

        `stop` is where it ends if that is in the buffer; otherwise `scanner` reads on to its end.
        """
        start = self.pos
        head = self.buf[start : start + self._max + 1]
        cut = stop is None or stop - start > len(head)
        try:
            value, end = _raw_decode(head)
        except RecursionError as error:
            yield self._syntax_error(position, error, start)
            return _MISSING
        except ValueError as error:
            pos = getattr(error, "pos", 0)
            # Where `head` is cut, JSON only fails at its very end or in the string it cuts.
            if not cut or (pos < len(head) - 6 and not str(error).startswith("Unterminated string")):
                yield self._syntax_error(position, error, start)
                return _MISSING
        else:
            if end < len(head):  # a short number with junk after it: the caller reports the junk
                return (yield from self._accept(position, value, start, start + end))
        if stop is not None:
            size = len(self.buf[start:stop].encode())
            self.pos = stop
            yield RowError(position, "", _too_large(size, self._max)), _MISSING
            return _SKIPPED
        assert scanner is not None
        size = len(self.buf[start:].encode())
        self.pos = len(self.buf)
        self._drop_consumed()
        while True:
            text = self._read_text()
            if not text:
                yield self._fail(position, "the file ends inside the record")
                return _MISSING
            end = scanner.feed(text, 0)
            self.buf, self.pos = text, (len(text) if end < 0 else end)
            size += len(text[: self.pos].encode())
            self._drop_consumed()
            if end >= 0:
                yield RowError(position, "", _too_large(size, self._max)), _MISSING
                return _SKIPPED

    def _syntax_error(self, position: int, error: BaseException, start: int) -> tuple[RowError, object]:
        if isinstance(error, RecursionError):
            return self._fail(position, "nested too deeply", start)
        if isinstance(error, json.JSONDecodeError):  # positions are relative to `start` or the buffer
            at = error.pos + (start if error.doc is not self.buf else 0)
            return self._fail(position, error.msg.removesuffix(" at"), at)
        return self._fail(position, "a number has too many digits", start)

    def _after_array(self, position: int) -> _Steps:
        char = self._peek()
        if char:
            yield self._fail(position, f"unexpected {char!r} after the end of the array")

    def _fail(self, position: int, message: str, at: int | None = None) -> tuple[RowError, object]:
        where = self._where(self.pos if at is None else at)
        reason = f"invalid JSON: {message} ({where}); the rest of the file was not read"
        return RowError(position, "", reason), _MISSING

    def _where(self, index: int) -> str:
        newlines = self.buf.count("\n", 0, index)
        column = index - self.buf.rfind("\n", 0, index) if newlines else self._column + index + 1
        return f"line {self._lines + newlines + 1}, column {column}"

    def _peek(self) -> str:
        """Skip whitespace; the next character, or "" at the end of the file."""
        while True:
            self.pos = _JSON_WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def _more(self) -> bool:
        """Drop the consumed text and append the next decoded piece. False at the end of the file."""
        text = self._read_text()
        if not text:
            return False
        self._drop_consumed()
        self.buf += text
        return True

    def _drop_consumed(self) -> None:
        if not self.pos:
            return
        newlines = self.buf.count("\n", 0, self.pos)
        if newlines:
            self._lines += newlines
            self._column = self.pos - self.buf.rfind("\n", 0, self.pos) - 1
        else:
            self._column += self.pos
        self.buf = self.buf[self.pos :]
        self.pos = 0

    def _read_text(self) -> str:
        """The next piece of decoded text; "" at the end of the file."""
        while not self._eof:
            chunk = self._read(self._chunk_size)
            if not self._started:
                self._started = True
                while 0 < len(chunk) < 3 and (more := self._read(self._chunk_size)):
                    chunk += more
                if chunk.startswith(_BOM):
                    chunk = chunk[3:]
                    self._offset = 3
            self._eof = not chunk
            held = len(self._decoder.getstate()[0])  # bytes of a character split across chunks
            try:
                text = self._decoder.decode(chunk, final=self._eof)
            except UnicodeDecodeError as error:
                offset = self._offset - held + error.start
                raise FileError(
                    "encoding", f"The file is not valid UTF-8 (byte offset {offset}). {_SAVE_AS_UTF8}"
                ) from None
            self._offset += len(chunk)
            if text:
                return text
        return ""


class _Scanner:
    """Finds where one JSON value ends, across pieces of text, without parsing or keeping it.

    Tracks only the nesting depth and whether it is inside a string, so it can skip an element of
    any size in constant memory. Mismatched brackets are left for the real parser to report.
    """

    __slots__ = ("depth", "escaped", "in_string", "scalar", "started")

    def __init__(self) -> None:
        self.depth = 0
        self.escaped = False
        self.in_string = False
        self.scalar = False
        self.started = False

    def feed(self, text: str, index: int) -> int:
        """The index just past the value's end in `text`, or -1 if it goes on past `text`."""
        if not self.started:
            if index >= len(text):
                return -1
            self.started = True
            self.scalar = text[index] not in '{["'
        if self.scalar:
            match = _SCALAR_END.search(text, index)
            return match.start() if match else -1
        length = len(text)
        while index < length:
            if self.escaped:
                self.escaped = False
                index += 1
                continue
            if self.in_string:
                match = _STRING_END.search(text, index)
                if match is None:
                    return -1
                index = match.end()
                if match.group() == "\\":
                    self.escaped = True
                    continue
                self.in_string = False
                if self.depth == 0:
                    return index
                continue
            match = _STRUCTURE.search(text, index)
            if match is None:
                return -1
            index = match.end()
            char = match.group()
            if char == '"':
                self.in_string = True
            elif char in "[{":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth <= 0:
                    return index
        return -1


# Objects to records ----------------------------------------------------------------------------


def _from_object(obj: dict[str, Any], line: int) -> Record | RowError:
    """An item object (jsonl, json): everything but the reserved keys is data."""
    if type(obj.get("data")) is dict:
        return _from_task(obj, line)
    if _RESERVED.isdisjoint(obj):
        return Record(line, obj) if obj else RowError(line, "", "the object is empty")
    data = {key: value for key, value in obj.items() if key not in _RESERVED}
    if not data:
        return RowError(line, "", "the object has no data, only an id, metadata or provenance")
    return _reserved(Record(line, data), obj)


def _from_task(task: dict[str, Any], line: int) -> Record | RowError:
    """A Label Studio task: "data" is the item; its other keys besides the reserved ones are ignored."""
    data = task.get("data")
    if type(data) is not dict:
        return RowError(line, "data", 'a Label Studio task needs a "data" object')
    if not data:
        return RowError(line, "data", "is empty")
    record = Record(line, data)
    for key in ("predictions", "annotations"):
        value = task.get(key)
        if value is None:
            continue
        if type(value) is not list:
            return RowError(line, key, "must be a list")
        setattr(record, key, value)
    return _reserved(record, task)


def _reserved(record: Record, obj: dict[str, Any]) -> Record | RowError:
    """Fill external_id, meta and provenance from the reserved keys of `obj`."""
    line = record.line
    present = _RESERVED.intersection(obj)
    for key in _ID_KEYS:
        if key not in present or (value := obj[key]) is None:
            continue
        if type(value) is int:
            value = str(value)
        elif type(value) is str:
            value = value.strip()
            if len(value) > EXTERNAL_ID_MAX_LENGTH:
                return RowError(line, key, _id_too_long(value))
        else:
            return RowError(line, key, "must be a string or an integer")
        if not value:
            continue
        if record.external_id is None:
            record.external_id = value
        elif record.external_id != value:
            return RowError(line, "id", 'differs from "external_id"; give one of them')
    if "meta" in present and (meta := obj["meta"]) is not None:
        if type(meta) is not dict:
            return RowError(line, "meta", "must be an object")
        record.meta = meta
    if not present.isdisjoint(_PROVENANCE_KEYS):
        for key, target in _PROVENANCE_KEYS.items():
            if key in present and target not in record.provenance:
                record.provenance[target] = obj[key]
    return record


def _id_too_long(value: str) -> str:
    return f"is {len(value)} characters; the limit is {EXTERNAL_ID_MAX_LENGTH}"


def _json_error(error: ValueError, where: str) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"invalid JSON: {error.msg.removesuffix(' at')} {where}"  # "Invalid control character at"
    return "invalid JSON: a number has too many digits"  # int() refuses more than 4300 digits


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "a number"
