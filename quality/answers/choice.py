"""Adapters of the closed-answer controls: choices, image class, taxonomy, rating, pairwise and
per-turn chat labels. Pure Python + numpy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from quality.metrics.sets import masi_distance

from .base import (
    ABSENT,
    PRESENT,
    BaseAdapter,
    is_int,
    is_number,
    label_set,
    label_values,
    number_label,
    weighted_median,
    weighted_vote,
)

CATEGORICAL_METHODS = ("dawid_skene", "majority", "mace")
UNIT_METHODS = ("majority", "dawid_skene", "mace")


def set_similarity(a: frozenset, b: frozenset) -> float:
    """1 - MASI distance between two sets of hashable values (1.0 for two empty sets)."""
    if a == b:
        return 1.0
    codes = {value: i for i, value in enumerate(sorted(a | b, key=repr))}
    return 1.0 - masi_distance({codes[v] for v in a}, {codes[v] for v in b})


def majority_set(sets: list[frozenset], weights: np.ndarray) -> set:
    """Members chosen by more than half of the total weight."""
    totals: dict = {}
    for chosen, w in zip(sets, weights, strict=True):
        for value in chosen:
            totals[value] = totals.get(value, 0.0) + float(w)
    half = float(weights.sum()) / 2.0
    return {value for value, total in totals.items() if total > half + 1e-12}


# ---------------------------------------------------------------------------------------------
# Categorical: one label per answer


class CategoricalAdapter(BaseAdapter):
    """One label per answer: similarity is equality; per item the consensus is the weighted vote.

    Dawid-Skene and MACE need every item of the project (they learn each annotator's confusions),
    so the service runs them on the coded labels; the per-item consensus here is the weighted
    majority vote for every method, which is what those models reduce to without annotator history.
    """

    kind = "categorical"
    methods = CATEGORICAL_METHODS

    def parse(self, answer, control):
        return self.to_label(answer, control)

    def to_label(self, answer: Any, control: dict) -> str | None:
        return answer if isinstance(answer, str) and answer in label_set(control) else None

    def from_label(self, label: str, parsed: list, weights: np.ndarray, control: dict) -> Any:
        """The schema's answer for the winning label (`parsed` and `weights`: the votes)."""
        return label

    def _sim(self, a, b, control, media):
        return float(a == b)

    def _consensus(self, parsed, weights, control, method, media):
        label, _ = weighted_vote(parsed, weights, self.labels(control))
        return self.from_label(label, parsed, weights, control)


class SingleChoiceAdapter(CategoricalAdapter):
    type = "single_choice"

    def level_of(self, control):
        return "ordinal" if isinstance(control, dict) and control.get("ordered") is True else "nominal"


class ImageClassAdapter(CategoricalAdapter):
    type = "image_class"


_PATH_CACHE: dict[int, tuple[dict, list[str]]] = {}


def _node(node: Any) -> bool:
    return isinstance(node, dict) and isinstance(node.get("value"), str)


def taxonomy_paths(control: dict) -> list[str]:
    """Every node's path from the root joined with " > ", in schema (depth-first) order. Label values
    cannot contain ">", so the joined form is unambiguous. Cached per control dict."""
    cached = _PATH_CACHE.get(id(control))
    if cached is not None and cached[0] is control:
        return cached[1]
    choices = control.get("choices") if isinstance(control, dict) else None
    roots = choices if isinstance(choices, list) else []
    stack = [((), node) for node in reversed(roots) if _node(node)]
    out: list[str] = []
    while stack:  # iterative preorder: a hostile tree cannot exhaust the stack
        prefix, node = stack.pop()
        path = (*prefix, node["value"])
        out.append(" > ".join(path))
        children = node.get("children")
        if isinstance(children, list):
            stack.extend((path, child) for child in reversed(children) if _node(child))
    if len(_PATH_CACHE) > 256:
        _PATH_CACHE.clear()
    _PATH_CACHE[id(control)] = (control, out)  # holding the dict keeps its id from being reused
    return out


def taxonomy_label(path: Any, control: dict) -> str | None:
    if not isinstance(path, list) or not path or not all(isinstance(v, str) for v in path):
        return None
    label = " > ".join(path)
    return label if label in _path_set(control) else None


_SET_CACHE: dict[int, tuple[list[str], frozenset[str]]] = {}


def _path_set(control: dict) -> frozenset[str]:
    paths = taxonomy_paths(control)
    cached = _SET_CACHE.get(id(paths))
    if cached is not None and cached[0] is paths:
        return cached[1]
    if len(_SET_CACHE) > 256:
        _SET_CACHE.clear()
    _SET_CACHE[id(paths)] = (paths, frozenset(paths))
    return _SET_CACHE[id(paths)][1]


class TaxonomyAdapter(CategoricalAdapter):
    """A single path: categorical on the full path (label "Electronics > Phones")."""

    type = "taxonomy"

    def labels(self, control):
        return taxonomy_paths(control) or None

    def to_label(self, answer, control):
        return taxonomy_label(answer, control)

    def from_label(self, label, parsed, weights, control):
        return label.split(" > ") if label is not None else None


class TaxonomyMultipleAdapter(BaseAdapter):
    """Several paths: a set of paths, compared with MASI; consensus keeps the paths chosen by more than
    half of the weight. Structured rather than units: a taxonomy may have 10,000 nodes, and one
    binary unit per node and answer would be that many rows."""

    type = "taxonomy"
    kind = "structured"
    methods = ("majority",)
    empty_answer: Any = []

    def labels(self, control):
        return taxonomy_paths(control) or None

    def parse(self, answer, control):
        if answer is None or answer == [] or answer == {} or answer == "":
            return frozenset()
        if not isinstance(answer, list):
            return None
        labels = {taxonomy_label(path, control) for path in answer}
        return frozenset(labels - {None})

    def _sim(self, a, b, control, media):
        return set_similarity(a, b)

    def _consensus(self, parsed, weights, control, method, media):
        chosen = majority_set(parsed, weights)
        return [label.split(" > ") for label in taxonomy_paths(control) if label in chosen]


# ---------------------------------------------------------------------------------------------
# Rating and pairwise


def rating_grid(control: dict) -> tuple[float, float, float] | None:
    low, high, step = control.get("min"), control.get("max"), control.get("step", 1)
    if not (is_number(low) and is_number(high) and is_number(step)) or step <= 0 or high <= low:
        return None
    return float(low), float(high), float(step)


class RatingAdapter(CategoricalAdapter):
    """A number on the grid min + k * step. Coded as categorical labels "1", "2", ... (or "0.25") in
    scale order. The level is ordinal unless the schema says `"level": "interval"` (the codes 0..q-1
    are a linear function of the values, so interval alpha on codes equals interval alpha on values).
    Similarity 1 - |a - b| / (max - min); the default consensus is the weighted median (always a
    grid value)."""

    type = "rating"
    level = "ordinal"

    def level_of(self, control):
        return "interval" if isinstance(control, dict) and control.get("level") == "interval" else "ordinal"

    methods = ("median", *CATEGORICAL_METHODS)

    def labels(self, control):
        grid = rating_grid(control)
        if grid is None:
            return None
        low, high, step = grid
        count = math.floor((high - low) / step + 1e-9) + 1
        return [number_label(low + k * step) for k in range(count)]

    def parse(self, answer, control):
        grid = rating_grid(control)
        if grid is None or not is_number(answer):
            return None
        low, high, step = grid
        steps = (answer - low) / step
        if answer < low - 1e-9 or answer > high + 1e-9 or abs(steps - round(steps)) > 1e-6:
            return None
        return round(low + round(steps) * step, 9)

    def to_label(self, answer, control):
        value = self.parse(answer, control)
        return None if value is None else number_label(value)

    def _sim(self, a, b, control, media):
        low, high, _ = rating_grid(control)
        return 1.0 - abs(a - b) / (high - low)

    def _consensus(self, parsed, weights, control, method, media):
        if method == "median":
            value = weighted_median(parsed, weights)
        else:
            value, _ = weighted_vote(parsed, weights, sorted(set(parsed)))
        value = round(float(value), 9)
        return int(value) if value == int(value) else value


class PairwiseAdapter(CategoricalAdapter):
    """Categorical on `choice` (A / B / tie). The consensus carries the weighted mean strength of the
    answers that chose the winner (rounded to 1..3) when the control asks for strength."""

    type = "pairwise"

    def labels(self, control):
        return ["A", "B", "tie"] if control.get("allow_tie", True) else ["A", "B"]

    def parse(self, answer, control):
        if not isinstance(answer, dict):
            return None
        choice = answer.get("choice")
        if not isinstance(choice, str) or choice not in self.labels(control):
            return None
        strength = answer.get("strength")
        return (choice, strength if is_int(strength) and strength in (1, 2, 3) else None)

    def to_label(self, answer, control):
        parsed = self.parse(answer, control)
        return None if parsed is None else parsed[0]

    def _sim(self, a, b, control, media):
        return float(a[0] == b[0])

    def _consensus(self, parsed, weights, control, method, media):
        choice, _ = weighted_vote([p[0] for p in parsed], weights, self.labels(control))
        return self.from_label(choice, parsed, weights, control)

    def from_label(self, label, parsed, weights, control):
        """`{"choice": label}` plus, when the control asks for strength and the choice is not a tie,
        the weighted mean strength of the answers that chose it (2 when none gave one)."""
        choice = label
        out: dict[str, Any] = {"choice": choice}
        if control.get("strength") and choice != "tie":
            given = [(p[1], w) for p, w in zip(parsed, weights, strict=True) if p[0] == choice and p[1]]
            total = sum(w for _, w in given)
            mean = sum(s * w for s, w in given) / total if total > 0 else 2.0
            out["strength"] = int(min(3, max(1, math.floor(mean + 0.5))))
        return out


# ---------------------------------------------------------------------------------------------
# Units: several categorical units per answer


class MultipleChoiceAdapter(BaseAdapter):
    """A set of labels. Units: one binary unit per schema label ("present" / "absent"). Similarity is
    1 - MASI; the consensus keeps every label chosen by more than half of the weight. An absent or
    empty answer is the empty set ("none of these"), which is what an unticked list means."""

    type = "multiple_choice"
    kind = "units"
    methods = UNIT_METHODS
    empty_answer: Any = []

    def labels(self, control):
        return [ABSENT, PRESENT]

    def parse(self, answer, control):
        if answer is None or answer == [] or answer == {} or answer == "":
            return frozenset()
        if not isinstance(answer, list):
            return None
        allowed = label_set(control)
        return frozenset(v for v in answer if isinstance(v, str) and v in allowed)

    def to_units(self, answer, control):
        chosen = self.parse(answer, control)
        if chosen is None:
            return {}
        return {label: PRESENT if label in chosen else ABSENT for label in label_values(control) or ()}

    def _sim(self, a, b, control, media):
        return set_similarity(a, b)

    def _consensus(self, parsed, weights, control, method, media):
        chosen = majority_set(parsed, weights)
        return [label for label in label_values(control) or () if label in chosen]


class ImageClassMultipleAdapter(MultipleChoiceAdapter):
    type = "image_class"


def _turn_key(key: Any) -> str | None:
    return (
        key
        if isinstance(key, str) and key.isascii() and key.isdecimal() and (key == "0" or key[0] != "0")
        else None
    )


class ChatTurnLabelsAdapter(BaseAdapter):
    """One label per turn. Units: one unit per labelled turn (key = the turn index). Similarity: the
    share of turns labelled by either answer that both labelled alike. Consensus: a turn is labelled
    when more than half of the weight labelled it, with the weighted majority label."""

    type = "chat_turn_labels"
    kind = "units"
    methods = UNIT_METHODS
    empty_answer: Any = {}

    def parse(self, answer, control):
        if answer is None or answer == [] or answer == {} or answer == "":
            return {}
        if not isinstance(answer, dict):
            return None
        allowed = label_set(control)
        return {
            key: label
            for key, label in answer.items()
            if _turn_key(key) is not None and isinstance(label, str) and label in allowed
        }

    def to_units(self, answer, control):
        return dict(self.parse(answer, control) or {})

    def _sim(self, a, b, control, media):
        turns = set(a) | set(b)
        if not turns:
            return 1.0
        return sum(a.get(t) == b.get(t) for t in turns) / len(turns)

    def _consensus(self, parsed, weights, control, method, media):
        half = float(weights.sum()) / 2.0
        out: dict[str, Any] = {}
        for turn in sorted({t for p in parsed for t in p}, key=int):
            votes = [(p[turn], w) for p, w in zip(parsed, weights, strict=True) if turn in p]
            if sum(w for _, w in votes) > half + 1e-12:
                label, _ = weighted_vote(
                    [v for v, _ in votes], np.array([w for _, w in votes]), self.labels(control)
                )
                out[turn] = label
        return out


class ChatTurnLabelsMultipleAdapter(ChatTurnLabelsAdapter):
    """Several labels per turn. Units: one binary unit per (turn, label) of every turn the answer
    labels (key "<turn>:<label>"). Similarity: mean per-turn 1 - MASI over the turns either labelled;
    consensus: per turn, the labels chosen by more than half of the weight."""

    def labels(self, control):
        return [ABSENT, PRESENT]

    def parse(self, answer, control):
        if answer is None or answer == [] or answer == {} or answer == "":
            return {}
        if not isinstance(answer, dict):
            return None
        allowed = label_set(control)
        return {
            key: frozenset(v for v in labels if isinstance(v, str) and v in allowed)
            for key, labels in answer.items()
            if _turn_key(key) is not None and isinstance(labels, list)
        }

    def to_units(self, answer, control):
        parsed = self.parse(answer, control) or {}
        labels = label_values(control) or []
        return {
            f"{turn}:{label}": PRESENT if label in chosen else ABSENT
            for turn, chosen in parsed.items()
            for label in labels
        }

    def _sim(self, a, b, control, media):
        turns = set(a) | set(b)
        if not turns:
            return 1.0
        return sum(set_similarity(a.get(t, frozenset()), b.get(t, frozenset())) for t in turns) / len(turns)

    def _consensus(self, parsed, weights, control, method, media):
        out: dict[str, Any] = {}
        for turn in sorted({t for p in parsed for t in p}, key=int):
            chosen = majority_set([p.get(turn, frozenset()) for p in parsed], weights)
            if chosen:
                out[turn] = [label for label in label_values(control) or () if label in chosen]
        return out
