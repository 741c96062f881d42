"""One class per control type: the JSON Schema of its options, the semantic checks of those options
and the validation of its answers, one module per control family (choice, text, image, temporal,
judgement; what they share in base.py). A new control is one class in its family's module plus one
line in CONTROLS below.

Pure Python, no Django imports. Answers are checked against a schema that already passed
validate_schema(); the checks here never trust the answer's shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .base import (
    EPSILON,
    LABEL,
    LABELS,
    LENGTH,
    MAX_ITEMS,
    MAX_LABELS,
    MAX_RATING_STEPS,
    MAX_TAXONOMY_DEPTH,
    MAX_TAXONOMY_NODES,
    MAX_TEXT_LENGTH,
    MISSING,
    NAME,
    AnswerContext,
    Control,
    Issue,
    check_label_list,
    check_text_value,
    is_empty,
    is_number,
)
from .choice import TAXONOMY_NODE, ImageClass, MultipleChoice, SingleChoice, Taxonomy
from .image import KEYPOINT, MAX_POLYGON_POINTS, BBox, Keypoints, Polygon
from .judgement import ChatTurnLabels, Pairwise, Ranking, Rating, candidate_ids, conversation_turns
from .temporal import AudioSegments, VideoBBox, VideoSegments
from .text import NO_SPEECH, Relations, Spans, Text, Transcription

__all__ = [
    "CONTROLS",
    "EPSILON",
    "KEYPOINT",
    "LABEL",
    "LABELS",
    "LENGTH",
    "MAX_ITEMS",
    "MAX_LABELS",
    "MAX_POLYGON_POINTS",
    "MAX_RATING_STEPS",
    "MAX_TAXONOMY_DEPTH",
    "MAX_TAXONOMY_NODES",
    "MAX_TEXT_LENGTH",
    "MISSING",
    "NAME",
    "NO_SPEECH",
    "TAXONOMY_NODE",
    "AnswerContext",
    "AudioSegments",
    "BBox",
    "ChatTurnLabels",
    "Control",
    "ImageClass",
    "Issue",
    "Keypoints",
    "MultipleChoice",
    "Pairwise",
    "Polygon",
    "Ranking",
    "Rating",
    "Relations",
    "SingleChoice",
    "Spans",
    "Taxonomy",
    "Text",
    "Transcription",
    "VideoBBox",
    "VideoSegments",
    "candidate_ids",
    "check_label_list",
    "check_text_value",
    "conversation_turns",
    "is_empty",
    "is_number",
    "iter_hotkeys",
]


CONTROLS: dict[str, Control] = {
    control.type: control
    for control in (
        SingleChoice(),
        MultipleChoice(),
        Taxonomy(),
        Spans(),
        Relations(),
        ImageClass(),
        BBox(),
        Polygon(),
        Keypoints(),
        AudioSegments(),
        Transcription(),
        VideoSegments(),
        VideoBBox(),
        Rating(),
        Ranking(),
        Pairwise(),
        Text(),
        ChatTurnLabels(),
    )
}


def iter_hotkeys(controls: Iterable[tuple[str, dict]]) -> Iterator[tuple[str, str]]:
    for path, control in controls:
        yield from CONTROLS[control["type"]].hotkeys(control, path)
