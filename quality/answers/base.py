"""The shared machinery of the answer adapters: parsing rules, weights, the generic agreement,
consensus and scoring loops, and small helpers several control types use. Pure Python + numpy.

Every adapter turns an answer into a *parsed* value first (`parse`); everything else works on parsed
values, so malformed answers are handled in exactly one place per type:

- `None` from `parse` means **missing**: not answered, or not an answer of this type at all (a dict
  where a list belongs, a label that is not in the schema). Missing answers are left out of agreement
  and consensus, score 0 against a reference, and have similarity 0 with anything except another
  *empty* answer (both empty -> 1.0).
- For the list-of-objects types (spans, relations, boxes, polygons, keypoints, segments, tracks,
  multiple choice) an absent or empty answer parses to the empty list: "there is nothing here" is an
  answer and takes part in agreement and consensus. Malformed entries inside a list are dropped.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any, ClassVar

import numpy as np

ABSENT, PRESENT = "absent", "present"  # the two labels of a binary "label present?" unit


def is_empty(value: Any) -> bool:
    """The schema's "not answered": None, "", [] and {}."""
    return value is None or (isinstance(value, str | list | dict) and len(value) == 0)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_scalar_id(value: Any) -> bool:
    """A JSON id: a string or an integer (never a bool)."""
    return isinstance(value, str) or is_int(value)


def label_values(control: dict, key: str = "labels") -> list[str] | None:
    """The control's label values in schema order, or None when it has no well-formed label list."""
    labels = control.get(key) if isinstance(control, dict) else None
    if not isinstance(labels, list):
        return None
    values = [
        label["value"] for label in labels if isinstance(label, dict) and isinstance(label.get("value"), str)
    ]
    return values or None


_LABEL_SETS: dict[tuple[int, str], tuple[dict, frozenset[str]]] = {}


def label_set(control: dict, key: str = "labels") -> frozenset[str]:
    """The control's label values as a set, cached per control dict (the service codes many answers
    against one control; a schema version's controls never change)."""
    cached = _LABEL_SETS.get((id(control), key))
    if cached is not None and cached[0] is control:
        return cached[1]
    values = frozenset(label_values(control, key) or ())
    if isinstance(control, dict):
        if len(_LABEL_SETS) > 1024:
            _LABEL_SETS.clear()
        _LABEL_SETS[(id(control), key)] = (control, values)  # holding the dict pins its id
    return values


def normalise_weights(weights: list[float] | None, n: int) -> np.ndarray:
    """One nonnegative weight per answer: NaN and negative weights count 0; all-zero means equal."""
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if len(w) != n:
        raise ValueError(f"{len(w)} weights for {n} answers")
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    return w if w.sum() > 0 else np.ones(n)


def clip01(value: float) -> float:
    value = float(value)
    if math.isnan(value):
        return 0.0
    return min(1.0, max(0.0, value))


def number_label(value: float) -> str:
    """Canonical text of a number used as a label: 3 -> "3", 0.25 -> "0.25" (9 decimals at most)."""
    rounded = round(float(value), 9)
    return str(int(rounded)) if rounded == int(rounded) else repr(rounded)


def weighted_median(values, weights) -> float:
    """The lower weighted median (the smallest value with at least half the weight at or below it)."""
    values, weights = np.asarray(values, dtype=np.float64), np.asarray(weights, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    v, cum = values[order], np.cumsum(weights[order])
    return float(v[np.searchsorted(cum, cum[-1] / 2.0 - 1e-12)])


def weighted_vote(values: list, weights: np.ndarray, order: list | None = None) -> tuple[Any, float]:
    """The value with the largest summed weight and its share of the weight. Ties go to the value
    first in `order` (the schema order), else to the one seen first."""
    totals: dict = {}
    for value, w in zip(values, weights, strict=True):
        totals[value] = totals.get(value, 0.0) + float(w)
    if not totals:
        return None, 0.0
    rank = {v: i for i, v in enumerate(order or [])}
    seen = {v: i for i, v in enumerate(totals)}
    best = max(totals, key=lambda v: (totals[v], -rank.get(v, len(rank) + seen[v])))
    total = sum(totals.values())
    return best, totals[best] / total if total > 0 else 0.0


def coverage_runs(intervals: list[tuple[float, float, int]], weights: np.ndarray, threshold: float):
    """Maximal runs covered by more than `threshold` weight.

    `intervals` are (start, end, owner) with owner an index into `weights`; each owner's own
    intervals are merged first, so nobody is counted twice for one point. Returns [(start, end)].
    """
    by_owner: dict[int, list[tuple[float, float]]] = {}
    for start, end, owner in intervals:
        by_owner.setdefault(owner, []).append((start, end))
    events: list[tuple[float, float]] = []
    for owner, spans in by_owner.items():
        spans.sort()
        merged = [list(spans[0])]
        for start, end in spans[1:]:
            if start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for start, end in merged:
            events += [(start, float(weights[owner])), (end, -float(weights[owner]))]
    events.sort(key=lambda e: (e[0], e[1]))  # ends before starts at one position
    runs: list[list[float]] = []
    level = 0.0
    for k, (position, delta) in enumerate(events):
        level += delta
        nxt = events[k + 1][0] if k + 1 < len(events) else position
        if nxt > position and level > threshold + 1e-12:
            if runs and runs[-1][1] == position:
                runs[-1][1] = nxt
            else:
                runs.append([position, nxt])
    return [(start, end) for start, end in runs]


def medoid_index(items: list, weights: np.ndarray, similarity) -> int:
    """Index of the item with the largest weighted total similarity to the others (first on ties)."""
    n = len(items)
    totals = np.zeros(n)
    for i, j in combinations(range(n), 2):
        s = similarity(items[i], items[j])
        totals[i] += weights[j] * s
        totals[j] += weights[i] * s
    return int(np.argmax(totals + weights * 1e-9))  # equal totals: the heavier answer


class BaseAdapter:
    """Default behaviour; subclasses set the class attributes and implement parse/_sim/_consensus."""

    type: ClassVar[str]
    kind: ClassVar[str] = "structured"
    level: ClassVar[str] = "nominal"
    methods: ClassVar[tuple[str, ...]] = ()
    empty_answer: ClassVar[Any] = None  # the consensus when nobody answered
    # Free text (a rationale, a comment): its similarity is reported, but it does not count for
    # escalation, gold pass/fail or pausing unless the project turns it on for the control.
    free_text: ClassVar[bool] = False

    def level_of(self, control: dict) -> str:
        """The level of measurement of this control's answers (some types read it from the schema)."""
        return self.level

    # --- to override

    def parse(self, answer: Any, control: dict) -> Any:
        raise NotImplementedError

    def _sim(self, a: Any, b: Any, control: dict, media: dict | None) -> float:
        raise NotImplementedError

    def _score(self, answer: Any, reference: Any, control: dict, media: dict | None) -> float:
        return self._sim(answer, reference, control, media)

    def _consensus(self, parsed: list, weights: np.ndarray, control: dict, method: str, media) -> Any:
        raise NotImplementedError

    def _reparse(self, result: Any, parsed: list, control: dict) -> Any:
        """The consensus answer parsed, to measure the answers' similarity to it."""
        return self.parse(result, control)

    # --- the Adapter protocol

    def answer_of(self, result: Any, control: dict) -> Any:
        """This control's answer in a whole annotation result ({control name: answer})."""
        return result.get(control.get("name")) if isinstance(result, dict) else None

    def labels(self, control: dict) -> list[str] | None:
        return label_values(control)

    def to_label(self, answer: Any, control: dict) -> str | None:
        return None

    def to_units(self, answer: Any, control: dict) -> dict[str, str]:
        return {}

    def similarity(self, a: Any, b: Any, control: dict, media: dict | None = None) -> float:
        pa, pb = self.parse(a, control), self.parse(b, control)
        if pa is None or pb is None:
            return 1.0 if pa is None and pb is None and is_empty(a) and is_empty(b) else 0.0
        return clip01(self._sim(pa, pb, control, media))

    def item_agreement(self, answers: list, control: dict, media: dict | None = None) -> float | None:
        parsed = [p for p in (self.parse(a, control) for a in _as_list(answers)) if p is not None]
        if len(parsed) < 2:
            return None
        pairs = [clip01(self._sim(a, b, control, media)) for a, b in combinations(parsed, 2)]
        return float(np.mean(pairs))

    def consensus(
        self,
        answers: list,
        weights: list[float] | None,
        control: dict,
        method: str | None = None,
        media: dict | None = None,
    ) -> tuple[Any, float]:
        """(consensus answer in the schema's answer shape, confidence in [0, 1]).

        Confidence = the weighted mean similarity of the answers to the consensus. Missing answers
        (and their weights) are left out; with none left the consensus is the empty answer, 0.0.
        """
        answers = _as_list(answers)
        w = normalise_weights(weights, len(answers))
        method = method or self.methods[0]
        if method not in self.methods:
            raise ValueError(
                f"{self.type} supports the consensus methods {', '.join(self.methods)}, not {method!r}"
            )
        kept = [
            (p, wi)
            for p, wi in zip((self.parse(a, control) for a in answers), w, strict=True)
            if p is not None
        ]
        if not kept:
            return self.empty_answer, 0.0
        parsed = [p for p, _ in kept]
        kept_w = normalise_weights([wi for _, wi in kept], len(kept))
        result = self._consensus(parsed, kept_w, control, method, media)
        agreed = self._reparse(result, parsed, control)
        if agreed is None:
            return self.empty_answer if is_empty(result) else result, 0.0
        sims = np.array([clip01(self._sim(p, agreed, control, media)) for p in parsed])
        return result, clip01(float(np.dot(sims, kept_w) / kept_w.sum()))

    def score(self, answer: Any, reference: Any, control: dict, media: dict | None = None) -> float:
        pr, pa = self.parse(reference, control), self.parse(answer, control)
        if pr is None or pa is None:
            return 1.0 if pr is None and pa is None and is_empty(answer) and is_empty(reference) else 0.0
        return clip01(self._score(pa, pr, control, media))


def _as_list(answers: Any) -> list:
    return list(answers) if isinstance(answers, list | tuple) else []
