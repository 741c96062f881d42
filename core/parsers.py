"""Request parsers that refuse hostile input before any view, serializer or database sees it.

One place for the whole API (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] and every view that sets its
own parsers): a refused body is a 400 with a machine-readable code and changes nothing.

- `invalid_character`: a NUL character or a lone UTF-16 surrogate in any string or key (PostgreSQL
  text and jsonb refuse NUL; a lone surrogate cannot be encoded as UTF-8).
- `json_too_deep`: arrays/objects nested deeper than `API_JSON_MAX_DEPTH`, checked right after
  parsing and before validation, so no recursive code (serializers, schema validation, orjson reading
  the stored value back) ever meets a structure deep enough to exhaust the stack.
- `invalid_number`: a number that is not finite (1e400 parses to infinity) or an integer outside
  the signed 64-bit range (no column holds it, and orjson refuses to read it back).
"""

import codecs
import json
import math
import re

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def DomainError(code: str, message: str):
    from .exceptions import DomainError as Error

    return Error(code, message)


FORBIDDEN_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def max_depth() -> int:
    return getattr(settings, "API_JSON_MAX_DEPTH", 100)


def invalid_character(where: str) -> DomainError:
    return DomainError(
        "invalid_character",
        f"{where} contains a character that cannot be stored (a NUL byte or a lone surrogate).",
    )


def check_text(value: str, where: str) -> None:
    if FORBIDDEN_CHARACTERS.search(value):
        raise invalid_character(where)


def check_parsed(data, *, limit: int | None = None) -> None:
    """Walk a parsed JSON value without recursion: depth, characters and numbers."""
    limit = max_depth() if limit is None else limit
    stack = [(data, 0, "body")]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, str):
            check_text(value, where)
        elif isinstance(value, dict | list):
            if depth >= limit:
                raise DomainError("json_too_deep", f"The JSON body is nested more than {limit} levels deep.")
            if isinstance(value, dict):
                for key, child in value.items():
                    check_text(key, f"A key in {where}")
                    stack.append((child, depth + 1, f"{where}.{key}"[:200]))
            else:
                for index, child in enumerate(value):
                    stack.append((child, depth + 1, f"{where}[{index}]"[:200]))
        elif isinstance(value, float) and not math.isfinite(value):
            raise DomainError("invalid_number", f"{where} is not a finite number.")
        elif isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
            raise DomainError("invalid_number", f"{where} is outside the 64-bit integer range.")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise DomainError("invalid_number", f"The number {text[:40]} is too large to be finite.")
    return number


def _refuse_constant(name: str):
    raise DomainError("invalid_number", f"{name} is not a JSON number.")


def loads(text: str):
    """`json.loads` with the checks above, for JSON typed into a page's form field (a schema, a gold
    answer): ValueError for text that is not JSON, DomainError for JSON that must not be stored."""
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError as exc:
        message = f"The JSON is nested more than {max_depth()} levels deep."
        raise DomainError("json_too_deep", message) from exc
    check_parsed(data)
    return data


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser plus the checks above (`NaN`/`Infinity` literals are refused too)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return loads(codecs.getreader(encoding)(stream).read())
        except ValueError as exc:  # includes UnicodeDecodeError
            raise ParseError(f"JSON parse error - {exc}") from exc


def _check_query_dict(data, where: str) -> None:
    for key, values in data.lists():
        check_text(key, f"A {where} field name")
        for value in values:
            if isinstance(value, str):
                check_text(value, f"{where} field {key!r}"[:200])


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_query_dict(data, "The form")
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_query_dict(result.data, "The form")
        for upload in result.files.values():
            check_text(upload.name or "", "The file name")
        return result
