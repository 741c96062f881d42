"""Checks, hashes and search text for imported item data. Pure: no Django imports.

Order of use: `find_invalid_text` first (it also bounds the nesting depth, which the other walkers
rely on), then `item_digest` (or `canonical_json`, `checksum`, `content_hash`, `search_text`
one by one) on what passed.

- `checksum` is the SHA-256 of the data as received, in canonical JSON (sorted keys, no spaces,
  UTF-8): the same object gives the same checksum whatever its key order or formatting.
- `content_hash` is the exact-duplicate key: the SHA-256 of the canonical JSON of the data with
  every string NFC-normalised, its whitespace runs collapsed to one space and stripped ("Hello
  world\\n" and "Hello  world" are duplicates; "Apple" and "apple" are not). Keys are only
  NFC-normalised: whitespace in a key is part of the field's name.
- Both hash with "surrogatepass", so they never raise, even on text `find_invalid_text` rejects.
- `search_text` is normalised the same way, then lower-cased and cut to a length.
"""

import hashlib
import json
import math
import unicodedata
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any, NamedTuple

MAX_DEPTH = 100  # nesting levels of objects and arrays an item may have
LICENCE_MAX_LENGTH = 100  # Item.licence
GENERATOR_MAX_LENGTH = 200  # Item.generator
CONSENT_VALUES = ("unknown", "granted", "not_required", "withdrawn")  # Item.Consent

NUL_REASON = "contains a NUL character (\\u0000), which cannot be stored"

_canonical_encoder = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
if c_make_encoder is not None:
    # json.dumps builds this C encoder on every call; it keeps no state without `markers` (the
    # circular-reference check, which parsed JSON never needs), so one instance serves every call.
    _encode_c = c_make_encoder(
        None, _canonical_encoder.default, encode_basestring, None, ":", ",", True, False, True
    )

    def _canonical(value: Any) -> str:
        return "".join(_encode_c(value, 0))

else:  # pragma: no cover - CPython always has the C encoder
    _canonical = _canonical_encoder.encode
_sha256 = hashlib.sha256
_nfc = unicodedata.normalize


def check_text(value: str) -> str | None:
    """Why PostgreSQL cannot store `value` (a NUL, or a lone surrogate json.loads lets through), or None."""
    if "\x00" in value:
        return NUL_REASON
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError as error:
            code = ord(value[error.start])
            return f"contains an unpaired UTF-16 surrogate (\\u{code:04x}), which cannot be stored"
    return None


def find_invalid_text(value: Any, path: str) -> tuple[str, str] | None:
    """The JSON path and reason of the first value in `value` that jsonb cannot store, or None.

    Checks every string and key (see `check_text`), numbers that are NaN or infinite (json.loads
    accepts `NaN` and turns `1e999` into infinity) and nesting deeper than MAX_DEPTH. Paths look
    like "data.turns[2].content"; a bad key is reported at the object that holds it.
    """
    found = _find(value, 0)
    if found is None:
        return None
    steps, reason = found
    return path + "".join(f"[{step}]" if type(step) is int else f".{step}" for step in steps), reason


def _find(value: Any, depth: int) -> tuple[tuple[str | int, ...], str] | None:
    if isinstance(value, str):
        reason = check_text(value)
        return ((), reason) if reason else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    elif isinstance(value, float) and not math.isfinite(value):
        return (), "is NaN or infinite, which JSON cannot store"
    else:
        return None
    if depth >= MAX_DEPTH:
        return (), f"is nested more than {MAX_DEPTH} levels deep"
    for key, item in items:
        if type(key) is str and ("\x00" in key or not key.isascii()) and (reason := check_text(key)):
            return (), f"has a key that {reason}"
        if type(item) is str:  # the common case, without a call
            if "\x00" in item or not item.isascii():
                reason = check_text(item)
                if reason:
                    return (key,), reason
        elif (found := _find(item, depth + 1)) is not None:
            return (key, *found[0]), found[1]
    return None


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, non-ASCII kept as is: one text per JSON value."""
    return _canonical(value)


def checksum(value: Any) -> str:
    """SHA-256 hex of `value` as received, in canonical JSON."""
    return _hash(_canonical(value))


def content_hash(data: dict[str, Any]) -> str:
    """SHA-256 hex of the normalised data: the key that makes two items duplicates."""
    text = data.get("text")
    if len(data) == 1 and type(text) is str:  # {"text": ...}: the bytes canonical_json would give, directly
        return _hash('{"text":' + encode_basestring(normalise_text(text)) + "}")
    return _hash(_canonical(_normalised(data)))


def search_text(data: dict[str, Any], limit: int = 2000) -> str:
    """The item's strings for search, "text" first and then the rest in order: each normalised as
    for `content_hash`, joined with spaces, lower-cased, at most `limit` characters."""
    text = data.get("text")
    if len(data) == 1 and type(text) is str:
        return _lower_prefix(normalise_text(text), limit)
    parts: list[str] = []
    size = 0
    rest = _strings({key: value for key, value in data.items() if key != "text"})
    for string in _chain(_strings(text), rest) if "text" in data else rest:
        part = normalise_text(string)
        if part:
            parts.append(part)
            size += len(part) + 1
            if size > limit:  # enough: the rest would be cut off
                break
    return _lower_prefix(" ".join(parts), limit)


class ItemDigest(NamedTuple):
    data_json: str  # canonical_json(data)
    checksum: str
    content_hash: str
    search_text: str


def item_digest(data: dict[str, Any], *, search_limit: int = 2000) -> ItemDigest:
    """canonical_json, checksum, content_hash and search_text of `data` in one call, sharing the work.

    The same values as the four functions, about twice as fast for {"text": ...} items: the text
    is normalised once, and when normalising changes nothing the content hash is the checksum.
    """
    text = data.get("text")
    if len(data) == 1 and type(text) is str:
        data_json = '{"text":' + encode_basestring(text) + "}"
        digest = _hash(data_json)
        normal = normalise_text(text)
        same = normal == text
        content = digest if same else _hash('{"text":' + encode_basestring(normal) + "}")
        return ItemDigest(data_json, digest, content, _lower_prefix(normal, search_limit))
    data_json = _canonical(data)
    digest = _hash(data_json)
    normal_json = _canonical(_normalised(data))
    content = digest if normal_json == data_json else _hash(normal_json)
    return ItemDigest(data_json, digest, content, search_text(data, search_limit))


def normalise_text(text: str) -> str:
    """What content_hash compares: whitespace runs collapsed to one space, stripped, NFC."""
    # str.isprintable() is false for every whitespace character but " ", so a printable text with
    # no double, leading or trailing space is already collapsed, and that is faster to check than
    # to split and join.
    if not (text.isprintable() and "  " not in text and not text.startswith(" ") and not text.endswith(" ")):
        text = " ".join(text.split())
    return _nfc("NFC", text)


def _normalised(value: Any) -> Any:
    if isinstance(value, str):
        return normalise_text(value)
    if isinstance(value, dict):
        return {_nfc("NFC", key) if type(key) is str else key: _normalised(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalised(item) for item in value]
    return value


def _hash(text: str) -> str:
    # surrogatepass: hashing never fails, even on text find_invalid_text rejects
    return _sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _lower_prefix(text: str, limit: int) -> str:
    # Lower-case one character more than is kept, so a final sigma at the cut sees what follows it.
    return text[: limit + 1].lower()[:limit]


def _chain(first: Any, rest: Any) -> Any:
    yield from first
    yield from rest


def _strings(value: Any) -> Any:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_PROVENANCE_FIELDS = {"licence": "licence", "license": "licence", "consent": "consent"}
_PROVENANCE_FIELDS |= {"synthetic": "synthetic", "generator": "generator"}


def coerce_provenance(raw: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Validated provenance values and the errors, as (field, reason), for what could not be read.

    Only the fields given are returned; None and blank strings count as not given, so the import's
    defaults apply. Strings are stripped. "license" is accepted for "licence" ("licence" wins when
    both are given).

    consent: unknown, granted, not_required (also "not required", "not-required") or withdrawn,
    any case; true and "yes" mean granted. false and "no" are refused rather than guessed: "no"
    could mean never asked (unknown), withdrawn or not required, and consent is not a field to
    guess. synthetic: a boolean, 0 or 1, or "true"/"false"/"1"/"0"/"yes"/"no" in any case.
    """
    clean: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for key, value in raw.items():
        field = _PROVENANCE_FIELDS.get(key)
        if field is None:
            errors.append((key, "is not a provenance field; use licence, consent, synthetic or generator"))
            continue
        if key == "license" and "licence" in raw:
            continue
        if isinstance(value, str):
            value = value.strip()
            if not value:
                continue
        elif value is None:
            continue
        if field == "consent":
            result = _consent(value)
        elif field == "synthetic":
            result = _synthetic(value)
        else:
            result = _bounded_text(value, LICENCE_MAX_LENGTH if field == "licence" else GENERATOR_MAX_LENGTH)
        if type(result) is _Invalid:
            errors.append((key, result.reason))
        else:
            clean[field] = result
    return clean, errors


class _Invalid:
    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


def _consent(value: Any) -> Any:
    if isinstance(value, bool):
        return "granted" if value else _Invalid("false is ambiguous; say unknown, withdrawn or not_required")
    if isinstance(value, str):
        word = value.lower().replace(" ", "_").replace("-", "_")
        if word in CONSENT_VALUES:
            return word
        if word in ("true", "yes"):
            return "granted"
        if word in ("false", "no"):
            return _Invalid(f'"{value}" is ambiguous; say unknown, withdrawn or not_required')
    return _Invalid("must be one of unknown, granted, not_required, withdrawn")


def _synthetic(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if type(value) is int and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        word = value.lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return _Invalid("must be true or false")


def _bounded_text(value: Any, limit: int) -> Any:
    if not isinstance(value, str):
        return _Invalid("must be text")
    if len(value) > limit:
        return _Invalid(f"is {len(value)} characters; the limit is {limit}")
    return value
