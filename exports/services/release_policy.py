"""The project's release policy applied while a release is read (docs/GOVERNANCE.md, "Consent,
licences and the release policy"): which items are left out, and why.

`ReleaseGate(release)` decides per item from its consent and licence, with the project's policy
(projects.release_policy) and the release licence (core.licences, cached per distinct licence so the
hot path is a dict lookup). `filter_chunks` drops excluded items from each chunk of the reading
pipeline (exports/services/reading.py) and, on the first pass, records each with its reason: the
counts go to ReleaseFacts.exclusions and the list to `excluded.jsonl` (ids and reason codes, never
item content).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from core.canonical import canonical_bytes
from core.licences import licence_conflict
from exports.models import Release
from projects.release_policy import release_policy

EXCLUDED_FILE = "excluded.jsonl"

CONSENT_WITHDRAWN = "consent_withdrawn"
CONSENT_UNKNOWN = "consent_unknown"
LICENCE_UNKNOWN = "licence_unknown"

REASONS = {
    CONSENT_WITHDRAWN: "the item's consent is withdrawn",
    CONSENT_UNKNOWN: "the item's consent is unknown and the policy excludes unknown consent",
    LICENCE_UNKNOWN: "the item has no licence and the policy excludes unknown licences",
    "licence_non_commercial": "a non-commercial (NC) item licence in a release that permits commercial use",
    "licence_no_derivatives": "a no-derivatives (ND) item licence: annotated data is a derivative",
    "licence_share_alike": "a share-alike (SA) item licence the release licence does not satisfy",
}


class ReleaseGate:
    def __init__(self, release: Release):
        self.policy = release_policy(release.project)
        self.release_licence = release.licence or ""
        self.counts: Counter = Counter()
        self.excluded: list[tuple[int, str | None, str]] = []  # (item id, external id, reason)
        self._licences: dict[str, str | None] = {}

    def reason(self, consent: str, licence: str) -> str | None:
        """Why an item with this consent and licence is left out, or None when it goes in."""
        if consent == "withdrawn":
            return CONSENT_WITHDRAWN
        if consent == "unknown" and self.policy.exclude_unknown_consent:
            return CONSENT_UNKNOWN
        if not licence:
            return LICENCE_UNKNOWN if self.policy.exclude_unknown_licence else None
        found = self._licences.get(licence, "?")
        if found == "?":
            try:
                found = licence_conflict(
                    licence, self.release_licence, allow_no_derivatives=self.policy.allow_no_derivatives
                )
            except Exception:  # an item licence stored before it was checked: not judgeable, unknown
                found = LICENCE_UNKNOWN if self.policy.exclude_unknown_licence else None
            self._licences[licence] = found
        return found

    def filter_chunks(self, chunks: Iterator[tuple], *, record: bool) -> Iterator[tuple]:
        """The reading pipeline's (items, consensus, annotations, gold, ...) chunks without the items
        the policy leaves out. Items that would not be in the release anyway (no consensus, no gold
        reference) are not counted as excluded."""
        reason = self.reason
        for chunk, consensus, *rest in chunks:
            gold = rest[1] if len(rest) > 1 else {}
            kept = []
            for item in chunk:
                why = reason(item.consent, item.licence)
                if why is None:
                    kept.append(item)
                elif record and (item.id in consensus or item.id in gold):
                    self.counts[why] += 1
                    self.excluded.append((item.id, item.external_id, why))
            yield (kept, consensus, *rest)

    def facts(self) -> dict[str, Any]:
        """What the manifest and datasheet say about the policy (ReleaseFacts.release_policy)."""
        return {
            **self.policy.as_dict(),
            "release_licence": self.release_licence or None,
            "excluded_file": EXCLUDED_FILE if self.excluded else None,
        }

    def write_excluded(self, output) -> None:
        """`excluded.jsonl`: one {"item_id", "external_id", "reason"} per excluded item, in id order;
        not written when nothing was left out."""
        if not self.excluded:
            return
        with output(EXCLUDED_FILE) as handle:
            for item_id, external_id, why in self.excluded:
                handle.write(
                    canonical_bytes({"item_id": item_id, "external_id": external_id, "reason": why}) + b"\n"
                )
