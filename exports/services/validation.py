"""Checking and normalising what a release request says: filter, licence (SPDX), languages (BCP 47),
free-text descriptions."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from core.exceptions import DomainError
from core.licences import normalise_licence  # noqa: F401  (moved to core; imported from here by create)

FILTER_KEYS = {"reviewed", "gold", "split", "min_agreement", "created_from", "created_until"}


_SPLIT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,49}$")


_UN_M49_DIGITS = {f"{n:03d}" for n in range(1000)}  # a BCP 47 region of three ASCII digits


def normalise_filter(raw: Any) -> dict[str, Any]:
    """The release filter with only known keys and canonical values (stored and put in the manifest)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DomainError("bad_filter", "The filter must be an object.")
    unknown = sorted(set(raw) - FILTER_KEYS)
    if unknown:
        raise DomainError("bad_filter", f"Unknown filter key(s): {', '.join(unknown)}.")
    out: dict[str, Any] = {}
    for key in ("reviewed", "gold"):
        if key in raw:
            if not isinstance(raw[key], bool):
                raise DomainError("bad_filter", f"{key} must be true or false.")
            if raw[key]:
                out[key] = True
    if raw.get("split") is not None:
        if not isinstance(raw["split"], str) or not _SPLIT.match(raw["split"]):
            raise DomainError("bad_filter", "split must be a split name (letters, digits, -_.).")
        out["split"] = raw["split"]
    if raw.get("min_agreement") is not None:
        value = raw["min_agreement"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise DomainError("bad_filter", "min_agreement must be a number from 0 to 1.")
        out["min_agreement"] = float(value)
    for key in ("created_from", "created_until"):
        if raw.get(key) is not None:
            try:
                out[key] = date.fromisoformat(str(raw[key])).isoformat()
            except ValueError:
                raise DomainError("bad_filter", f"{key} must be a date (YYYY-MM-DD).") from None
    if "created_from" in out and "created_until" in out and out["created_from"] > out["created_until"]:
        raise DomainError("bad_filter", "created_from is after created_until.")
    return out


_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


MAX_LANGUAGES = 20


MAX_DESCRIPTION = 5000


def normalise_languages(raw: Any) -> list[str]:
    """BCP 47 language tags ("en", "pt-BR"), from a list or a comma-separated text; duplicates dropped,
    order kept, the language subtag in lower case."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        raw = [part for part in raw.replace(";", ",").split(",")]
    if not isinstance(raw, list) or not all(isinstance(tag, str) for tag in raw):
        raise DomainError(
            "invalid_languages", "languages must be a list of language tags such as en or pt-BR."
        )
    out: list[str] = []
    for tag in (tag.strip() for tag in raw):
        if not tag:
            continue
        if not _LANGUAGE.match(tag) or len(tag) > 35:
            raise DomainError(
                "invalid_languages", f"“{tag[:40]}” is not a language tag (BCP 47, such as en, de or pt-BR)."
            )
        tag = _bcp47_case(tag)
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_LANGUAGES:
        raise DomainError("invalid_languages", f"At most {MAX_LANGUAGES} languages.")
    return out


def _bcp47_case(tag: str) -> str:
    """The conventional case of a BCP 47 tag: language lower, script title, region upper (pt-BR,
    zh-Hant-TW, es-419)."""
    language, *subtags = tag.split("-")
    out = [language.lower()]
    for subtag in subtags:
        if len(subtag) == 4 and subtag.isalpha():
            out.append(subtag.title())
        elif (len(subtag) == 2 and subtag.isalpha()) or (len(subtag) == 3 and subtag in _UN_M49_DIGITS):
            out.append(subtag.upper())
        else:
            out.append(subtag.lower())
    return "-".join(out)


def description_text(raw: Any, name: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise DomainError(f"invalid_{name}", f"{name} must be text.")
    text = raw.strip().replace("\r\n", "\n")
    if len(text) > MAX_DESCRIPTION:
        raise DomainError(f"invalid_{name}", f"{name} is at most {MAX_DESCRIPTION:,} characters.")
    return text
