"""What every parser shares: limits, reserved keys, objects and Label Studio tasks to records, error texts."""

import json
import re
from collections.abc import Callable
from typing import Any

from ..records import Record, RowError

EXTERNAL_ID_MAX_LENGTH = 255  # Item.external_id

_BOM = b"\xef\xbb\xbf"
_NEWLINE = 10  # b"\n"[0]
_DRAIN_SIZE = 64 * 1024  # bytes read at a time while skipping an oversized line
_PROVENANCE_KEYS = {  # key in the file -> key in Record.provenance; "licence" wins over "license"
    "licence": "licence",
    "license": "licence",
    "consent": "consent",
    "synthetic": "synthetic",
    "generator": "generator",
}
_ID_KEYS = ("external_id", "id")
_RESERVED = frozenset({*_ID_KEYS, "meta", *_PROVENANCE_KEYS})
_JSON_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_raw_decode = _DECODER.raw_decode


_SAVE_AS_UTF8 = "Save it as UTF-8 and upload it again."


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


def _drain_line(readline: Callable[[int], bytes], size: int) -> int:
    """Read and drop the rest of an oversized line; its full size in bytes, without the "\n"."""
    while piece := readline(_DRAIN_SIZE):
        if piece[-1] == _NEWLINE:
            return size + len(piece) - 1
        size += len(piece)
    return size


def _too_large(size: int, limit: int) -> str:
    return f"record is {size} bytes; the limit is {limit}"
