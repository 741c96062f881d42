"""Agreement on multi-label answers (sets of labels). Pure numpy: no Django, no I/O.

An answer is a set of label codes. Sets are stored as bitmasks, `ceil(n_labels / 64)` uint64 words per
set, so intersections and unions of any number of pairs are two `np.bitwise_count` calls.

- `jaccard_distance(A, B) = 1 - |A & B| / |A | B|`.
- `masi_distance(A, B) = 1 - J(A, B) * M(A, B)` (Passonneau 2006), with the monotonicity weight M = 1
  when A = B, 2/3 when one contains the other, 1/3 when they merely overlap, 0 when disjoint.
- `set_alpha` is Krippendorff's alpha with one of those distances, missing data allowed: every
  distinct set seen is one "value" of the variable.

Two empty sets are identical (distance 0); an empty and a non-empty set are disjoint (distance 1).
"""

from dataclasses import dataclass

import numpy as np

from .coding import within_item_pairs

_WORD = 64


@dataclass(frozen=True)
class LabelSets:
    """One answer per (item, annotator), sorted by item.

    `value[j]` is answer j's index among the distinct sets in `masks` (one bitmask per row).
    """

    item: np.ndarray
    annotator: np.ndarray
    value: np.ndarray
    masks: np.ndarray  # (distinct sets, words) uint64
    n_items: int
    n_labels: int

    def sets(self) -> list[frozenset[int]]:
        """The distinct sets as Python frozensets (for display and tests)."""
        out = []
        for row in self.masks:
            members = [
                w * _WORD + bit
                for w, word in enumerate(row.tolist())
                for bit in range(_WORD)
                if word >> bit & 1
            ]
            out.append(frozenset(members))
        return out


def encode_label_sets(item, annotator, label, *, n_labels: int, n_items: int | None = None) -> LabelSets:
    """Group (item, annotator, label) triples into one set per (item, annotator).

    A triple with label -1 records an answer with no label (the empty set) without adding a member.
    """
    item = np.asarray(item, dtype=np.int64)
    annotator = np.asarray(annotator, dtype=np.int64)
    label = np.asarray(label, dtype=np.int64)
    if len(label) and (label.max() >= n_labels or label.min() < -1):
        raise ValueError("label codes must lie in -1..n_labels-1")
    n_items = int(item.max()) + 1 if n_items is None and len(item) else (n_items or 0)
    n_words = max(1, -(-n_labels // _WORD))
    order = np.lexsort((annotator, item))
    item, annotator, label = item[order], annotator[order], label[order]
    new = np.ones(len(item), dtype=bool)
    new[1:] = (item[1:] != item[:-1]) | (annotator[1:] != annotator[:-1])
    response = np.cumsum(new) - 1
    n_responses = int(response[-1]) + 1 if len(response) else 0
    masks = np.zeros((n_responses, n_words), dtype=np.uint64)
    member = label >= 0
    word, bit = np.divmod(label[member], _WORD)
    bits = np.left_shift(np.uint64(1), bit.astype(np.uint64))
    np.bitwise_or.at(masks, (response[member], word), bits)
    distinct, value = np.unique(masks, axis=0, return_inverse=True)
    return LabelSets(item[new], annotator[new], value.ravel().astype(np.int64), distinct, n_items, n_labels)


def from_python_sets(answers: list[tuple[int, int, set[int]]], n_labels: int) -> LabelSets:
    """`LabelSets` from (item, annotator, set of label codes) tuples; small inputs and tests."""
    rows = [(i, a, lab) for i, a, labels in answers for lab in (sorted(labels) or [-1])]
    table = np.array(rows, dtype=np.int64).reshape(-1, 3)
    item, annotator, label = table[:, 0], table[:, 1], table[:, 2]
    return encode_label_sets(item, annotator, label, n_labels=n_labels)


def _sizes(masks: np.ndarray) -> np.ndarray:
    return np.bitwise_count(masks).sum(axis=-1).astype(np.int64)


def set_distances(
    a: np.ndarray,
    b: np.ndarray,
    *,
    distance: str = "masi",
    subset_weight: float = 2 / 3,
    overlap_weight: float = 1 / 3,
) -> np.ndarray:
    """Element-wise distance between two (..., words) arrays of set bitmasks (broadcasting)."""
    inter = _sizes(a & b)
    union = _sizes(a | b)
    size_a, size_b = _sizes(a), _sizes(b)
    with np.errstate(invalid="ignore", divide="ignore"):
        jaccard = np.where(union == 0, 1.0, inter / np.maximum(union, 1))
    if distance == "jaccard":
        return 1.0 - jaccard
    if distance != "masi":
        raise ValueError('distance must be "masi" or "jaccard"')
    monotonicity = np.select(
        [(size_a == size_b) & (inter == size_a), inter == np.minimum(size_a, size_b), inter > 0],
        [1.0, subset_weight, overlap_weight],
        0.0,
    )
    return 1.0 - jaccard * monotonicity


def _as_mask(labels: set[int] | frozenset[int], n_words: int) -> np.ndarray:
    mask = np.zeros(n_words, dtype=np.uint64)
    for label in labels:
        mask[label // _WORD] |= np.uint64(1) << np.uint64(label % _WORD)
    return mask


def masi_distance(
    a: set[int], b: set[int], *, subset_weight: float = 2 / 3, overlap_weight: float = 1 / 3
) -> float:
    """MASI distance between two Python sets of nonnegative label codes."""
    words = max(1, -(-(max(a | b, default=0) + 1) // _WORD))
    return float(
        set_distances(
            _as_mask(a, words), _as_mask(b, words), subset_weight=subset_weight, overlap_weight=overlap_weight
        )
    )


def jaccard_distance(a: set[int], b: set[int]) -> float:
    """Jaccard distance between two Python sets of nonnegative label codes."""
    words = max(1, -(-(max(a | b, default=0) + 1) // _WORD))
    return float(set_distances(_as_mask(a, words), _as_mask(b, words), distance="jaccard"))


def set_alpha(sets: LabelSets, *, distance: str = "masi", **weights: float) -> float:
    """Krippendorff's alpha over set-valued answers with `distance` ("masi"/"jaccard"), missing data allowed.

    D_o comes from the within-item answer pairs, D_e from all pairs of distinct sets weighted by their
    frequencies (computed in row blocks, so memory stays bounded with many distinct sets).
    """
    per_item = np.bincount(sets.item, minlength=sets.n_items)
    m = per_item[sets.item]
    pairable = m >= 2
    first, second = within_item_pairs(sets.item)
    if len(first) == 0:
        return float("nan")
    pair_d = set_distances(
        sets.masks[sets.value[first]], sets.masks[sets.value[second]], distance=distance, **weights
    )
    observed = float(np.sum(2.0 * pair_d / (m[first] - 1.0)))
    n_v = np.bincount(sets.value[pairable], minlength=len(sets.masks)).astype(np.float64)
    used = np.flatnonzero(n_v)
    n = float(n_v.sum())
    masks, freq = sets.masks[used], n_v[used]
    expected = 0.0
    block = max(1, 4_000_000 // max(len(used), 1))
    for start in range(0, len(used), block):
        d = set_distances(
            masks[start : start + block, None, :], masks[None, :, :], distance=distance, **weights
        )
        expected += float(freq[start : start + block] @ d @ freq)
    if expected == 0:
        return float("nan")
    return 1.0 - (n - 1.0) * observed / expected
