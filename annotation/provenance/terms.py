"""The terms each kind of provenance source must state, checked without Django (pure).

`clean_terms(kind, raw) -> dict` returns the terms in a fixed key order (the order of TERMS[kind]),
strings stripped, and raises `TermsError(field, reason)` naming the first wrong field, so the API
can answer 400 with a `code` that names it. Licences are SPDX expressions checked against the SPDX
licence list with license-expression (the approach of exports.services.validation.normalise_licence,
kept here because annotation sits below exports).
"""

from __future__ import annotations

import re
from typing import Any

KINDS = ("public", "licensed", "scraped", "user", "synthetic", "internal")

# GDPR Art. 6(1) (a)-(f).
LEGAL_BASES = (
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
)
ROBOTS_POLICIES = ("respected", "ignored", "not_applicable")

# kind -> ((field, required, type)); type: "text", "url", "licence", "domains", "date", "choice:<set>"
TERMS: dict[str, tuple[tuple[str, bool, str], ...]] = {
    "public": (("dataset", True, "text"), ("url", True, "url"), ("licence", True, "licence")),
    "licensed": (
        ("licensor", True, "text"),
        ("agreement", True, "text"),
        ("licence", False, "licence"),
    ),
    "scraped": (
        ("crawler", True, "text"),
        ("domains", True, "domains"),
        ("period_start", True, "date"),
        ("period_end", True, "date"),
        ("robots", True, "choice:robots"),
        ("opt_out", False, "text"),
    ),
    "user": (("legal_basis", True, "choice:legal_basis"), ("notice_url", False, "url")),
    "synthetic": (
        ("generator", True, "text"),
        ("model", True, "text"),
        ("prompt_hash", False, "hash"),
    ),
    "internal": (("owner", True, "text"),),
}
_CHOICES = {"robots": ROBOTS_POLICIES, "legal_basis": LEGAL_BASES}
_TEXT_MAX = 300
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_DOMAIN = re.compile(r"^(?=.{1,253}$)(\*\.)?([a-z0-9](-*[a-z0-9])*\.)+[a-z]{2,63}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HASH = re.compile(r"^(sha256:)?[0-9a-f]{64}$")
_LICENCE_CHARACTERS = re.compile(r"^[A-Za-z0-9.\-+:() ]+$")


class TermsError(ValueError):
    """`field` is the wrong term (or "kind"), `reason` says why, for people."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def clean_terms(kind: str, raw: Any) -> dict[str, Any]:
    if kind not in TERMS:
        raise TermsError("kind", f"must be one of {', '.join(KINDS)}")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise TermsError("terms", "must be an object")
    spec = TERMS[kind]
    known = {name for name, _, _ in spec}
    for key in sorted(raw):
        if key not in known:
            raise TermsError(key, f"is not a term of a {kind} source; use {', '.join(n for n, _, _ in spec)}")
    out: dict[str, Any] = {}
    for name, required, type_ in spec:
        value = raw.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "" or value == []:
            if required:
                raise TermsError(name, f"is required for a {kind} source")
            continue
        out[name] = _check(name, type_, value)
    if kind == "scraped" and out["period_start"] > out["period_end"]:
        raise TermsError("period_end", "is before period_start")
    return out


def _check(name: str, type_: str, value: Any) -> Any:
    if type_ == "domains":
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(d, str) for d in items):
            raise TermsError(name, "must be a list of domain names")
        domains = sorted({d.strip().lower() for d in items if d.strip()})
        if not domains:
            raise TermsError(name, "must name at least one domain")
        for domain in domains:
            if not _DOMAIN.match(domain):
                raise TermsError(name, f"“{domain}” is not a domain name (e.g. example.org)")
        return domains
    if not isinstance(value, str):
        raise TermsError(name, "must be text")
    if len(value) > _TEXT_MAX:
        raise TermsError(name, f"is {len(value)} characters; the limit is {_TEXT_MAX}")
    if type_ == "url" and not _URL.match(value):
        raise TermsError(name, "must be an http(s) URL")
    if type_ == "date" and not _is_date(value):
        raise TermsError(name, "must be a date YYYY-MM-DD")
    if type_ == "hash" and not _HASH.match(value.lower()):
        raise TermsError(name, "must be a SHA-256 hex digest (64 hex digits, optionally sha256:)")
    if type_ == "hash":
        return value.lower()
    if type_.startswith("choice:"):
        choices = _CHOICES[type_.split(":", 1)[1]]
        if value not in choices:
            raise TermsError(name, f"must be one of {', '.join(choices)}")
    if type_ == "licence":
        return normalise_spdx(name, value)
    return value


def _is_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    from datetime import date

    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def normalise_spdx(field: str, raw: str) -> str:
    """An SPDX licence expression in its canonical case (LicenseRef-<name> allowed), or TermsError."""
    text = " ".join(raw.split())
    if len(text) > 200 or not _LICENCE_CHARACTERS.match(text):
        raise TermsError(field, "must be an SPDX expression such as CC-BY-4.0 or MIT OR Apache-2.0")
    from license_expression import get_spdx_licensing

    try:
        info = get_spdx_licensing().validate(text)
    except Exception:  # the library raises on some malformed input instead of reporting it
        info = None
    unknown = [] if info is None else [s for s in info.invalid_symbols if not s.startswith("LicenseRef-")]
    if info is None or unknown or (info.errors and not info.invalid_symbols):
        names = f" (unknown: {', '.join(unknown)})" if unknown else ""
        raise TermsError(
            field, f"“{text}” is not an SPDX licence expression{names}; see https://spdx.org/licenses/"
        )
    return info.normalized_expression if not info.invalid_symbols else text


def summary(kind: str, name: str, terms: dict[str, Any]) -> dict[str, Any]:
    """The provenance written into each record's lineage and the manifest: {kind, name, terms}."""
    return {"kind": kind, "name": name, "terms": dict(terms)}
