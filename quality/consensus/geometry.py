"""Consensus boxes from several annotators' boxes on one item: match, cluster, vote. Pure numpy/scipy.

1. **Cluster.** Annotators are taken in order of how many boxes they drew (most first, then by
   code). Each one's boxes are matched one-to-one (`quality.metrics.matching.match`: most matches,
   then highest total IoU) to the current clusters' fused boxes at IoU >= `threshold` (and the same
   label when `match_labels`); a matched box joins its cluster, an unmatched one starts a new
   cluster. So a cluster never holds two boxes of one annotator.
2. **Vote.** A cluster is kept when the summed weight of its annotators reaches `min_support`
   (default: more than half of the annotators who answered the item, boxes or not; pass
   `n_annotators`).
3. **Fuse.** The consensus box is the coordinate-wise weighted median (default) or mean of the
   cluster's boxes; its label the weighted majority within the cluster (ties: smallest code).

The loop runs over annotators of one item (a handful), with all box comparisons vectorised.
"""

from dataclasses import dataclass

import numpy as np

from quality.metrics.geometry import box_iou_matrix
from quality.metrics.matching import match


@dataclass(frozen=True)
class BoxConsensus:
    boxes: np.ndarray  # (k, 4) xyxy consensus boxes
    labels: np.ndarray  # (k,) label codes (-1 when no labels were given)
    support: np.ndarray  # (k,) summed annotator weight behind each box
    mean_iou: np.ndarray  # (k,) mean IoU of the cluster's boxes with the consensus box
    cluster: np.ndarray  # (n,) per input box: index into the consensus, -1 if its cluster was dropped


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, cum[-1] / 2.0)])


def _fuse(boxes: np.ndarray, weights: np.ndarray, method: str) -> np.ndarray:
    if method == "mean":
        return (boxes * weights[:, None]).sum(axis=0) / weights.sum()
    return np.array([_weighted_median(boxes[:, c], weights) for c in range(4)])


def box_consensus(
    boxes,
    annotator,
    labels=None,
    *,
    threshold: float = 0.5,
    n_annotators: int | None = None,
    min_support: float | None = None,
    weights=None,
    fuse: str = "median",
    match_labels: bool = True,
) -> BoxConsensus:
    """Consensus of one item's boxes (module docstring). `weights` is one weight per annotator code."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    annotator = np.asarray(annotator, dtype=np.int64)
    has_labels = labels is not None
    labels = np.asarray(labels, dtype=np.int64) if has_labels else np.zeros(len(boxes), dtype=np.int64)
    if fuse not in ("median", "mean"):
        raise ValueError('fuse must be "median" or "mean"')
    present = np.unique(annotator)
    n_codes = int(annotator.max(initial=-1)) + 1
    w_by_code = np.ones(max(n_codes, 1)) if weights is None else np.asarray(weights, dtype=np.float64)
    if min_support is None:
        total = n_annotators if n_annotators is not None else len(present)
        min_support = np.floor(total / 2) + 1 if weights is None else w_by_code[present].sum() / 2 + 1e-12
    box_weight = w_by_code[annotator] if len(annotator) else np.zeros(0)

    cluster = np.full(len(boxes), -1, dtype=np.int64)
    members: list[list[int]] = []
    fused: list[np.ndarray] = []
    fused_label: list[int] = []
    counts = np.bincount(annotator, minlength=n_codes) if len(annotator) else np.zeros(0, dtype=np.int64)
    for a in sorted(present.tolist(), key=lambda code: (-counts[code], code)):
        mine = np.flatnonzero(annotator == a)
        if fused:
            iou = box_iou_matrix(boxes[mine], np.array(fused))
            if match_labels and has_labels:
                iou = np.where(labels[mine][:, None] == np.array(fused_label)[None, :], iou, 0.0)
            rows, cols = match(iou, threshold, strict=threshold == 0)
        else:
            rows = cols = np.zeros(0, dtype=np.int64)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            members[c].append(int(mine[r]))
            cluster[mine[r]] = c
            idx = np.array(members[c])
            fused[c] = _fuse(boxes[idx], box_weight[idx], fuse)
            fused_label[c] = _vote(labels[idx], box_weight[idx])
        unmatched = np.setdiff1d(np.arange(len(mine)), rows)
        for r in unmatched.tolist():
            cluster[mine[r]] = len(members)
            members.append([int(mine[r])])
            fused.append(boxes[mine[r]].copy())
            fused_label.append(int(labels[mine[r]]))

    support = np.array([box_weight[m].sum() for m in members]) if members else np.zeros(0)
    keep = np.flatnonzero(support >= min_support - 1e-12)
    new_index = np.full(len(members), -1, dtype=np.int64)
    new_index[keep] = np.arange(len(keep))
    out_boxes = np.array([fused[k] for k in keep]).reshape(-1, 4)
    mean_iou = np.array([box_iou_matrix(boxes[members[k]], fused[k][None])[:, 0].mean() for k in keep])
    out_labels = (
        np.array([fused_label[k] for k in keep], dtype=np.int64) if has_labels else np.full(len(keep), -1)
    )
    return BoxConsensus(
        out_boxes,
        out_labels,
        support[keep],
        mean_iou.reshape(-1),
        np.where(cluster >= 0, new_index[np.maximum(cluster, 0)], -1),
    )


def _vote(labels: np.ndarray, weights: np.ndarray) -> int:
    return int(np.argmax(np.bincount(labels, weights=weights)))
