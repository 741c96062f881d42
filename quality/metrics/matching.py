"""One-to-one matching and precision/recall/F1 between two annotators' structured answers.

Pure numpy/scipy: no Django, no I/O. Used for text spans, audio/video segments (here) and boxes,
polygons and keypoints (`geometry.py`).

`match` is the one matching rule everywhere: among the pairs whose similarity reaches the threshold,
take as many pairs as possible (maximum cardinality, so the F1 counts every match that can be
made), and among those the set with the largest total similarity. It is one
`scipy.optimize.linear_sum_assignment` call on weights `C + similarity` (C = the smaller side's size
+ 1, so one more pair always outweighs any gain in similarity) with 0 for forbidden pairs.

Spans are half-open `[start, end)` offsets with an integer label; segments are the same with float
times. Two spans are "exact" matches with equal start, end and label; "overlap" matches share the
label and have IoU > `min_iou` (0: any overlap at all) or >= `min_iou` when it is positive.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from .coding import within_item_pairs


@dataclass(frozen=True)
class PRF:
    """Counts and scores of a comparison of `b` (the "prediction") against `a` (the "reference")."""

    matched: int
    n_a: int
    n_b: int

    @property
    def precision(self) -> float:
        return self.matched / self.n_b if self.n_b else float("nan")

    @property
    def recall(self) -> float:
        return self.matched / self.n_a if self.n_a else float("nan")

    @property
    def f1(self) -> float:
        """2 |matched| / (|a| + |b|); 1.0 when both are empty (they agree that there is nothing)."""
        total = self.n_a + self.n_b
        return 2 * self.matched / total if total else 1.0


def match(
    similarity: np.ndarray, threshold: float = 0.5, *, strict: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the optimal matching (module docstring) among pairs >= threshold.

    `similarity` is an (n, m) matrix of scores in [0, 1] (IoU, OKS, ...); NaN never matches.
    `strict=True` requires similarity > threshold instead.
    """
    similarity = np.asarray(similarity, dtype=np.float64)
    if similarity.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    allowed = similarity > threshold if strict else similarity >= threshold
    allowed &= ~np.isnan(similarity)
    big = min(similarity.shape) + 1.0
    weight = np.where(allowed, big + np.clip(np.nan_to_num(similarity), 0, 1), 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    keep = allowed[rows, cols]
    return rows[keep].astype(np.int64), cols[keep].astype(np.int64)


def interval_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every interval in `a` (n, 2: start, end) with every interval in `b` (m, 2)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 2)
    inter = np.clip(
        np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None
    )
    union = (a[:, 1] - a[:, 0])[:, None] + (b[:, 1] - b[:, 0])[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def span_similarity(
    a: np.ndarray, b: np.ndarray, *, mode: str = "overlap", match_labels: bool = True
) -> np.ndarray:
    """(n, m) similarity of spans a (n, 3: start, end, label) and b: IoU, or 1/0 for exact equality."""
    a = np.asarray(a).reshape(-1, 3)
    b = np.asarray(b).reshape(-1, 3)
    same_label = (a[:, None, 2] == b[None, :, 2]) if match_labels else np.ones((len(a), len(b)), dtype=bool)
    if mode == "exact":
        same = (a[:, None, 0] == b[None, :, 0]) & (a[:, None, 1] == b[None, :, 1])
        return (same & same_label).astype(np.float64)
    if mode != "overlap":
        raise ValueError('mode must be "exact" or "overlap"')
    return np.where(same_label, interval_iou_matrix(a[:, :2], b[:, :2]), 0.0)


def span_prf(a, b, *, mode: str = "overlap", min_iou: float = 0.0, match_labels: bool = True) -> PRF:
    """Precision/recall/F1 of spans `b` against spans `a` (each (k, 3): start, end, label)."""
    a = np.asarray(a).reshape(-1, 3)
    b = np.asarray(b).reshape(-1, 3)
    sim = span_similarity(a, b, mode=mode, match_labels=match_labels)
    if mode == "exact":
        rows, _ = match(sim, 1.0)
    else:
        rows, _ = match(sim, min_iou, strict=min_iou == 0)
    return PRF(len(rows), len(a), len(b))


segment_prf = span_prf  # audio/video segments: (start, end, label) with float times


def temporal_agreement(a, b, *, match_labels: bool = True) -> float:
    """Duration where a and b give the same label / duration covered by either (segments (k, 3)).

    Frame-level agreement without frames: each annotator's segments are first merged per label, so
    overlapping segments of one annotator do not count twice. 1.0 when both are empty.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 3)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 3)
    if not match_labels:
        a, b = a.copy(), b.copy()
        a[:, 2] = b[:, 2] = 0
    shared = covered_a = covered_b = 0.0
    for label in np.union1d(a[:, 2], b[:, 2]):
        ua, ub = _merge(a[a[:, 2] == label, :2]), _merge(b[b[:, 2] == label, :2])
        covered_a += float(np.sum(ua[:, 1] - ua[:, 0]))
        covered_b += float(np.sum(ub[:, 1] - ub[:, 0]))
        shared += float(_intersection_length(ua, ub))
    union_all = _merge(np.vstack((a[:, :2], b[:, :2])))
    total = float(np.sum(union_all[:, 1] - union_all[:, 0]))
    if total == 0:
        return 1.0
    return shared / total


def _intersection_length(a: np.ndarray, b: np.ndarray) -> float:
    """Total length of the intersection of two sets of disjoint intervals."""
    inter = np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0])
    return float(np.clip(inter, 0, None).sum())


def _merge(intervals: np.ndarray) -> np.ndarray:
    """Union of intervals as sorted disjoint intervals."""
    if len(intervals) == 0:
        return np.zeros((0, 2))
    intervals = intervals[np.argsort(intervals[:, 0], kind="stable")]
    ends = np.maximum.accumulate(intervals[:, 1])
    starts_new = np.r_[True, intervals[1:, 0] > ends[:-1]]
    out_start = intervals[starts_new, 0]
    out_end = np.maximum.reduceat(intervals[:, 1], np.flatnonzero(starts_new))
    return np.column_stack((out_start, out_end))


def pairwise_exact_span_f1(item, annotator, start, end, label, *, responses=None, n_annotators=None):
    """Annotator x annotator exact-match span agreement over all items, vectorised.

    Spans are COO rows (item, annotator, start, end, label). `responses` = (item, annotator) arrays of
    everyone who answered an item (including answers with no span); by default, whoever has a span.
    Only items both annotators answered are compared. Returns `matched` (a's spans that b also marked),
    `spans` (entry (a, b): a's spans on items b also answered) and `f1` = 2 matched / (spans + spans.T),
    NaN for pairs with no common item and 1.0 for common items where neither marked anything.
    """
    item, annotator, start, end, label = (
        np.asarray(x, dtype=np.int64) for x in (item, annotator, start, end, label)
    )
    if responses is None:
        responses = (item, annotator)
    r_item, r_annotator = (np.asarray(x, dtype=np.int64) for x in responses)
    n_a = (
        int(max(annotator.max(initial=-1), r_annotator.max(initial=-1)) + 1)
        if n_annotators is None
        else n_annotators
    )
    # Responses: one row per (item, annotator) with its number of spans.
    resp_key = np.unique(np.concatenate((r_item * n_a + r_annotator, item * n_a + annotator)))
    resp_item, resp_annotator = np.divmod(resp_key, n_a)
    span_count = np.bincount(np.searchsorted(resp_key, item * n_a + annotator), minlength=len(resp_key))
    first, second = within_item_pairs(resp_item)
    a1, a2 = resp_annotator[first], resp_annotator[second]
    spans = np.bincount(a1 * n_a + a2, weights=span_count[first], minlength=n_a * n_a)
    spans += np.bincount(a2 * n_a + a1, weights=span_count[second], minlength=n_a * n_a)
    common = np.bincount(a1 * n_a + a2, minlength=n_a * n_a) + np.bincount(a2 * n_a + a1, minlength=n_a * n_a)
    # Exact matches: spans with the same (item, start, end, label) from two annotators; min of counts.
    _, key = np.unique(np.column_stack((item, start, end, label)), axis=0, return_inverse=True)
    key = key.ravel()
    pair_key, per = np.unique(key * n_a + annotator, return_counts=True)
    span_key, span_annotator = np.divmod(pair_key, n_a)
    f, s = within_item_pairs(span_key)
    both = np.minimum(per[f], per[s]).astype(np.float64)
    b1, b2 = span_annotator[f], span_annotator[s]
    matched = np.bincount(b1 * n_a + b2, weights=both, minlength=n_a * n_a)
    matched += np.bincount(b2 * n_a + b1, weights=both, minlength=n_a * n_a)
    matched, spans, common = (x.reshape(n_a, n_a) for x in (matched, spans, common))
    total = spans + spans.T
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(total > 0, 2 * matched / total, 1.0)
    f1 = np.where(common > 0, f1, np.nan)
    np.fill_diagonal(f1, np.nan)
    return {
        "matched": matched.astype(np.int64),
        "spans": spans.astype(np.int64),
        "common_items": common,
        "f1": f1,
    }
