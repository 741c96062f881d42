"""The facts about a release that manifest.json, croissant.json and DATASHEET.md are generated from.

`ReleaseTally` counts what the records themselves say while they stream past a writer (splits, labels,
annotators, sources, synthetic share, mean confidence and agreement) in memory bounded by the number
of distinct labels, annotators and sources, never by the number of records. The build adds what only
the database knows (consensus methods, filter, agreement coefficients, source licences and consent,
transformations) and passes one `ReleaseFacts` to all three generators, so they cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from exports.records import UNSPLIT, ExportRecord

# The answer shapes whose labels are counted per object (each box, span, segment... counts once).
_OBJECT_LISTS = {"spans", "relations", "bbox", "polygon", "keypoints", "audio_segments", "video_segments"}
_CHOICE = {"single_choice", "image_class", "multiple_choice", "rating"}


@dataclass(frozen=True)
class Source:
    """Where items came from. `kind` follows the EU AI Act training-data summary template's categories."""

    name: str
    items: int
    licence: str | None = None  # SPDX identifier or a short licence name; None = unknown
    consent: str = "unknown"  # "obtained", "not_required", "not_obtained", "unknown"
    # "public", "licensed", "scraped", "user", "synthetic", "internal" (from the item's provenance
    # source, #18), or "other" for items without one ("synthetic" when flagged synthetic).
    kind: str = "other"
    url: str | None = None
    terms: Mapping[str, Any] = field(default_factory=dict)  # the provenance source's terms, fixed key order

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "items": self.items,
            "licence": self.licence,
            "consent": self.consent,
            "kind": self.kind,
            "url": self.url,
            "terms": dict(self.terms),
        }


@dataclass(frozen=True)
class ReleaseFacts:
    project_name: str
    project_slug: str
    release_name: str
    release_number: int
    schema: Mapping[str, Any]
    schema_version: int
    guideline_version: int | None
    licence: str | None  # of the release as a whole (SPDX), None = not stated
    consensus: Mapping[str, Mapping[str, Any]]  # control -> {"method": ..., params}
    filter: Mapping[str, Any]
    counts: Mapping[str, Any]  # from ReleaseTally.summary()["counts"]
    agreement: Mapping[str, Any]  # control -> {"metric": ..., "value": ..., ...}
    annotators: Mapping[str, int]  # pseudonym -> annotations in the release
    sources: tuple[Source, ...]
    synthetic_share: float
    transformations: tuple[Mapping[str, Any], ...] = ()
    formats: tuple[str, ...] = ()
    organisation: str = ""
    description: str = ""
    published: str | None = None  # ISO date stored with the release (never the build's clock)
    url: str | None = None
    languages: tuple[str, ...] = ()
    intended_uses: str = ""
    limitations: str = ""
    contact: str = ""
    media: Mapping[str, Any] = field(default_factory=dict)  # {"included": bool, "files": n, "bytes": n}
    # Governance (#18; docs/GOVERNANCE.md). Each is {} when the feature has nothing to say.
    # personal_data: {"scanned": bool, "policy": "drop"|"mask"|"flag", "findings": {type: n},
    #                 "items": {"dropped": n, "masked": n, "flagged": n}}
    personal_data: Mapping[str, Any] = field(default_factory=dict)
    # exclusions: items the release policy left out, by reason code: {"consent_withdrawn": n, ...}
    exclusions: Mapping[str, int] = field(default_factory=dict)
    # release_policy: the policy the build applied (exports/services/release_policy.py ReleaseGate.facts)
    release_policy: Mapping[str, Any] = field(default_factory=dict)
    # supersedes: the releases this one replaces and why, [{"number", "name", "reason", "erased_items"}]
    # (an erasure's successor; counts only, never which items). () for an ordinary release.
    supersedes: tuple[Mapping[str, Any], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def modalities(self) -> list[str]:
        kinds = {
            "text": "text",
            "rich_text": "text",
            "conversation": "text",
            "candidates": "text",
            "json": "structured data",
            "image": "image",
            "audio": "audio",
            "video": "video",
        }
        return sorted({kinds.get(f.get("type"), "other") for f in self.schema.get("fields", [])})


class ReleaseTally:
    """Counts per split and label, annotators, sources and synthetic share, while records stream."""

    def __init__(self, schema: Mapping[str, Any]):
        self._types = {c["name"]: c["type"] for c in schema.get("controls", [])}
        self.records = 0
        self.splits: Counter[str] = Counter()
        self.labels: dict[str, Counter[str]] = {name: Counter() for name in self._types}
        self.annotators: Counter[str] = Counter()
        self.sources: Counter[str] = Counter()
        self.synthetic = 0
        self.gold = 0  # records labelled with their gold reference answer (AI_RMF.json)
        self._confidence: dict[str, list[float]] = {}
        self._agreement: dict[str, list[float]] = {}

    def wrap(self, records: Iterable[ExportRecord]) -> Iterator[ExportRecord]:
        """Pass records through unchanged, observing each."""
        for record in records:
            self.observe(record)
            yield record

    def observe(self, record: ExportRecord) -> None:
        # Hot path (once per record): Counter[key] += 1 rather than Counter.update (a Python-level
        # method with type checks), and the one-label choice answer counted without a list.
        self.records += 1
        self.splits[record.split or UNSPLIT] += 1
        types = self._types
        for name, answer in record.labels.items():
            counter = self.labels.get(name)
            if counter is not None:
                kind = types[name]
                if type(answer) is str and kind in _CHOICE:
                    counter[answer] += 1
                else:
                    for key in _label_keys(kind, answer):
                        counter[key] += 1
        annotators = self.annotators
        if record.annotations:
            for annotation in record.annotations:
                annotators[annotation.annotator] += 1
        else:
            names = record.lineage.get("annotators")
            if isinstance(names, list):
                for name in names:
                    annotators[name if type(name) is str else str(name)] += 1
        lineage = record.lineage
        self.sources[str(lineage.get("source") or "unknown")] += 1
        if lineage.get("synthetic"):
            self.synthetic += 1
        if lineage.get("label_source") == "gold":
            self.gold += 1
        target = self._confidence
        for name, value in record.confidence.items():
            if value is not None:
                pair = target.get(name)
                if pair is None:
                    pair = target[name] = [0.0, 0]
                pair[0] += value
                pair[1] += 1
        target = self._agreement
        for name, value in record.agreement.items():
            if value is not None:
                pair = target.get(name)
                if pair is None:
                    pair = target[name] = [0.0, 0]
                pair[0] += value
                pair[1] += 1

    def summary(self) -> dict[str, Any]:
        def means(target: dict[str, list[float]]) -> dict[str, float]:
            return {name: round(total / n, 6) for name, (total, n) in sorted(target.items()) if n}

        return {
            "counts": {
                "records": self.records,
                "splits": dict(sorted(self.splits.items())),
                "labels": {
                    name: dict(sorted(counter.items())) for name, counter in sorted(self.labels.items())
                },
            },
            "annotators": dict(sorted(self.annotators.items())),
            "sources": dict(sorted(self.sources.items())),
            "synthetic_share": round(self.synthetic / self.records, 6) if self.records else 0.0,
            "mean_confidence": means(self._confidence),
            "mean_item_agreement": means(self._agreement),
        }


def _label_keys(control_type: str, answer: Any) -> list[str]:
    """What one answer counts as, per label: list elements, each object's label, the pairwise choice."""
    if control_type in _OBJECT_LISTS and isinstance(answer, list):
        return [str(obj.get("label", "(unlabelled)")) for obj in answer if isinstance(obj, dict)]
    if control_type in _CHOICE:
        return [str(v) for v in answer] if isinstance(answer, list) else [str(answer)]
    if control_type == "taxonomy" and isinstance(answer, list):
        paths = answer if answer and isinstance(answer[0], list) else [answer]
        return [" / ".join(map(str, path)) for path in paths]
    if control_type == "pairwise" and isinstance(answer, dict):
        return [str(answer.get("choice"))]
    if control_type == "chat_turn_labels" and isinstance(answer, dict):
        out = []
        for value in answer.values():
            out += [str(v) for v in value] if isinstance(value, list) else [str(value)]
        return out
    return ["(answered)"]
