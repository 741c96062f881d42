"""AI_RMF.json: the release's facts mapped to NIST AI RMF 1.0 (NIST AI 100-1) subcategories of MAP and
MEASURE that a dataset can evidence, each with a `status` (evidenced | partial | gap), the facts it
rests on and the gaps stated in words.

Pure: `build_ai_rmf(facts) -> dict`, from the same ReleaseFacts as manifest.json, croissant.json and
DATASHEET.md (so they cannot disagree). The release writer writes it as canonical JSON, so the manifest
lists and signs it and `tessera pull --verify` checks it. The mapping is Tessera's reading of the RMF's
subcategory text (quoted in `title`), not a NIST certification: a gap is a question for the team, and
an evidenced row says which facts answer it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exports.facts import ReleaseFacts

AI_RMF_NAME = "AI_RMF.json"
FRAMEWORK = "NIST AI RMF 1.0 (NIST AI 100-1, January 2023)"
EVIDENCED, PARTIAL, GAP = "evidenced", "partial", "gap"
_KNOWN_KINDS = ("public", "licensed", "scraped", "user", "synthetic", "internal")

TITLES = {
    "MAP 2.3": "Scientific integrity and TEVV considerations are identified and documented, including "
    "those related to experimental design, data collection and selection (e.g., availability, "
    "representativeness, suitability), system trustworthiness, and construct validation.",
    "MAP 4.1": "Approaches for mapping AI technology and legal risks of its components - including the use "
    "of third-party data or software - are in place, followed, and documented, as are risks of "
    "infringement of a third party's intellectual property or other rights.",
    "MAP 4.2": "Internal risk controls for components of the AI system, including third-party AI "
    "technologies, are identified and documented.",
    "MEASURE 2.1": "Test sets, metrics, and details about the tools used during TEVV are documented.",
    "MEASURE 2.2": "Evaluations involving human subjects meet applicable requirements (including human "
    "subject protection) and are representative of the relevant population.",
    "MEASURE 2.3": "AI system performance or assurance criteria are measured qualitatively or "
    "quantitatively and demonstrated for conditions similar to deployment setting(s). Measures are "
    "documented.",
    "MEASURE 2.5": "The AI system to be deployed is demonstrated to be valid and reliable. Limitations "
    "of the generalizability beyond the conditions under which the technology was developed are documented.",
    "MEASURE 2.10": "Privacy risk of the AI system - as identified in the MAP function - is examined and "
    "documented.",
}


def _status(evidence: int, needed: int) -> str:
    return EVIDENCED if evidence >= needed else PARTIAL if evidence else GAP


def _row(key: str, status: str, facts: Mapping[str, Any], gaps: list[str]) -> dict[str, Any]:
    return {"id": key, "title": TITLES[key], "status": status, "facts": dict(facts), "gaps": gaps}


def _kinds(facts: ReleaseFacts) -> dict[str, int]:
    out: dict[str, int] = {}
    for source in facts.sources:
        out[source.kind] = out.get(source.kind, 0) + source.items
    return dict(sorted(out.items()))


def _map_2_3(facts: ReleaseFacts) -> dict[str, Any]:
    kinds = _kinds(facts)
    total = sum(kinds.values())
    attributed = sum(n for kind, n in kinds.items() if kind in _KNOWN_KINDS)
    gaps = []
    if attributed < total:
        gaps.append(
            f"{total - attributed} of {total} items have no provenance source (kind unknown): attribute "
            "their imports to a source (docs/GOVERNANCE.md)."
        )
    status = EVIDENCED if total and attributed == total else PARTIAL if attributed else GAP
    return _row(
        "MAP 2.3",
        status,
        {
            "provenance_kinds": kinds,
            "sources": [
                {"name": s.name, "kind": s.kind, "items": s.items, "terms": dict(s.terms)}
                for s in sorted(facts.sources, key=lambda s: s.name)
            ],
            "splits": dict(facts.counts.get("splits", {})),
            "synthetic_share": facts.synthetic_share,
        },
        gaps,
    )


def _map_4_1(facts: ReleaseFacts) -> dict[str, Any]:
    sources = sorted(facts.sources, key=lambda s: s.name)
    unknown = [s.name for s in sources if not s.licence]
    licensed = [s for s in sources if s.kind == "licensed"]
    scraped = [s for s in sources if s.kind == "scraped"]
    gaps = []
    if not facts.licence:
        gaps.append("The release states no licence.")
    if unknown:
        gaps.append(f"Sources without a licence: {', '.join(unknown)}.")
    ignored = [s.name for s in scraped if s.terms.get("robots") == "ignored"]
    if ignored:
        gaps.append(f"Scraped sources that ignored robots.txt: {', '.join(ignored)}.")
    checks = [bool(facts.licence), not unknown and bool(sources), not ignored]
    return _row(
        "MAP 4.1",
        _status(sum(checks), len(checks)),
        {
            "release_licence": facts.licence,
            "licences": {s.name: s.licence for s in sources},
            "agreements": {s.name: s.terms.get("agreement") for s in licensed},
            "scraped": {
                s.name: {
                    "domains": s.terms.get("domains", []),
                    "robots": s.terms.get("robots"),
                    "opt_out": s.terms.get("opt_out"),
                }
                for s in scraped
            },
        },
        gaps,
    )


def _consent(facts: ReleaseFacts) -> dict[str, int]:
    out: dict[str, int] = {}
    for source in facts.sources:
        out[source.consent] = out.get(source.consent, 0) + source.items
    return dict(sorted(out.items()))


def _map_4_2(facts: ReleaseFacts) -> dict[str, Any]:
    consent = _consent(facts)
    gaps = []
    if consent.get("unknown"):
        gaps.append(f"{consent['unknown']} items have unknown consent status.")
    if not facts.exclusions:
        gaps.append("No release policy excluded items (or none is configured).")
    checks = [not consent.get("unknown") and bool(consent), bool(facts.exclusions)]
    return _row(
        "MAP 4.2",
        _status(sum(checks), len(checks)),
        {
            "consent": consent,
            "exclusions": dict(sorted(facts.exclusions.items())),
            "filter": dict(facts.filter),
        },
        gaps,
    )


def _measure_2_1(facts: ReleaseFacts, gold_items: int) -> dict[str, Any]:
    splits = dict(facts.counts.get("splits", {}))
    gaps = []
    if not splits.get("test"):
        gaps.append("The release has no test split.")
    if not gold_items:
        gaps.append("No gold (reference-answer) items are in the release.")
    checks = [bool(splits.get("test")), bool(gold_items)]
    return _row(
        "MEASURE 2.1",
        _status(sum(checks), len(checks)),
        {
            "splits": splits,
            "gold_items": gold_items,
            "consensus": {c: dict(m) for c, m in sorted(facts.consensus.items())},
            "tool": "Tessera",
        },
        gaps,
    )


def _measure_2_2(facts: ReleaseFacts) -> dict[str, Any]:
    user = [s for s in sorted(facts.sources, key=lambda s: s.name) if s.kind == "user"]
    bases = {s.name: s.terms.get("legal_basis") for s in user}
    gaps = ["Annotator demographics are not collected; representativeness of annotators is not assessed."]
    missing = [name for name, basis in bases.items() if not basis]
    if missing:
        gaps.append(f"User-data sources without a legal basis: {', '.join(missing)}.")
    return _row(
        "MEASURE 2.2",
        PARTIAL if facts.annotators else GAP,
        {"annotators": len(facts.annotators), "pseudonymous": True, "user_data_legal_bases": bases},
        gaps,
    )


def _measure_2_3(facts: ReleaseFacts) -> dict[str, Any]:
    agreement = {c: dict(v) for c, v in sorted(facts.agreement.items())}
    controls = [c.get("name") for c in facts.schema.get("controls", [])]
    gaps = []
    missing = [c for c in controls if c not in agreement]
    if missing:
        gaps.append(f"No agreement measured for: {', '.join(map(str, missing))}.")
    return _row(
        "MEASURE 2.3",
        _status(len(controls) - len(missing), len(controls)) if controls else GAP,
        {"agreement": agreement, "records": facts.counts.get("records", 0)},
        gaps,
    )


def _measure_2_5(facts: ReleaseFacts, gold_items: int) -> dict[str, Any]:
    gaps = []
    if not facts.limitations:
        gaps.append("The release states no limitations.")
    if not gold_items:
        gaps.append("No gold items: label accuracy against reference answers is not measured.")
    checks = [bool(facts.agreement), bool(gold_items), bool(facts.limitations)]
    return _row(
        "MEASURE 2.5",
        _status(sum(checks), len(checks)),
        {
            "agreement_measured": sorted(facts.agreement),
            "gold_items": gold_items,
            "limitations": facts.limitations or None,
            "transformations": [dict(t) for t in facts.transformations],
        },
        gaps,
    )


def _measure_2_10(facts: ReleaseFacts) -> dict[str, Any]:
    personal = dict(facts.personal_data)
    user = [s for s in facts.sources if s.kind == "user"]
    gaps = []
    if not personal.get("scanned"):
        gaps.append("Item content was not scanned for personal data before this release.")
    without_basis = sorted(s.name for s in user if not s.terms.get("legal_basis"))
    if without_basis:
        gaps.append(f"User-data sources without a legal basis: {', '.join(without_basis)}.")
    consent = _consent(facts)
    if consent.get("unknown"):
        gaps.append(f"{consent['unknown']} items have unknown consent status.")
    checks = [bool(personal.get("scanned")), not without_basis, not consent.get("unknown")]
    return _row(
        "MEASURE 2.10",
        _status(sum(checks), len(checks)),
        {
            "personal_data": personal,
            "consent": consent,
            "user_data_legal_bases": {
                s.name: s.terms.get("legal_basis") for s in sorted(user, key=lambda s: s.name)
            },
            "annotators_pseudonymous": True,
        },
        gaps,
    )


def build_ai_rmf(facts: ReleaseFacts, *, gold_items: int = 0) -> dict[str, Any]:
    rows = [
        _map_2_3(facts),
        _map_4_1(facts),
        _map_4_2(facts),
        _measure_2_1(facts, gold_items),
        _measure_2_2(facts),
        _measure_2_3(facts),
        _measure_2_5(facts, gold_items),
        _measure_2_10(facts),
    ]
    statuses = {EVIDENCED: 0, PARTIAL: 0, GAP: 0}
    for row in rows:
        statuses[row["status"]] += 1
    return {
        "framework": FRAMEWORK,
        "generated_by": "Tessera",
        "release": {
            "project": facts.project_slug,
            "name": facts.release_name,
            "number": facts.release_number,
            "published": facts.published,
        },
        "summary": statuses,
        "subcategories": rows,
    }
