"""CSV and TSV: the csv module over a bounded line reader; headers matched case-insensitively."""

import csv
import re
from collections.abc import Iterator
from typing import BinaryIO

from ..records import FileError, Record, RowError
from .common import (
    _BOM,
    _ID_KEYS,
    _PROVENANCE_KEYS,
    _SAVE_AS_UTF8,
    EXTERNAL_ID_MAX_LENGTH,
    _id_too_long,
    _too_large,
)

_LINE_END = re.compile(rb"\r\n|\r|\n")  # where csv ends a line
_CSV_CHUNK = 64 * 1024  # bytes read at a time from CSV files


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
