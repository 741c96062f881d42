"""Dawid-Skene (1979): true labels and per-annotator confusion matrices by EM. Pure numpy.

Model: item u has a hidden true label t_u ~ prior; annotator a, shown an item whose true label is t,
answers l with probability pi_a[t, l] (a's confusion matrix), independently of everything else.

- Initialisation: the (soft) majority-vote shares of each item, as in Dawid and Skene's paper; with
  gold items, the confusion matrices those items alone imply.
- M-step: prior = mean posterior; pi_a[t, l] proportional to smoothing + sum of posterior(t) over
  a's answers l (then floored at 1e-10 so no logarithm is -inf).
- E-step: log posterior_u(t) = log prior(t) + sum over u's annotations of log pi_a[t, l], normalised.
- Stops when the mean log-likelihood per annotation improves by less than `tol`, or after `max_iter`.

Vectorised for the 1M-annotation target: annotations are sorted once by item (E-step: one gather of
(n, L) log-probabilities and one `np.add.reduceat`) and once by (annotator, label) (M-step: one
gather and one `np.add.reduceat`), so an iteration is a handful of array passes, never a loop over
items or annotators. Because the confusion matrices are learned, an annotator who is systematically
wrong (an adversary who swaps labels) becomes informative instead of harmful. The model cannot tell
"the honest crowd" from "a crowd that permutes labels consistently" by itself: when systematic
adversaries outweigh honest annotators, only gold items (`gold=`) pick the right labelling.
"""

from dataclasses import dataclass

import numpy as np

from quality.metrics.coding import CodedAnnotations

_FLOOR = 1e-10


@dataclass(frozen=True)
class DawidSkeneResult:
    labels: np.ndarray  # (n_items,) most probable true label; -1 for items with no annotation
    posteriors: np.ndarray  # (n_items, n_labels) P(true label | data); the prior for unannotated items
    confidence: np.ndarray  # (n_items,) max posterior
    confusion: np.ndarray  # (n_annotators, n_labels, n_labels): [a, true, answered]
    priors: np.ndarray  # (n_labels,)
    log_likelihood: float  # marginal log-likelihood of the data under the final parameters
    iterations: int
    converged: bool

    def annotator_accuracy(self) -> np.ndarray:
        """Each annotator's expected accuracy under the prior: sum_t prior(t) pi_a[t, t]."""
        return np.einsum("t,att->a", self.priors, self.confusion)


class _Layout:
    """What the EM passes index with, computed once."""

    def __init__(self, coded: CodedAnnotations):
        q = coded.n_labels
        self.item, self.annotator, self.label = coded.item, coded.annotator, coded.label
        sizes = np.bincount(coded.item, minlength=coded.n_items)
        self.rated = np.flatnonzero(sizes)
        self.item_starts = (np.cumsum(sizes) - sizes)[self.rated]  # coded is sorted by item
        self.key = coded.annotator * q + coded.label  # (annotator, answered) of each annotation


def _m_step(layout: _Layout, posteriors, n_annotators: int, q: int, smoothing: float):
    priors = posteriors[layout.rated].mean(axis=0)
    # counts[true, annotator * q + answered]: one weighted bincount per true label (no sort; a
    # third of the time of summing sorted runs, the same sums up to rounding).
    gathered = posteriors[layout.item]
    counts = np.empty((q, n_annotators * q))
    for true in range(q):
        counts[true] = np.bincount(layout.key, weights=gathered[:, true], minlength=n_annotators * q)
    counts = counts.reshape(q, n_annotators, q).transpose(1, 0, 2) + smoothing  # [annotator, true, answered]
    counts = np.maximum(counts, _FLOOR)
    return priors, counts / counts.sum(axis=2, keepdims=True)


def _e_step(layout: _Layout, priors, confusion, n_items: int):
    log_conf = np.log(confusion)  # [a, true, answered]
    per_annotation = log_conf[layout.annotator, :, layout.label]  # (n, true)
    log_post = np.tile(np.log(np.maximum(priors, _FLOOR)), (n_items, 1))
    log_post[layout.rated] += np.add.reduceat(per_annotation, layout.item_starts, axis=0)
    top = log_post.max(axis=1, keepdims=True)
    unnorm = np.exp(log_post - top)
    total = unnorm.sum(axis=1, keepdims=True)
    log_likelihood = float(np.sum((np.log(total) + top)[layout.rated]))
    return unnorm / total, log_likelihood


def dawid_skene(
    coded: CodedAnnotations,
    *,
    max_iter: int = 100,
    tol: float | None = 1e-6,
    smoothing: float = 0.01,
    gold: np.ndarray | None = None,
    initial_posteriors: np.ndarray | None = None,
) -> DawidSkeneResult:
    """Fit Dawid-Skene by EM (module docstring). `tol=None` runs exactly `max_iter` iterations.

    `gold` (n_items,) holds a known true label code per item, -1 where unknown: those items' posteriors
    are pinned to their gold label throughout, which anchors the confusion matrices.
    `initial_posteriors` replaces the majority-vote start.
    """
    q, n_items, n_annotators = coded.n_labels, coded.n_items, coded.n_annotators
    if q < 1 or len(coded) == 0:
        raise ValueError("no annotations")
    layout = _Layout(coded)
    if initial_posteriors is None:
        votes = np.bincount(coded.item * q + coded.label, minlength=n_items * q).reshape(n_items, q)
        total = votes.sum(axis=1, keepdims=True)
        posteriors = np.where(total > 0, votes / np.maximum(total, 1), 1.0 / q)
    else:
        posteriors = np.array(initial_posteriors, dtype=np.float64)
    gold_rows = gold_labels = None
    if gold is not None:
        gold = np.asarray(gold, dtype=np.int64)
        gold_rows = np.flatnonzero(gold >= 0)
        gold_labels = gold[gold_rows]
        posteriors[gold_rows] = np.eye(q)[gold_labels]
    if gold_rows is not None and len(gold_rows) and initial_posteriors is None:
        # Start from what the gold items alone say about each annotator (annotators without gold
        # items start uniform): this picks the right labelling even when a majority of the crowd
        # is systematically wrong, where a majority-vote start would converge to the swapped one.
        anchored = np.zeros_like(posteriors)
        anchored[gold_rows] = posteriors[gold_rows]
        _, confusion = _m_step(layout, anchored, n_annotators, q, smoothing)
        priors = np.bincount(gold_labels, minlength=q) / len(gold_labels)
    else:
        priors, confusion = _m_step(layout, posteriors, n_annotators, q, smoothing)
    previous = -np.inf
    converged = False
    iterations = 0
    log_likelihood = float("nan")
    for iterations in range(1, max_iter + 1):  # noqa: B007 (the count is reported)
        posteriors, log_likelihood = _e_step(layout, priors, confusion, n_items)
        if gold_rows is not None:
            posteriors[gold_rows] = np.eye(q)[gold_labels]
        priors, confusion = _m_step(layout, posteriors, n_annotators, q, smoothing)
        per_annotation = log_likelihood / len(coded)
        if tol is not None and per_annotation - previous < tol:
            converged = True
            break
        previous = per_annotation
    sizes = np.bincount(coded.item, minlength=n_items)
    labels = np.where(sizes > 0, posteriors.argmax(axis=1), -1)
    return DawidSkeneResult(
        labels=labels.astype(np.int64),
        posteriors=posteriors,
        confidence=posteriors.max(axis=1),
        confusion=confusion,
        priors=priors,
        log_likelihood=log_likelihood,
        iterations=iterations,
        converged=converged,
    )
