"""Label Studio annotations and predictions -> Tessera answers. Pure: no Django imports.

A Label Studio task carries `annotations[]` (each with `result[]`, `completed_by`, `was_cancelled`,
`lead_time`, `created_at`) and `predictions[]` (each with `result[]`, `model_version`, `score`).
`convert_task` turns them into {control name: answer} results for a Tessera label schema, or says,
per annotation and prediction, why it cannot. Nothing is dropped silently: a region that cannot be
converted makes its whole annotation (or prediction) a problem with a reason, never a shorter answer.

The contract with the Label Studio config converter (projects/schema/labelstudio.py): a Tessera
control's `name` is the Label Studio control's name (`from_name` in results); the item field it
answers reads the object's `value` without `$`. Results are matched to controls by `from_name` only.

What converts (docs/DATA.md has the same table):

    choices          single_choice, multiple_choice, image_class   {"choices": [...]}
    taxonomy         taxonomy                                      {"taxonomy": [[path...], ...]}
    labels           spans (start/end/text), audio_segments, video_segments (start/end seconds)
    timelinelabels   video_segments (frame ranges -> seconds with the video's frame rate)
    relation         relations (the relations control of the spans it joins)
    rectanglelabels  bbox        percent of original_width/height -> pixels; rotation must be 0
    polygonlabels    polygon     percent -> pixels
    keypointlabels   keypoints   points (one region each) grouped into instances, visibility 2
    textarea         text, transcription                          lines joined with "\\n"
    rating           rating
    pairwise         pairwise    left -> A, right -> B
    ranker           ranking     the one ranked list

Everything else (brushes, ellipses, hypertext/paragraph labels, video rectangles, numbers, dates,
per-region text areas, a `from_name` the schema does not have) is refused with a reason.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .results import Problem, _Converter

MODEL_NAME = "labelstudio"  # Prediction.model_name of imported Label Studio predictions
UNVERSIONED = "unversioned"  # Prediction.model_version when Label Studio gives none


@dataclass(slots=True)
class ImportedAnnotation:
    index: int  # position in the task's "annotations"
    annotator: str  # the Label Studio user (completed_by), as a stable string key
    cancelled: bool  # was_cancelled: becomes a skip
    result: dict[str, Any]  # {control name: answer}; {} for a cancelled annotation
    lead_ms: int
    created_at: str | None  # ISO 8601 as Label Studio wrote it


@dataclass(slots=True)
class ImportedPrediction:
    index: int
    model_version: str
    score: float | None
    result: dict[str, Any]


@dataclass(slots=True)
class ConvertedTask:
    annotations: list[ImportedAnnotation] = field(default_factory=list)
    predictions: list[ImportedPrediction] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)
    image_size: tuple[int, int] | None = None  # original_width/height the regions agree on
    rejected_annotations: int = 0
    rejected_predictions: int = 0


def annotator_key(completed_by: Any) -> str | None:
    """Label Studio writes completed_by as a user id, or as an object with an id (and an email)."""
    if isinstance(completed_by, dict):
        completed_by = completed_by.get("id", completed_by.get("email"))
    if isinstance(completed_by, bool) or completed_by is None:
        return None
    if isinstance(completed_by, int):
        return str(completed_by)
    if isinstance(completed_by, str) and 0 < len(completed_by.strip()) <= 100:
        key = completed_by.strip()
        # Pseudonymous: an email (or anything that is not a plain id) is kept only as a hash.
        return key if key.isalnum() else "sha256-" + hashlib.sha256(key.lower().encode()).hexdigest()[:16]
    return None


def convert_task(
    annotations: list[Any], predictions: list[Any], definition: dict | None, data: dict[str, Any]
) -> ConvertedTask:
    """Convert one task's annotations and predictions for `definition` (a Tessera label schema)."""
    out = ConvertedTask()
    if (annotations or predictions) and definition is None:
        out.problems.append(
            (
                "annotations" if annotations else "predictions",
                "the project has no label schema; create one (for example from the Label Studio "
                "config) before importing annotations or predictions",
            )
        )
        out.rejected_annotations, out.rejected_predictions = len(annotations), len(predictions)
        return out
    assert definition is not None or not (annotations or predictions)
    converter = _Converter(definition or {"fields": [], "controls": []}, data)
    seen_annotators: dict[str, int] = {}
    for index, raw in enumerate(annotations):
        where = f"annotations[{index}]"
        try:
            if not isinstance(raw, dict):
                raise Problem(where, "an annotation is an object")
            key = annotator_key(raw.get("completed_by"))
            if key is None:
                raise Problem(f"{where}.completed_by", "the annotator (completed_by) is missing or invalid")
            if key in seen_annotators:
                raise Problem(
                    f"{where}.completed_by",
                    f"user {key} also made annotations[{seen_annotators[key]}] of this task; "
                    "Tessera keeps one annotation per person and item",
                )
            seen_annotators[key] = index
            cancelled = raw.get("was_cancelled") is True
            result = {} if cancelled else converter.result(raw.get("result"), f"{where}.result")
            out.annotations.append(
                ImportedAnnotation(
                    index=index,
                    annotator=key,
                    cancelled=cancelled,
                    result=result,
                    lead_ms=_lead_ms(raw.get("lead_time"), f"{where}.lead_time"),
                    created_at=_timestamp(raw.get("created_at"), f"{where}.created_at"),
                )
            )
        except Problem as problem:
            out.problems.append((problem.where, problem.reason))
            out.rejected_annotations += 1
    versions: dict[str, int] = {}
    for index, raw in enumerate(predictions):
        where = f"predictions[{index}]"
        try:
            if not isinstance(raw, dict):
                raise Problem(where, "a prediction is an object")
            version = raw.get("model_version")
            if version in (None, ""):
                version = UNVERSIONED
            if not isinstance(version, str | int) or isinstance(version, bool) or len(str(version)) > 200:
                raise Problem(f"{where}.model_version", "model_version is a string of at most 200 characters")
            version = str(version)
            if version in versions:
                raise Problem(
                    f"{where}.model_version",
                    f"predictions[{versions[version]}] has the same model_version {version!r}; "
                    "Tessera keeps one prediction per model version and item",
                )
            versions[version] = index
            score = raw.get("score")
            if score is not None and (
                isinstance(score, bool)
                or not isinstance(score, int | float)
                or not math.isfinite(score)
                or not 0 <= score <= 1
            ):
                raise Problem(f"{where}.score", f"score {score!r} is not a number from 0 to 1")
            result = converter.result(raw.get("result"), f"{where}.result")
            out.predictions.append(
                ImportedPrediction(
                    index=index,
                    model_version=version,
                    score=float(score) if score is not None else None,
                    result=result,
                )
            )
        except Problem as problem:
            out.problems.append((problem.where, problem.reason))
            out.rejected_predictions += 1
    if converter.size_conflict:
        out.problems.append(converter.size_conflict)
    out.image_size = converter.image_size
    return out


def _lead_ms(value: Any, where: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise Problem(where, "lead_time is a number of seconds, 0 or more")
    return min(round(value * 1000), 2**62)


def _timestamp(value: Any, where: str) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            return value
        except ValueError:
            pass
    raise Problem(where, f"{value!r} is not an ISO 8601 date and time")
