"""Consensus spans from several annotators' spans. Pure numpy, vectorised over all items and labels.

Spans are COO rows (item, annotator, start, end, label), half-open [start, end) offsets.

- `method="exact"`: a span is in the consensus when at least `min_votes` annotators marked exactly
  that (start, end, label). Strict; right for token-aligned NER with clear boundaries.
- `method="coverage"`: per item and label, every offset covered by at least `min_votes` annotators
  is in the consensus, and maximal runs of such offsets become the spans (each annotator's own
  overlapping spans are merged first, so nobody votes twice for one offset). Tolerant of boundary
  disagreement; two adjacent same-label entities that everybody marks touching become one span.

`min_votes` is one number or one per item (e.g. floor(annotators who answered / 2) + 1).
"""

import numpy as np


def _by_item(min_votes, item: np.ndarray) -> np.ndarray:
    votes = np.asarray(min_votes, dtype=np.float64)
    return np.full(len(item), float(votes)) if votes.ndim == 0 else votes[item]


def span_consensus(item, annotator, start, end, label, *, min_votes, method: str = "coverage") -> np.ndarray:
    """Consensus spans as an (k, 5) int array: item, start, end, label, votes (sorted).

    For "coverage", `votes` is the smallest number of annotators covering any offset of the span.
    """
    item, annotator, start, end, label = (
        np.asarray(x, dtype=np.int64) for x in (item, annotator, start, end, label)
    )
    if method == "exact":
        key = np.column_stack((item, start, end, label, annotator))
        key = np.unique(key, axis=0)  # one vote per annotator
        spans, votes = np.unique(key[:, :4], axis=0, return_counts=True)
        keep = votes >= _by_item(min_votes, spans[:, 0])
        return np.column_stack((spans[keep], votes[keep])).reshape(-1, 5)
    if method != "coverage":
        raise ValueError('method must be "exact" or "coverage"')
    if len(item) == 0:
        return np.zeros((0, 5), dtype=np.int64)
    # 1. Merge each annotator's overlapping spans per (item, label).
    order = np.lexsort((start, annotator, label, item))
    item, annotator, start, end, label = (x[order] for x in (item, annotator, start, end, label))
    group = np.r_[
        True, (item[1:] != item[:-1]) | (label[1:] != label[:-1]) | (annotator[1:] != annotator[:-1])
    ]
    group_id = np.cumsum(group) - 1
    running_end = _grouped_cummax(end, group_id)
    new_run = group | np.r_[True, start[1:] > running_end[:-1]]
    run_starts = np.flatnonzero(new_run)
    m_item, m_label = item[run_starts], label[run_starts]
    m_start = start[run_starts]
    m_end = np.maximum.reduceat(end, run_starts)
    # 2. Coverage per (item, label): +1 at starts, -1 at ends, swept in position order.
    ev_item = np.concatenate((m_item, m_item))
    ev_label = np.concatenate((m_label, m_label))
    ev_pos = np.concatenate((m_start, m_end))
    ev_delta = np.concatenate((np.ones(len(m_start), np.int64), -np.ones(len(m_end), np.int64)))
    order = np.lexsort((ev_delta, ev_pos, ev_label, ev_item))  # ends (-1) before starts at one position
    ev_item, ev_label, ev_pos, ev_delta = (x[order] for x in (ev_item, ev_label, ev_pos, ev_delta))
    coverage = np.cumsum(ev_delta)  # each (item, label) group nets to 0, so the sum never leaks across
    seg_item, seg_label = ev_item[:-1], ev_label[:-1]
    seg_start, seg_end = ev_pos[:-1], ev_pos[1:]
    same_group = (ev_item[1:] == seg_item) & (ev_label[1:] == seg_label)
    seg_cov = coverage[:-1]
    ok = same_group & (seg_end > seg_start) & (seg_cov >= _by_item(min_votes, seg_item))
    seg_item, seg_label, seg_start, seg_end, seg_cov = (
        x[ok] for x in (seg_item, seg_label, seg_start, seg_end, seg_cov)
    )
    if len(seg_item) == 0:
        return np.zeros((0, 5), dtype=np.int64)
    # 3. Join touching kept segments into maximal spans.
    joined = np.r_[
        True,
        (seg_item[1:] != seg_item[:-1]) | (seg_label[1:] != seg_label[:-1]) | (seg_start[1:] != seg_end[:-1]),
    ]
    first = np.flatnonzero(joined)
    last = np.r_[first[1:], len(seg_item)] - 1
    votes = np.minimum.reduceat(seg_cov, first)
    out = np.column_stack((seg_item[first], seg_start[first], seg_end[last], seg_label[first], votes))
    return out[np.lexsort((out[:, 3], out[:, 1], out[:, 0]))]


def _grouped_cummax(values: np.ndarray, group_id: np.ndarray) -> np.ndarray:
    """Running maximum of `values` that restarts at every new group (groups contiguous)."""
    if len(values) == 0:
        return values
    offset = group_id.astype(np.float64) * (float(values.max() - values.min()) + 1.0)
    return (np.maximum.accumulate(values - values.min() + offset) - offset + values.min()).astype(
        values.dtype
    )
