"""The personal-data knobs of a project, stored under `settings["privacy"]`, with their defaults and
checks, and the project's own patterns and word lists compiled for the detectors
(annotation/pii/detectors.py). Pure. docs/GOVERNANCE.md#personal-data describes each knob.

    {"privacy": {"mask_for_annotators": true, "mask_for_reviewers": false, "release_policy": "flag",
                 "default_region": "DE",
                 "patterns": [{"name": "EMPLOYEE_ID", "pattern": "EMP-\\\\d{6}"}],
                 "word_lists": [{"name": "CLIENT", "words": ["Acme", "Globex"]}]}}
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import regex

RELEASE_POLICIES = ("drop", "mask", "flag")
# Built-in detector types (annotation/pii/detectors.py); a project pattern may not reuse them.
BUILTIN_TYPES = (
    "EMAIL",
    "PHONE",
    "IBAN",
    "CREDIT_CARD",
    "IP_ADDRESS",
    "US_SSN",
    "DE_TAX_ID",
    "FR_NIR",
    "ES_DNI",
    "ES_NIE",
    "IT_FISCAL_CODE",
    "NL_BSN",
    "BR_CPF",
    "IN_AADHAAR",
)
MAX_PATTERNS = 20
MAX_PATTERN_LENGTH = 500
MAX_WORDS = 10_000
MAX_WORD_LENGTH = 100
PATTERN_TIMEOUT_S = 0.05  # per pattern per text: a catastrophic pattern is cut off, counted, reported
_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")


@dataclass(frozen=True)
class PrivacySettings:
    mask_for_annotators: bool = False  # annotators see [EMAIL]-style placeholders instead of the values
    mask_for_reviewers: bool = False  # reviewers too (managers always see raw values)
    # Releases: "flag" keeps items with open or confirmed findings and lists them (records carry
    # `personal_data`), "mask" replaces the values with placeholders, "drop" leaves the items out.
    release_policy: str = "flag"
    default_region: str = "US"  # phone numbers written without +country code are read as this region
    patterns: tuple = ()
    word_lists: tuple = ()


def privacy_settings_from(project_settings: Any) -> PrivacySettings:
    """Privacy settings from a project's `settings` JSON (validated on save)."""
    stored = (project_settings if isinstance(project_settings, dict) else {}).get("privacy") or {}
    values = {key: value for key, value in stored.items() if key in PrivacySettings.__dataclass_fields__}
    for key in ("patterns", "word_lists"):
        if key in values:
            values[key] = tuple(values[key])
    return PrivacySettings(**values)


class PiiConfigError(ValueError):
    """A project's personal-data configuration is wrong; `code` is machine-readable."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass
class CustomRules:
    """Project-defined patterns ({name, pattern}) and word lists ({name, words}), compiled."""

    patterns: list[tuple[str, Any]] = field(default_factory=list)
    timeouts: int = 0  # texts where a pattern hit its timeout (counted, reported by the caller)


def compile_custom(patterns: Iterable[Mapping], word_lists: Iterable[Mapping]) -> CustomRules:
    """Validate and compile project patterns and word lists; raises PiiConfigError naming the problem.

    Patterns use the `regex` module (re-compatible syntax, VERSION0) because it takes a `timeout` per
    search: a pattern with catastrophic backtracking is cut off instead of hanging the worker. Word
    lists compile to one `\\L<words>` named list, matched case-insensitively on word boundaries."""
    rules = CustomRules()
    names: set[str] = set()
    patterns, word_lists = list(patterns or []), list(word_lists or [])
    if len(patterns) + len(word_lists) > MAX_PATTERNS:
        raise PiiConfigError("too_many_patterns", f"At most {MAX_PATTERNS} patterns and word lists.")

    def _name(entry: Any) -> str:
        if not isinstance(entry, Mapping):
            raise PiiConfigError("invalid_pattern", "Each pattern or word list is an object with a name.")
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise PiiConfigError(
                "invalid_pattern_name",
                f"Pattern name {name!r}: use 2-32 capitals, digits or _, starting with a letter "
                "(EMPLOYEE_ID).",
            )
        if name in BUILTIN_TYPES or name in names:
            raise PiiConfigError("duplicate_pattern_name", f"The name {name} is already used.")
        unknown = set(entry) - {"name", "pattern", "words"}
        if unknown:
            raise PiiConfigError("invalid_pattern", f"{name}: unknown key {sorted(unknown)[0]!r}.")
        names.add(name)
        return name

    for entry in patterns:
        name = _name(entry)
        source = entry.get("pattern")
        if not isinstance(source, str) or not source or len(source) > MAX_PATTERN_LENGTH:
            raise PiiConfigError(
                "invalid_pattern", f"{name}: the pattern must be 1-{MAX_PATTERN_LENGTH} characters."
            )
        try:
            compiled = regex.compile(source, regex.VERSION0)
        except regex.error as error:
            raise PiiConfigError(
                "invalid_pattern", f"{name}: not a valid regular expression ({error})."
            ) from None
        try:
            matches_empty = compiled.fullmatch("", timeout=PATTERN_TIMEOUT_S) is not None
        except TimeoutError:
            raise PiiConfigError("invalid_pattern", f"{name}: the pattern is too slow.") from None
        if matches_empty:
            raise PiiConfigError("invalid_pattern", f"{name}: the pattern matches empty text.")
        rules.patterns.append((name, compiled))
    for entry in word_lists:
        name = _name(entry)
        words = entry.get("words")
        if not isinstance(words, list) or not words or len(words) > MAX_WORDS:
            raise PiiConfigError("invalid_word_list", f"{name}: give 1-{MAX_WORDS} words.")
        clean = []
        for word in words:
            if not isinstance(word, str) or not word.strip() or len(word) > MAX_WORD_LENGTH:
                raise PiiConfigError(
                    "invalid_word_list", f"{name}: each word is 1-{MAX_WORD_LENGTH} characters ({word!r})."
                )
            clean.append(word.strip())
        rules.patterns.append((name, regex.compile(r"(?<!\w)\L<words>(?!\w)", regex.IGNORECASE, words=clean)))
    return rules


def privacy_settings_issues(value: Any) -> list[str]:
    """Human-readable problems with a `settings["privacy"]` object; empty when it is valid."""
    if not isinstance(value, dict):
        return ["settings.privacy must be an object."]
    issues = []
    for key in ("mask_for_annotators", "mask_for_reviewers"):
        if key in value and not isinstance(value[key], bool):
            issues.append(f"settings.privacy.{key} must be true or false.")
    if "release_policy" in value and value["release_policy"] not in RELEASE_POLICIES:
        issues.append(f"settings.privacy.release_policy must be one of {', '.join(RELEASE_POLICIES)}.")
    region = value.get("default_region", "US")
    if region not in phonenumbers.SUPPORTED_REGIONS:
        issues.append(
            f"settings.privacy.default_region {region!r} is not a phone region (use ISO codes: US, DE, FR)."
        )
    for key in ("patterns", "word_lists"):
        if key in value and not isinstance(value[key], list):
            issues.append(f"settings.privacy.{key} must be a list.")
    if not issues:
        try:
            compile_custom(value.get("patterns") or [], value.get("word_lists") or [])
        except PiiConfigError as error:
            key = "word_lists" if error.code == "invalid_word_list" else "patterns"
            issues.append(f"settings.privacy.{key}: {error.detail}")
    return issues
