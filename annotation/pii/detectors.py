"""Personal-data detectors: pure functions over an item's data (no Django).

Each detector finds candidates with a cheap regular expression and keeps those a validator accepts:
checksums from python-stdnum (IBAN mod-97, Luhn for cards, Verhoeff for Aadhaar, 11-proof for BSN,
the per-country keys of DE Steuer-ID, FR NIR, ES DNI/NIE, IT codice fiscale, BR CPF), phone numbers
from Google's libphonenumber port (`phonenumbers`), IP addresses from `ipaddress`. A finding is
`high` confidence when a checksum validated it, `medium` when only a format did (email, phone, IP,
US SSN which has no check digit), `low` for project patterns and word lists.

Why not Microsoft Presidio: its AnalyzerEngine needs a spaCy language model downloaded from a model
hub at run time (not reachable from our machines), and its recognizers for these types are the same
regex + checksum approach, ~10x slower per text. See docs/GOVERNANCE.md#personal-data.

Project patterns run on the `regex` module with a per-text timeout, so a catastrophic pattern
(`(a+)+$`) costs at most PATTERN_TIMEOUT_S per field and is reported, never hangs a worker.

Offsets are Python string indices (code points) into the field's text; `field` is the key path of
the string inside the item's data (`text`, `turns.0.content`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import phonenumbers
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.br import cpf
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.us import ssn

from projects.privacy_settings import BUILTIN_TYPES as _BUILTIN_TYPES
from projects.privacy_settings import CustomRules, compile_custom  # noqa: F401  (re-exported)

HIGH, MEDIUM, LOW = "high", "medium", "low"
CONFIDENCE_RANK = {HIGH: 3, MEDIUM: 2, LOW: 1}

# Built-in types; the placeholder an annotator sees is `[TYPE]`.
EMAIL = "EMAIL"
PHONE = "PHONE"
IBAN = "IBAN"
CREDIT_CARD = "CREDIT_CARD"
IP_ADDRESS = "IP_ADDRESS"
US_SSN = "US_SSN"
DE_TAX_ID = "DE_TAX_ID"
FR_NIR = "FR_NIR"
ES_DNI = "ES_DNI"
ES_NIE = "ES_NIE"
IT_FISCAL_CODE = "IT_FISCAL_CODE"
NL_BSN = "NL_BSN"
BR_CPF = "BR_CPF"
IN_AADHAAR = "IN_AADHAAR"
BUILTIN_TYPES = (
    EMAIL,
    PHONE,
    IBAN,
    CREDIT_CARD,
    IP_ADDRESS,
    US_SSN,
    DE_TAX_ID,
    FR_NIR,
    ES_DNI,
    ES_NIE,
    IT_FISCAL_CODE,
    NL_BSN,
    BR_CPF,
    IN_AADHAAR,
)

assert BUILTIN_TYPES == _BUILTIN_TYPES  # one list, two modules: projects validates names against it
PATTERN_TIMEOUT_S = 0.05
MAX_FIELD_CHARS = 1_000_000  # longer strings are scanned up to here (reported by the service)


@dataclass(frozen=True, slots=True)
class Finding:
    field: str
    start: int
    end: int
    type: str
    confidence: str

    def as_dict(self) -> dict:
        return {
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "type": self.type,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class Config:
    default_region: str = "US"  # phone numbers written without +country code are read as this region
    custom: CustomRules | None = None


# --- built-in candidates ----------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b"
)
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|:)?(?![\w:])")
_IBAN = re.compile(r"(?<!\w)[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?!\w)")
# Digit runs with single separators (cards, phones, numeric ids): "+49 30 1234567", "4111-1111-...".
_NUMBER = re.compile(r"(?<![\w@+\-./])(?:\+|\(\d{1,4}\) ?)?\d(?:[ \-./]?\(?\d\)?){5,22}(?![\w@]|[\-.]\d)")
_ES_DNI = re.compile(r"(?<!\w)\d{8}-?[A-Za-z](?!\w)")
_ES_NIE = re.compile(r"(?<!\w)[XYZxyz]-?\d{7}-?[A-Za-z](?!\w)")
_IT_CF = re.compile(
    r"(?<!\w)[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPR-T][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z](?!\w)"
)
_SSN_FORMAT = re.compile(r"^\d{3}-\d{2}-\d{4}$")
# How card numbers are written: unbroken, in fours (4-4-4-4, 4-4-4-4-3) or Amex/Diners 4-6-5 / 4-6-4.
_CARD_FORMAT = re.compile(
    r"^(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?|\d{4}([ -])\d{6}\2\d{4,5})$"
)
_NON_DIGIT = re.compile(r"\D")
_HAS_DIGIT = re.compile(r"\d")


def _numeric(text: str, config: Config) -> Iterator[tuple[int, int, str, str]]:
    for match in _NUMBER.finditer(text):
        raw = match.group()
        digits = _NON_DIGIT.sub("", raw)
        n = len(digits)
        start, end = match.span()
        if not raw.startswith("+"):
            kind = _checksum_number(raw, digits, n)
            if kind is not None:
                yield start, end, kind[0], kind[1]
                continue
        if 7 <= n <= 15 and _could_be_phone(raw, n, config.default_region) and not _DOTTED_QUAD.match(raw):
            try:
                number = phonenumbers.parse(raw, config.default_region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                yield start, end, PHONE, MEDIUM


_DOTTED_QUAD = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_DATE = re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$")
_PHONE_LENGTHS: dict[str, frozenset[int]] = {}


def _national_lengths(region: str) -> frozenset[int]:
    """The digit counts a number of `region` may have written nationally (with a trunk prefix or not)."""
    lengths = _PHONE_LENGTHS.get(region)
    if lengths is None:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        general = metadata.general_desc if metadata is not None else None
        base: set[int] = set()
        if general is not None:
            base = set(general.possible_length or ()) | set(general.possible_length_local_only or ())
        lengths = _PHONE_LENGTHS[region] = frozenset(base | {n + 1 for n in base} | {n + 2 for n in base})
    return lengths


def _could_be_phone(raw: str, n: int, region: str) -> bool:
    """A cheap filter before libphonenumber's parse (which costs ~100 µs): international numbers, or
    national ones whose digit count the region allows and that are not dates."""
    if raw[0] == "+":
        return True
    return n in _national_lengths(region) and not _DATE.match(raw)


def _checksum_number(raw: str, digits: str, n: int) -> tuple[str, str] | None:
    """The checksum type a digit run validates as. Where two checks could both pass, the stronger
    check or the type's usual way of writing decides: FR NIR (mod 97) before a card (Luhn, mod 10);
    a CPF written with dots or a dash before a DE Steuer-ID, an unbroken 11-digit run the other way."""
    if _DOTTED_QUAD.match(raw):
        return None  # an IP address (found by its own detector) or a version number
    if n == 15 and nir.is_valid(digits):
        return FR_NIR, HIGH
    if 13 <= n <= 19 and digits[0] in "23456" and _CARD_FORMAT.match(raw) and luhn.is_valid(digits):
        return CREDIT_CARD, HIGH
    if n == 12 and aadhaar.is_valid(digits):
        return IN_AADHAAR, HIGH
    if n == 11:
        formatted = "." in raw or "-" in raw
        for kind, valid in ((BR_CPF, cpf.is_valid), (DE_TAX_ID, idnr.is_valid))[:: 1 if formatted else -1]:
            if valid(digits):
                return kind, HIGH
    if n == 9:
        if _SSN_FORMAT.match(raw):
            return (US_SSN, MEDIUM) if ssn.is_valid(digits) else None
        if bsn.is_valid(digits):
            return NL_BSN, HIGH
    return None


def _builtin(text: str, config: Config) -> Iterator[tuple[int, int, str, str]]:
    if "@" in text:
        for match in _EMAIL.finditer(text):
            yield match.start(), match.end(), EMAIL, MEDIUM
    if ":" in text:
        for match in _IPV6.finditer(text):
            candidate = match.group()
            if candidate.count(":") >= 2:
                try:
                    ipaddress.IPv6Address(candidate)
                except ValueError:
                    continue
                yield match.start(), match.end(), IP_ADDRESS, MEDIUM
    if not _HAS_DIGIT.search(text):
        return
    if "." in text:
        for match in _IPV4.finditer(text):
            try:
                ipaddress.IPv4Address(match.group())
            except ValueError:
                continue
            yield match.start(), match.end(), IP_ADDRESS, MEDIUM
    for match in _IBAN.finditer(text):
        if std_iban.is_valid(match.group()):
            yield match.start(), match.end(), IBAN, HIGH
    for match in _ES_DNI.finditer(text):
        if dni.is_valid(match.group()):
            yield match.start(), match.end(), ES_DNI, HIGH
    for match in _ES_NIE.finditer(text):
        if nie.is_valid(match.group()):
            yield match.start(), match.end(), ES_NIE, HIGH
    for match in _IT_CF.finditer(text):
        if codicefiscale.is_valid(match.group()):
            yield match.start(), match.end(), IT_FISCAL_CODE, HIGH
    yield from _numeric(text, config)


def _custom(text: str, rules: CustomRules) -> Iterator[tuple[int, int, str, str]]:
    for name, pattern in rules.patterns:
        try:
            for match in pattern.finditer(text, timeout=PATTERN_TIMEOUT_S):
                if match.end() > match.start():
                    yield match.start(), match.end(), name, LOW
        except TimeoutError:
            rules.timeouts += 1


def resolve_overlaps(spans: Iterable[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """Keep non-overlapping spans: higher confidence first, then the longer, then the earlier."""
    ordered = sorted(spans, key=lambda s: (-CONFIDENCE_RANK[s[3]], -(s[1] - s[0]), s[0]))
    kept: list[tuple[int, int, str, str]] = []
    for span in ordered:
        if all(span[1] <= other[0] or span[0] >= other[1] for other in kept):
            kept.append(span)
    kept.sort()
    return kept


def detect_text(text: str, config: Config = Config()) -> list[tuple[int, int, str, str]]:
    """(start, end, type, confidence) of the personal data in one string, non-overlapping, in order."""
    text = text[:MAX_FIELD_CHARS]
    spans = list(_builtin(text, config))
    if config.custom is not None:
        spans.extend(_custom(text, config.custom))
    if len(spans) < 2:
        return spans
    return resolve_overlaps(spans)


def iter_strings(data, path: str = "") -> Iterator[tuple[str, str]]:
    """(key path, string) for every string in an item's data, depth first, keys in stored order."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, Mapping):
        for key, value in data.items():
            yield from iter_strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from iter_strings(value, f"{path}.{index}" if path else str(index))


def detect_item(data, config: Config = Config()) -> list[Finding]:
    """Every finding in an item's data (a dict, list or string)."""
    return [
        Finding(path, start, end, kind, confidence)
        for path, text in iter_strings(data)
        for start, end, kind, confidence in detect_text(text, config)
    ]
