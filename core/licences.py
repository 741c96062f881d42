"""SPDX licence expressions: checking them, and whether an item's licence lets it into a release.

Pure (license-expression does the parsing against the SPDX licence list); the one place both the
item governance services (annotation) and releases (exports) use. docs/GOVERNANCE.md ("Consent,
licences and the release policy") explains the rules:

- non-commercial (NC) sources cannot go into a release whose licence permits commercial use;
- no-derivatives (ND) sources cannot go into any release (annotated data is a derivative) unless the
  release policy explicitly allows them;
- share-alike (SA) sources require a release licence of the same share-alike family, same or later
  version (CC BY-SA 3.0 data may be adapted under CC BY-SA 4.0, not the other way round);
- an item licence "A OR B" is usable when either choice is; "A AND B" only when both are.

    licence_conflict("CC-BY-NC-4.0", "CC-BY-4.0") == "licence_non_commercial"
    licence_conflict("CC-BY-SA-3.0", "CC-BY-SA-4.0") is None
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from core.exceptions import DomainError

_LICENCE_CHARACTERS = re.compile(r"^[A-Za-z0-9.+:() -]+$")

# Reason codes (stable: they appear in excluded.jsonl and manifest.json "exclusions").
NON_COMMERCIAL = "licence_non_commercial"
NO_DERIVATIVES = "licence_no_derivatives"
SHARE_ALIKE = "licence_share_alike"


def normalise_licence(raw: Any) -> str:
    """An SPDX licence expression ("CC-BY-4.0", "MIT OR Apache-2.0", "LicenseRef-internal"), checked
    against the SPDX licence list (license-expression) and written in its canonical case; "" when
    none is stated. Unknown identifiers are refused with their names, so a typo never reaches a
    dataset card."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise DomainError("invalid_licence", "The licence must be text: an SPDX licence expression.")
    text = " ".join(raw.split())
    if not text:
        return ""
    if len(text) > 200 or not _LICENCE_CHARACTERS.match(text):
        raise DomainError(
            "invalid_licence",
            "A licence is an SPDX expression of letters, digits, '.', '-', '+', ':' and parentheses, "
            "e.g. CC-BY-4.0 or MIT OR Apache-2.0 (at most 200 characters).",
        )
    return _normalised(text)


@lru_cache(maxsize=4096)
def _normalised(text: str) -> str:
    from license_expression import get_spdx_licensing

    try:
        info = get_spdx_licensing().validate(text)
    except Exception:  # the library raises on some malformed input instead of reporting it
        info = None
    unknown = [] if info is None else [s for s in info.invalid_symbols if not s.startswith("LicenseRef-")]
    if info is None or unknown or (info.errors and not info.invalid_symbols):
        names = f" Unknown: {', '.join(unknown)}." if unknown else ""
        raise DomainError(
            "invalid_licence",
            f"“{text}” is not an SPDX licence expression.{names} Use identifiers from "
            "https://spdx.org/licenses/ (e.g. CC-BY-4.0, CC0-1.0, MIT) or LicenseRef-<name> for your own.",
            extra={"unknown": unknown},
        )
    return info.normalized_expression if not info.invalid_symbols else text


# --- Licence terms ---------------------------------------------------------------------------------

_CC = re.compile(r"^CC-(?P<elements>BY(?:-NC)?(?:-ND|-SA)?)-(?P<version>\d+(?:\.\d+)?)(?:-.*)?$")
# Share-alike families outside Creative Commons: the release must carry the same licence.
_OTHER_SHARE_ALIKE = re.compile(r"^(ODbL-1\.0|CDLA-Sharing-1\.0|GFDL-.*|GPL-.*|AGPL-.*|LGPL-.*)$")
_OTHER_NON_COMMERCIAL = re.compile(r"^(CC-BY-NC.*|.*-NC-.*|.*NonCommercial.*)$", re.IGNORECASE)


def _terms(key: str) -> dict[str, Any]:
    """{"nc": bool, "nd": bool, "sa": family | None, "version": float} of one SPDX licence id."""
    match = _CC.match(key)
    if match:
        elements = match.group("elements").split("-")
        return {
            "nc": "NC" in elements,
            "nd": "ND" in elements,
            "sa": match.group("elements") if "SA" in elements else None,
            "version": float(match.group("version")),
        }
    other = _OTHER_SHARE_ALIKE.match(key)
    return {
        "nc": bool(_OTHER_NON_COMMERCIAL.match(key)) and not key.startswith("LicenseRef-"),
        "nd": False,
        "sa": key if other else None,
        "version": 0.0,
    }


def _parse(expression: str):
    from license_expression import get_spdx_licensing

    return get_spdx_licensing().parse(normalise_licence(expression))


def _walk(node, leaf) -> Any:
    """Evaluate a parsed expression: OR = any choice, AND = every term."""
    from license_expression import AND, OR

    if isinstance(node, OR):
        return _choose_any([_walk(arg, leaf) for arg in node.args])
    if isinstance(node, AND):
        return _choose_all([_walk(arg, leaf) for arg in node.args])
    return leaf(getattr(node, "key", str(node)))


def _choose_any(results: list[str | None]) -> str | None:
    return None if any(r is None for r in results) else results[0]


def _choose_all(results: list[str | None]) -> str | None:
    return next((r for r in results if r is not None), None)


def permits_commercial_use(release_licence: str) -> bool:
    """Whether a release under this licence may be used commercially (a LicenseRef-* is assumed to:
    a proprietary licence of your own is usually a commercial one)."""
    from license_expression import AND, OR

    def ok(node) -> bool:
        if isinstance(node, OR):
            return any(ok(arg) for arg in node.args)
        if isinstance(node, AND):
            return all(ok(arg) for arg in node.args)
        return not _terms(node.key)["nc"]

    return ok(_parse(release_licence))


@lru_cache(maxsize=4096)
def licence_conflict(
    item_licence: str, release_licence: str, *, allow_no_derivatives: bool = False
) -> str | None:
    """Why an item under `item_licence` cannot go into a release under `release_licence` (a reason
    code: NON_COMMERCIAL, NO_DERIVATIVES, SHARE_ALIKE), or None when it can. An empty item licence
    (unknown) is the release policy's business, not this function's: None. An empty release licence
    (not stated) can only be checked for ND (the release is a derivative whatever its licence)."""
    if not item_licence:
        return None
    release = _parse(release_licence) if release_licence else None
    commercial = permits_commercial_use(release_licence) if release_licence else False
    release_keys = set() if release is None else set(_keys(release))

    def leaf(key: str) -> str | None:
        terms = _terms(key)
        if terms["nd"] and not allow_no_derivatives:
            return NO_DERIVATIVES
        if terms["nc"] and commercial:
            return NON_COMMERCIAL
        if terms["sa"] and release is not None and not _share_alike_met(terms, release_keys):
            return SHARE_ALIKE
        return None

    return _walk(_parse(item_licence), leaf)


def _keys(expression) -> list[str]:
    from license_expression import get_spdx_licensing

    return list(get_spdx_licensing().license_keys(expression))


def _share_alike_met(terms: dict[str, Any], release_keys: set[str]) -> bool:
    for key in release_keys:
        other = _terms(key)
        if other["sa"] == terms["sa"] and other["version"] >= terms["version"]:
            return True
    return False
