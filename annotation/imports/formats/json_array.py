"""JSON arrays (json, labelstudio): an incremental scanner, one element in memory at a time."""

import codecs
import json
import re
from collections.abc import Callable, Generator, Iterator
from typing import Any, BinaryIO

from ..records import FileError, Record, RowError
from .common import _BOM, _JSON_WS, _SAVE_AS_UTF8, _from_task, _kind, _raw_decode, _too_large

_MISSING = object()

_STRUCTURE = re.compile(r'["\[\]{}]')
_STRING_END = re.compile(r'["\\]')
_SCALAR_END = re.compile(r"[ \t\n\r,\]}]")
_CLOSED = (dict, list, str)
_AFTER_SCALAR = frozenset(" \t\n\r,]}")


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
