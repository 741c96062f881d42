"""Weighted majority vote over categorical annotations. Pure numpy: no Django, no I/O."""

from dataclasses import dataclass

import numpy as np

from quality.metrics.coding import CodedAnnotations


@dataclass(frozen=True)
class VoteResult:
    labels: np.ndarray  # (n_items,) winning label code, -1 for an item nobody annotated
    confidence: np.ndarray  # (n_items,) the winner's share of the item's vote weight, NaN when unannotated
    scores: np.ndarray  # (n_items, n_labels) vote weight per label
    tied: np.ndarray  # (n_items,) bool: more than one label had the top weight


def vote_scores(coded: CodedAnnotations, weights: np.ndarray | None = None) -> np.ndarray:
    """(n_items, n_labels) summed vote weight; `weights` is one weight per annotator (default 1)."""
    w = np.ones(len(coded)) if weights is None else np.asarray(weights, dtype=np.float64)[coded.annotator]
    q = max(coded.n_labels, 1)
    return np.bincount(coded.item * q + coded.label, weights=w, minlength=coded.n_items * q).reshape(
        coded.n_items, q
    )


def majority_vote(
    coded: CodedAnnotations, weights: np.ndarray | None = None, *, seed: int | None = None
) -> VoteResult:
    """The label with the largest (weighted) vote on each item.

    Ties go to the smallest label code, or, with `seed`, to one of the tied labels drawn uniformly
    (reproducibly) at random. Annotator `weights` must be nonnegative: e.g. an accuracy on gold items,
    or log-odds of accuracy for the optimal weighting of independent annotators.
    """
    if weights is not None and (np.asarray(weights) < 0).any():
        raise ValueError("annotator weights must be nonnegative")
    scores = vote_scores(coded, weights)
    top = scores.max(axis=1, keepdims=True)
    is_top = np.isclose(scores, top) & (top > 0)
    tied = is_top.sum(axis=1) > 1
    if seed is None:
        labels = np.argmax(is_top, axis=1)
    else:
        noise = np.random.default_rng(seed).random(scores.shape)
        labels = np.argmax(np.where(is_top, noise, -1.0), axis=1)
    total = scores.sum(axis=1)
    annotated = total > 0
    labels = np.where(annotated, labels, -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.where(annotated, top[:, 0] / total, np.nan)
    return VoteResult(labels.astype(np.int64), confidence, scores, tied & annotated)
