"""What the format writers consume: one `ExportRecord` per item and one `ExportContext` per release.

Pure data, no Django. The release build (exports/services/writer.py, later) reads items, their consensus
results and, optionally, their annotations through `annotation.items.selectors` and turns each item into an
`ExportRecord`. Writers get the records as an iterator **already in stable order** (by item id) and
must consume it once, streaming: no writer keeps more than a bounded buffer of records.

Answers use the label-schema answer shapes of docs/SCHEMA.md unchanged: boxes and polygons in pixels
of the original image (origin top-left), spans with Unicode code-point offsets, segments in seconds,
pairwise ``{"choice", "strength"?}``, ranking as a list of candidate ids best first, transcription as
a string.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

# Split names as stored on items; None (no split made yet) is exported as UNSPLIT.
SPLITS = ("train", "validation", "test")
UNSPLIT = "unsplit"


def file_suffix(name: str) -> str:
    """The extension of a file name, path or URL with its dot (``.jpg``), lower-case, or ``""`` when
    there is none or it is not 1 to 8 letters and digits: safe to put in a file name."""
    name = name.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not ext.isascii() or not ext.isalnum() or len(ext) > 8:
        return ""
    return "." + ext.lower()


@dataclass(frozen=True, slots=True)
class Media:
    """The item's media file, as the release sees it.

    `path` is either a path relative to the release root (the build copies the file there:
    ``media/<item id><ext>``) or a reference to a file outside the release: an http(s) URL, or, in
    a release built without media, s3://bucket/key for bucket media and the server path of the
    item's media endpoint (``/api/projects/<p>/items/<i>/media/``) for stored files.
    Unknown sizes are None.
    """

    path: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None  # seconds (audio, video)
    frame_count: int | None = None

    def __post_init__(self) -> None:
        # Validated here so that writers need not scan media for NaN (canonical JSON refuses it).
        for value in (self.width, self.height, self.duration, self.frame_count):
            if type(value) is float and not math.isfinite(value):
                raise ValueError(f"media of {self.path!r}: {value!r} is not a number: use None")

    @property
    def is_url(self) -> bool:
        """Whether the file is referenced (a URL or a server path) rather than copied into the release."""
        return self.path.startswith(("http://", "https://", "s3://", "/"))

    @property
    def suffix(self) -> str:
        """The file extension with its dot (``.jpg``), lower-case, or ``""``; safe to put in a file name."""
        return file_suffix(self.path)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "width": self.width,
            "height": self.height,
            "duration": self.duration,
            "frame_count": self.frame_count,
        }


@dataclass(frozen=True, slots=True)
class RawAnnotation:
    """One annotator's answer, pseudonymised: `annotator` is a stable pseudonym, never a user id."""

    annotation_id: int
    annotator: str  # e.g. "ann-3f9c2a71"
    result: Mapping[str, Any]  # {control name: answer}
    revision: int = 1
    review: str | None = None  # "accepted", "rejected", "corrected" or None (not reviewed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "annotation_id": self.annotation_id,
            "annotator": self.annotator,
            "result": dict(self.result),
            "revision": self.revision,
            "review": self.review,
        }


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """One item of a release with its labels.

    `labels` maps control name to the consensus answer (only answered controls are present);
    `confidence` and `agreement` map control name to a number in [0, 1] or None when not defined
    (one annotator, or a metric that is 0/0). `lineage` is free-form provenance written as is:
    source and checksum of the item, annotation ids, pseudonymous annotators, guideline and schema
    versions, review decision, aggregation method (see `lineage_dict`).
    """

    item_id: int
    external_id: str | None
    split: str | None
    data: Mapping[str, Any]
    media: Media | None = None
    schema_version: int = 1
    labels: Mapping[str, Any] = field(default_factory=dict)
    confidence: Mapping[str, float | None] = field(default_factory=dict)
    agreement: Mapping[str, float | None] = field(default_factory=dict)
    annotations: tuple[RawAnnotation, ...] = ()
    lineage: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Hot path (once per record): a float x is finite exactly when x - x == 0 (NaN and inf give NaN).
        for values in (self.confidence, self.agreement):
            for value in values.values():
                if value is not None and (type(value) is not float or value - value != 0.0):
                    self._check_metrics()
                    return

    def _check_metrics(self) -> None:
        for kind, values in (("confidence", self.confidence), ("agreement", self.agreement)):
            for name, value in values.items():
                if value is not None and not (isinstance(value, int | float) and math.isfinite(value)):
                    raise ValueError(
                        f"{kind} of {name!r} on item {self.item_id} is {value!r}: use None, not NaN"
                    )

    @property
    def split_name(self) -> str:
        return self.split or UNSPLIT


_FIELDS = (
    "item_id",
    "external_id",
    "split",
    "data",
    "media",
    "schema_version",
    "labels",
    "confidence",
    "agreement",
    "annotations",
    "lineage",
)
if tuple(f.name for f in fields(ExportRecord)) != _FIELDS:  # new_record sets them by position
    raise RuntimeError("new_record does not match ExportRecord's fields")
_SETTERS = tuple(getattr(ExportRecord, name).__set__ for name in _FIELDS)
_new = object.__new__


def new_record(
    item_id: int,
    external_id: str | None,
    split: str | None,
    data: Mapping[str, Any],
    media: Media | None,
    schema_version: int,
    labels: Mapping[str, Any],
    confidence: Mapping[str, float | None],
    agreement: Mapping[str, float | None],
    annotations: tuple[RawAnnotation, ...],
    lineage: Mapping[str, Any],
) -> ExportRecord:
    """ExportRecord(...) with every field given, in field order, validated the same way: the build's
    hot path (the frozen dataclass's generated __init__ costs three times as much per record)."""
    record = _new(ExportRecord)
    s = _SETTERS
    s[0](record, item_id)
    s[1](record, external_id)
    s[2](record, split)
    s[3](record, data)
    s[4](record, media)
    s[5](record, schema_version)
    s[6](record, labels)
    s[7](record, confidence)
    s[8](record, agreement)
    s[9](record, annotations)
    s[10](record, lineage)
    record.__post_init__()
    return record


def lineage_dict(
    *,
    source: str | None,
    checksum: str | None,
    annotation_ids: list[int],
    annotators: list[str],
    guideline_version: int | None,
    schema_version: int,
    review: str | None,
    aggregation: Mapping[str, str],
    synthetic: bool = False,
    annotation_versions: list[dict[str, Any]] | None = None,
    label_source: str = "consensus",
    gold: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The lineage of one record in the shape every format writes (keys fixed, lists sorted).

    `annotation_versions`: per annotation of the item, by id, the guideline and schema versions
    its answer was given under (`{"annotation_id", "guideline_version", "schema_version"}`);
    `guideline_version` is the newest of them and `schema_version` the version the labels are
    written in (the release's). `label_source` is "consensus" or "gold" (the item's reference
    answer; `gold` then says `{"source": "manual" | "consensus", "schema_version": n}`).
    `provenance` is the item's provenance source (#18) as `{"kind", "name", "terms"}` (terms in the
    fixed order of annotation/provenance/terms.py), or None when the item has none."""
    # Hot path (once per record): most records have one annotation and one control.
    return {
        "source": source,
        "checksum": checksum,
        "annotation_ids": sorted(annotation_ids) if len(annotation_ids) > 1 else list(annotation_ids),
        "annotators": sorted(set(annotators)) if len(annotators) > 1 else list(annotators),
        "guideline_version": guideline_version,
        "schema_version": schema_version,
        "review": review,
        "aggregation": dict(sorted(aggregation.items())) if len(aggregation) > 1 else dict(aggregation),
        "synthetic": synthetic,
        "annotation_versions": list(annotation_versions or ()),
        "label_source": label_source,
        "gold": dict(gold) if gold is not None else None,
        "provenance": provenance,
    }


@dataclass(frozen=True)
class ExportContext:
    """Release-wide facts a writer needs: the schema (definition of the exported version) and options."""

    project_name: str
    project_slug: str
    schema: Mapping[str, Any]
    release_name: str
    release_number: int
    include_raw: bool = False  # add each record's raw annotations where the format has room for them

    def controls(self, *types: str) -> list[Mapping[str, Any]]:
        """The schema's controls of the given types, in schema order (all controls when none given)."""
        return [c for c in self.schema.get("controls", []) if not types or c.get("type") in types]

    def field(self, name: str) -> Mapping[str, Any] | None:
        for item in self.schema.get("fields", []):
            if item.get("name") == name:
                return item
        return None

    def field_source(self, name: str) -> str:
        """The key in item data that schema field `name` reads."""
        found = self.field(name)
        return (found or {}).get("source") or name

    def fields_of_type(self, *types: str) -> list[Mapping[str, Any]]:
        return [f for f in self.schema.get("fields", []) if f.get("type") in types]


def label_values(control: Mapping[str, Any]) -> list[str]:
    """A control's label values in schema order (the order category ids are numbered in)."""
    return [label["value"] for label in control.get("labels", [])]
