"""JSON Lines and plain text: one record per line, read with a bounded readline (see formats/__init__.py)."""

import json
from collections.abc import Iterator
from typing import BinaryIO

from ..records import Record, RowError
from .common import _BOM, _DECODER, _NEWLINE, _drain_line, _from_object, _json_error, _kind, _too_large

_scan_once = _DECODER.scan_once  # (text, index) -> (value, end); StopIteration when no value starts there


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
