"""The quality computation for one project, on arrays: pure numpy, no Django, no I/O.

The services (quality/services/) read answers through annotation.workflow.selectors, turn them into the
`Table`s below (one per categorical control; multi-label and per-turn controls are several units per
item), call `categorical_outcome`, and store what it returns. Everything here is deterministic: the
same table gives the same report, so a rerun after a crash is safe.

Vocabulary: a *unit* is what one categorical label is given to: an item, or (item, sub-unit) for
units-kind controls (chat turns, labels of a multiple-choice control). Gold units are scored, not
aggregated (they never enter agreement or consensus).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from quality.consensus.dawid_skene import dawid_skene
from quality.consensus.mace import mace
from quality.consensus.voting import majority_vote
from quality.metrics.agreement import (
    fleiss_kappa,
    gwet_ac,
    krippendorff_alpha,
    observed_agreement_per_item,
    pairwise_matrices,
    per_annotator_agreement,
    per_label_agreement,
    percent_agreement,
)
from quality.metrics.bootstrap import bootstrap_ci
from quality.metrics.coding import CodedAnnotations, count_distinct, dense_codes, from_codes, label_counts

ENGINE_VERSION = "1"
METHOD_VERSIONS = {"majority": "1", "dawid_skene": "1", "mace": "1", "median": "1"}
BOOTSTRAP_MAX_UNITS = 20_000  # confidence intervals only where a few hundred replicates stay cheap
BOOTSTRAP_REPLICATES = 200


@dataclass
class Table:
    """Categorical answers of one control: parallel arrays, one row per (unit, annotator)."""

    item: np.ndarray  # int64 item ids
    unit: np.ndarray  # int32 index into `units` (0 for plain categorical controls)
    annotator: np.ndarray  # int64 user ids
    label: np.ndarray  # int32 index into `labels`
    labels: list[str]
    units: list[str] = field(default_factory=lambda: [""])

    @classmethod
    def empty(cls, labels: list[str], units: list[str] | None = None) -> Table:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z.astype(np.int32), z.copy(), z.astype(np.int32), labels, units or [""])

    def __len__(self) -> int:
        return len(self.item)

    def mask(self, keep: np.ndarray) -> Table:
        return Table(
            self.item[keep], self.unit[keep], self.annotator[keep], self.label[keep], self.labels, self.units
        )


@dataclass
class Coded:
    coded: CodedAnnotations
    unit_item: np.ndarray  # item id of each dense unit
    unit_sub: np.ndarray  # sub-unit index of each dense unit
    annotators: np.ndarray  # user id of each dense annotator
    unit_key: np.ndarray  # item * width + sub-unit: stable across runs (warm starts)
    _counts: object = None

    @property
    def counts(self):
        """Per-unit label counts, computed once (several coefficients need them)."""
        if self._counts is None:
            self._counts = label_counts(self.coded)
        return self._counts


def code(table: Table, values: np.ndarray | None = None) -> Coded:
    """Dense codes for the metric functions: units (item, sub-unit) and annotators renumbered 0..n-1."""
    width = max(len(table.units), 1)
    key = table.item * width + table.unit
    unit_keys, unit_code = dense_codes(key)
    annotators, annotator_code = dense_codes(table.annotator)
    coded = from_codes(
        unit_code,
        annotator_code,
        table.label,
        n_items=len(unit_keys),
        n_annotators=len(annotators),
        n_labels=len(table.labels),
        label_values=values,
        duplicates="last",
    )
    return Coded(coded, unit_keys // width, (unit_keys % width).astype(np.int32), annotators, unit_keys)


def _f(value) -> float | None:
    """JSON-safe float: NaN and infinities become null, everything rounded to 6 digits."""
    if value is None:
        return None
    value = float(value)
    return None if not math.isfinite(value) else round(value, 6)


@dataclass
class Consensus:
    """One consensus label per unit: arrays aligned with Coded.unit_item / unit_sub."""

    label: np.ndarray  # int64 index into labels, -1 when no answer
    confidence: np.ndarray  # float
    agreement: np.ndarray  # observed agreement P_u per unit (NaN with fewer than two answers)
    count: np.ndarray  # answers per unit
    posteriors: np.ndarray | None = None  # Dawid-Skene: (units, labels), kept for warm starts
    annotator_quality: dict[int, float] = field(default_factory=dict)  # user id -> estimated accuracy


def consensus(
    coded: Coded,
    method: str,
    *,
    level: str = "nominal",
    warm: tuple[np.ndarray, np.ndarray] | None = None,
    gold: np.ndarray | None = None,
) -> Consensus:
    """Aggregate each unit's labels. `warm`: previous Dawid-Skene posteriors by unit key (item * width +
    sub-unit), so an incremental run converges in an iteration or two; `gold`: a known label per
    dense unit or -1 (anchors Dawid-Skene). `warm` is (sorted unit keys, posteriors) of a previous run."""
    c = coded.coded
    count = np.bincount(c.item, minlength=c.n_items)
    agreement = item_agreement(coded, level)
    if len(c) == 0:
        empty = np.full(c.n_items, -1, dtype=np.int64)
        return Consensus(empty, np.full(c.n_items, np.nan), agreement, count)
    if method == "median" and c.n_labels:
        labels, confidence = _weighted_median(c)
        return Consensus(labels, confidence, agreement, count)
    if method == "dawid_skene":
        initial = None
        known = gold[gold >= 0] if gold is not None else np.zeros(0, dtype=np.int64)
        # Dawid-Skene starts from the gold items alone only when they show every label the crowd
        # used; a handful of gold items of one label would otherwise give the other labels a prior
        # of 0. Otherwise it starts from the majority vote, gold posteriors still pinned throughout.
        used = np.unique(c.label)
        gold_start = len(known) > 0 and np.isin(used, known).all()
        if warm or (len(known) and not gold_start):
            votes = majority_vote(c).scores
            initial = votes / np.maximum(votes.sum(axis=1, keepdims=True), 1)
        if warm:
            rows, posteriors = _warm_rows(coded, warm, c.n_labels)
            initial[rows] = posteriors
        result = dawid_skene(c, initial_posteriors=initial, gold=gold, max_iter=50, tol=1e-6)
        accuracy = result.annotator_accuracy()
        quality = {int(user): float(acc) for user, acc in zip(coded.annotators, accuracy, strict=True)}
        return Consensus(result.labels, result.confidence, agreement, count, result.posteriors, quality)
    if method == "mace":
        result = mace(c, seed=0)
        labels = result.labels.astype(np.int64)
        quality = {int(user): float(v) for user, v in zip(coded.annotators, result.competence, strict=True)}
        return Consensus(labels, result.confidence, agreement, count, annotator_quality=quality)
    vote = majority_vote(c)
    return Consensus(vote.labels, vote.confidence, agreement, count)


def item_weights(level: str, c: CodedAnnotations) -> dict:
    """Agreement weights for per-item agreement at a level of measurement: nominal answers agree or
    not; ordinal ones by rank distance (Gwet's ordinal weights); interval ones by value distance."""
    if level == "ordinal":
        return {"weights": "ordinal"}
    if level in ("interval", "ratio"):
        return {"weights": "linear", "values": c.numeric_values()}
    return {}


def item_agreement(coded: Coded, level: str = "nominal") -> np.ndarray:
    """Per-unit agreement (NaN with fewer than two answers) at the control's level of measurement:
    what escalation compares with `escalate_below`."""
    c = coded.coded
    if len(c) == 0:
        return np.full(c.n_items, np.nan)
    if c.n_labels < 2:
        return observed_agreement_per_item(coded.counts)
    return observed_agreement_per_item(coded.counts, **item_weights(level, c))


def _warm_rows(coded: Coded, warm: tuple[np.ndarray, np.ndarray], q: int):
    """(rows, posteriors) of this run's units that the previous run had, by stable unit key."""
    keys, posteriors = warm
    if posteriors.ndim != 2 or posteriors.shape[1] != q or not len(keys):
        return np.zeros(0, dtype=np.int64), np.zeros((0, q))
    position = np.clip(np.searchsorted(keys, coded.unit_key), 0, len(keys) - 1)
    found = keys[position] == coded.unit_key
    return np.flatnonzero(found), posteriors[position[found]]


def observed_agreement_per_unit(c: CodedAnnotations) -> np.ndarray:
    """P_u for every unit (NaN where fewer than two answers)."""
    if len(c) == 0:
        return np.full(c.n_items, np.nan)
    return observed_agreement_per_item(label_counts(c))


def _weighted_median(c: CodedAnnotations) -> tuple[np.ndarray, np.ndarray]:
    """Median label code per unit (ordered labels, e.g. a rating scale); confidence = share at the median."""
    labels = np.full(c.n_items, -1, dtype=np.int64)
    confidence = np.full(c.n_items, np.nan)
    starts = c.item_starts()
    order = np.lexsort((c.label, c.item))
    sorted_labels = c.label[order]
    for unit in np.flatnonzero(np.diff(starts)):
        values = sorted_labels[starts[unit] : starts[unit + 1]]
        median = values[(len(values) - 1) // 2]
        labels[unit] = median
        confidence[unit] = float(np.mean(values == median))
    return labels, confidence


def agreement_summary(coded: Coded, level: str, *, with_ci: bool) -> dict:
    c = coded.coded
    counts = coded.counts
    pairable = int(np.count_nonzero(counts.per_item >= 2))
    summary = {
        "alpha": None,
        "alpha_ci": None,
        "fleiss": None,
        "percent": None,
        "ac1": None,
        "items": count_distinct(coded.unit_item) if len(c) else 0,
        "units": int(c.n_items),
        "annotations": len(c),
        "pairable_items": pairable,
    }
    if pairable == 0 or c.n_labels == 0:
        return summary
    values = c.numeric_values() if level in ("interval", "ratio") else None
    summary["alpha"] = _f(krippendorff_alpha(counts, level=level, values=values))
    summary["fleiss"] = _f(fleiss_kappa(counts))
    summary["percent"] = _f(percent_agreement(counts))
    summary["ac1"] = _f(gwet_ac(counts))
    if with_ci and c.n_items <= BOOTSTRAP_MAX_UNITS:
        ci = bootstrap_ci(
            lambda data: krippendorff_alpha(data, level=level, values=values),
            counts,
            n=BOOTSTRAP_REPLICATES,
            seed=0,
        )
        low, high = _f(ci.low), _f(ci.high)
        summary["alpha_ci"] = [low, high] if low is not None and high is not None else None
    return summary


def label_rows(coded: Coded, labels: list[str], consensus_labels: np.ndarray) -> list[dict]:
    c = coded.coded
    q = len(labels)
    used = np.bincount(c.label, minlength=q) if len(c) else np.zeros(q, dtype=np.int64)
    chosen = np.bincount(consensus_labels[consensus_labels >= 0], minlength=q)
    per_label = per_label_agreement(coded.counts) if len(c) and q else None
    rows = []
    for k, label in enumerate(labels):
        rows.append(
            {
                "label": label,
                "annotations": int(used[k]),
                "consensus": int(chosen[k]) if k < len(chosen) else 0,
                "specific_agreement": _f(per_label["specific_agreement"][k]) if per_label else None,
                "alpha_vs_rest": _f(per_label["alpha"][k]) if per_label else None,
            }
        )
    return rows


def confusion(coded: Coded, labels: list[str], consensus_labels: np.ndarray) -> dict:
    """Counts of (consensus label, annotator label) over every answer on a unit with a consensus."""
    c = coded.coded
    q = len(labels)
    truth = consensus_labels[c.item] if len(c) else np.zeros(0, dtype=np.int64)
    keep = truth >= 0
    matrix = (
        np.bincount(truth[keep] * q + c.label[keep], minlength=q * q).reshape(q, q) if q else np.zeros((0, 0))
    )
    return {"labels": labels, "matrix": matrix.astype(int).tolist()}


def pair_matrices(coded: Coded) -> dict | None:
    """Cohen's kappa, agreement and shared items for every annotator pair (computed once per run)."""
    return pairwise_matrices(coded.coded) if len(coded.coded) else None


def pair_table(coded: Coded, matrices: dict | None = None) -> dict:
    c = coded.coded
    if len(c) == 0:
        return {"annotators": [], "kappa": [], "shared": []}
    matrices = matrices if matrices is not None else pairwise_matrices(c)
    kappa = [[_f(v) for v in row] for row in matrices["kappa"]]
    for i in range(len(kappa)):
        kappa[i][i] = 1.0
    return {
        "annotators": [int(a) for a in coded.annotators],
        "kappa": kappa,
        "shared": matrices["shared"].astype(int).tolist(),
    }


def annotator_agreement(coded: Coded, matrices: dict | None = None) -> dict[int, dict]:
    """user id -> {"agreement": pooled agreement with others, "kappa": mean pairwise kappa, "annotations"}."""
    c = coded.coded
    if len(c) == 0:
        return {}
    stats = per_annotator_agreement(c, matrices)
    return {
        int(user): {
            "annotations": int(stats["annotations"][a]),
            "agreement": _f(stats["agreement"][a]),
            "kappa": _f(stats["kappa"][a]),
        }
        for a, user in enumerate(coded.annotators)
    }


def slice_rows(coded: Coded, level: str, slices, control: str, *, min_items: int = 5) -> list[dict]:
    """Agreement per metadata value: the units of the items with that value, alpha and percent
    agreement. `slices` is annotation.workflow.selectors.quality.Slices (keys, per-item value codes)."""
    c = coded.coded
    if len(c) == 0 or slices is None or not slices.keys:
        return []
    rows = []
    for position, key in enumerate(slices.keys):
        unit_value = slices.value_codes(position, coded.unit_item)
        for code, value in enumerate(slices.values[position]):
            units = np.flatnonzero(unit_value == code)
            items = len(np.unique(coded.unit_item[units]))
            if items < min_items:
                continue
            keep = np.isin(c.item, units)
            sub = from_codes(
                np.searchsorted(units, c.item[keep]),
                c.annotator[keep],
                c.label[keep],
                n_items=len(units),
                n_annotators=c.n_annotators,
                n_labels=c.n_labels,
                label_values=c.label_values,
            )
            counts = label_counts(sub)
            values = sub.numeric_values() if level in ("interval", "ratio") else None
            rows.append(
                {
                    "key": key,
                    "value": value,
                    "control": control,
                    "items": items,
                    "alpha": _f(krippendorff_alpha(counts, level=level, values=values)),
                    "percent": _f(percent_agreement(counts)),
                }
            )
    return rows


def classification_scores(truth: np.ndarray, predicted: np.ndarray, labels: list[str]) -> dict:
    """Accuracy, macro F1 and per-label precision/recall/F1 of predicted label codes against truth."""
    q = len(labels)
    n = len(truth)
    if n == 0:
        return {"n": 0, "accuracy": None, "f1_macro": None, "labels": []}
    matrix = np.bincount(truth * q + predicted, minlength=q * q).reshape(q, q).astype(np.float64)
    tp = np.diag(matrix)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = tp / matrix.sum(axis=0)
        recall = tp / matrix.sum(axis=1)
        f1 = 2 * precision * recall / (precision + recall)
    support = matrix.sum(axis=1)
    present = support > 0
    f1_present = np.where(np.isnan(f1), 0.0, f1)[present]
    return {
        "n": int(n),
        "accuracy": _f(tp.sum() / n),
        "f1_macro": _f(f1_present.mean()) if present.any() else None,
        "labels": [
            {
                "label": labels[k],
                "precision": _f(precision[k]),
                "recall": _f(recall[k]),
                "f1": _f(f1[k]) if support[k] or matrix[:, k].sum() else None,
                "support": int(support[k]),
            }
            for k in range(q)
        ],
    }
