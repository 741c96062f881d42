"""Timing of the categorical hot paths on synthetic data: `run(n_items, n_annotators, n_annotations)`.

The data: every item gets about n_annotations / n_items distinct annotators drawn at random; a true
label per item (5 labels, skewed prior); each annotator answers correctly with their own accuracy
(0.55..0.95) and otherwise uniformly at random. Timings are wall-clock seconds of one call each, on
already-coded arrays (`coding` is the cost of `from_codes`: validation and the sort).

    python -m quality.metrics._bench 200000 50 1000000
"""

import sys
import time

import numpy as np

from quality.consensus.dawid_skene import dawid_skene
from quality.consensus.voting import majority_vote

from .agreement import fleiss_kappa, krippendorff_alpha, percent_agreement
from .coding import from_codes, label_counts

N_LABELS = 5


def synthetic(n_items: int, n_annotators: int, n_annotations: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    per_item = np.full(n_items, n_annotations // n_items)
    per_item[: n_annotations % n_items] += 1
    per_item = np.minimum(per_item, n_annotators)
    # Distinct annotators per item without a Python loop: the first k of a random permutation, in blocks.
    item_parts, annotator_parts = [], []
    block = max(1, 2_000_000 // n_annotators)
    for lo in range(0, n_items, block):
        hi = min(n_items, lo + block)
        perm = np.argsort(rng.random((hi - lo, n_annotators)), axis=1)
        take = np.arange(n_annotators)[None, :] < per_item[lo:hi, None]
        rows, cols = np.nonzero(take)
        item_parts.append(rows + lo)
        annotator_parts.append(perm[rows, cols])
    item = np.concatenate(item_parts)
    annotator = np.concatenate(annotator_parts)
    truth = rng.choice(N_LABELS, size=n_items, p=[0.4, 0.25, 0.15, 0.12, 0.08])
    accuracy = rng.uniform(0.55, 0.95, size=n_annotators)
    correct = rng.random(len(item)) < accuracy[annotator]
    label = np.where(correct, truth[item], rng.integers(0, N_LABELS, size=len(item)))
    return item, annotator, label, truth


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def run(n_items: int = 200_000, n_annotators: int = 50, n_annotations: int = 1_000_000) -> dict[str, float]:
    """Seconds per step (and the sum of the agreement + consensus steps as `total`)."""
    item, annotator, label, _ = synthetic(n_items, n_annotators, n_annotations)
    timings: dict[str, float] = {}
    timings["coding"], coded = _timed(
        lambda: from_codes(
            item, annotator, label, n_items=n_items, n_annotators=n_annotators, n_labels=N_LABELS
        )
    )
    timings["label_counts"], counts = _timed(lambda: label_counts(coded))
    timings["percent_agreement"], _ = _timed(lambda: percent_agreement(counts))
    timings["alpha"], _ = _timed(lambda: krippendorff_alpha(counts))
    timings["fleiss"], _ = _timed(lambda: fleiss_kappa(counts))
    timings["majority"], _ = _timed(lambda: majority_vote(coded))
    timings["dawid_skene"], result = _timed(lambda: dawid_skene(coded))
    timings["dawid_skene_iterations"] = float(result.iterations)
    timings["total"] = sum(
        timings[k]
        for k in ("coding", "label_counts", "percent_agreement", "alpha", "fleiss", "majority", "dawid_skene")
    )
    return timings


if __name__ == "__main__":
    sizes = [int(x) for x in sys.argv[1:4]] or [200_000, 50, 1_000_000]
    for name, seconds in run(*sizes).items():
        print(f"{name:24s} {seconds:8.3f}")
