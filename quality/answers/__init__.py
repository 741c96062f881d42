"""Answers of every label-schema control type, made comparable: one adapter per control type tells
the quality services how to code, compare, aggregate and score that type's answers. Pure Python +
numpy/scipy (no Django); the maths is `quality.metrics` and `quality.consensus`. See docs/QUALITY.md,
"Answers of every control type".

    adapter = adapter_for(control)             # a control dict of a label schema
    adapter.kind                                # "categorical" | "units" | "structured"
    adapter.to_label(answer, control)           # categorical: the label to code, None if unanswered
    adapter.to_units(answer, control)           # units: {unit: label}
    adapter.item_agreement(answers, control)    # mean pairwise similarity, None with < 2 answers
    adapter.consensus(answers, weights, control, method)  # (answer in the schema's shape, confidence)
    adapter.score(answer, reference, control)   # gold scoring, 1.0 = matches the reference

`consensus_result(definition, results)` builds a whole consensus annotation (relations resolved
against the spans consensus, show_if applied), which `projects.schema.validate_annotation` accepts.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from .base import ABSENT, PRESENT, BaseAdapter, is_empty
from .choice import (
    ChatTurnLabelsAdapter,
    ChatTurnLabelsMultipleAdapter,
    ImageClassAdapter,
    ImageClassMultipleAdapter,
    MultipleChoiceAdapter,
    PairwiseAdapter,
    RatingAdapter,
    SingleChoiceAdapter,
    TaxonomyAdapter,
    TaxonomyMultipleAdapter,
)
from .media import (
    AudioSegmentsAdapter,
    BBoxAdapter,
    KeypointsAdapter,
    PolygonAdapter,
    VideoBBoxAdapter,
    VideoSegmentsAdapter,
)
from .ranking import RankingAdapter
from .text import RelationsAdapter, SpansAdapter, TextAdapter, TranscriptionAdapter

__all__ = [
    "ABSENT",
    "ADAPTERS",
    "PRESENT",
    "Adapter",
    "BaseAdapter",
    "adapter_for",
    "consensus_result",
]


class Adapter(Protocol):
    type: str
    kind: Literal["categorical", "units", "structured"]
    level: Literal["nominal", "ordinal", "interval", "ratio"]
    methods: tuple[str, ...]

    def answer_of(self, result: Any, control: dict) -> Any: ...
    def labels(self, control: dict) -> list[str] | None: ...
    def to_label(self, answer: Any, control: dict) -> str | None: ...
    def to_units(self, answer: Any, control: dict) -> dict[str, str]: ...
    def similarity(self, a: Any, b: Any, control: dict, media: dict | None = None) -> float: ...
    def item_agreement(self, answers: list, control: dict, media: dict | None = None) -> float | None: ...
    def consensus(
        self,
        answers: list,
        weights: list[float] | None,
        control: dict,
        method: str | None = None,
        media: dict | None = None,
    ) -> tuple[Any, float]: ...
    def score(self, answer: Any, reference: Any, control: dict, media: dict | None = None) -> float: ...


ADAPTERS: dict[str, Adapter] = {
    adapter.type: adapter
    for adapter in (
        SingleChoiceAdapter(),
        MultipleChoiceAdapter(),
        TaxonomyAdapter(),
        SpansAdapter(),
        RelationsAdapter(),
        ImageClassAdapter(),
        BBoxAdapter(),
        PolygonAdapter(),
        KeypointsAdapter(),
        AudioSegmentsAdapter(),
        TranscriptionAdapter(),
        VideoSegmentsAdapter(),
        VideoBBoxAdapter(),
        RatingAdapter(),
        RankingAdapter(),
        PairwiseAdapter(),
        TextAdapter(),
        ChatTurnLabelsAdapter(),
    )
}

# The variants chosen by a control's "multiple" option (a set of answers instead of one).
_MULTIPLE: dict[str, Adapter] = {
    "image_class": ImageClassMultipleAdapter(),
    "taxonomy": TaxonomyMultipleAdapter(),
    "chat_turn_labels": ChatTurnLabelsMultipleAdapter(),
}


def adapter_for(control: dict) -> Adapter:
    """The adapter of `control` (a control of a label schema): by type, and for image_class,
    taxonomy and chat_turn_labels by whether `multiple` is on. ValueError for an unknown type."""
    kind = control.get("type") if isinstance(control, dict) else None
    if not isinstance(kind, str) or kind not in ADAPTERS:
        raise ValueError(f"No answer adapter for the control type {kind!r}.")
    if control.get("multiple") is True and kind in _MULTIPLE:
        return _MULTIPLE[kind]
    return ADAPTERS[kind]


def consensus_result(
    definition: dict,
    results: list[Any],
    weights: list[float] | None = None,
    *,
    methods: dict[str, str] | None = None,
    media: dict | None = None,
) -> tuple[dict, dict[str, float]]:
    """The consensus annotation of one item: ({control name: consensus answer}, {name: confidence}).

    `results` are the annotators' whole results ({control name: answer}), `weights` one per result,
    `methods` an optional consensus method per control name. Controls go in schema order, so that
    relations are resolved against the spans consensus (relations whose spans did not make it are
    dropped) and a control hidden by its show_if under the consensus is left empty. Empty consensus
    answers are left out, as an annotator's unanswered controls are.
    """
    from projects.schema.controls import CONTROLS as SCHEMA_CONTROLS  # pure; only for show_if atoms

    controls = definition.get("controls") if isinstance(definition, dict) else None
    out: dict[str, Any] = {}
    confidence: dict[str, float] = {}
    shown: dict[str, dict] = {}
    for control in controls if isinstance(controls, list) else []:
        name = control["name"]
        rule = control.get("show_if")
        if rule is not None:
            target = shown.get(rule.get("control"))
            value = out.get(rule.get("control"))
            wanted = [rule["equals"]] if "equals" in rule else rule.get("in", [])
            if target is None or is_empty(value):
                continue
            atoms = SCHEMA_CONTROLS[target["type"]].show_if_atoms(value)
            if not any(v in atoms for v in wanted):
                continue
        shown[name] = control
        adapter = adapter_for(control)
        answers = [adapter.answer_of(result, control) for result in results]
        value, confidence[name] = adapter.consensus(
            answers, weights, control, (methods or {}).get(name), media
        )
        if isinstance(adapter, RelationsAdapter):
            value = adapter.resolve(value, out.get(control.get("spans")))
        if not is_empty(value):
            out[name] = value
    return out, confidence
