"""Bootstrap confidence intervals that resample ITEMS. Pure numpy: no Django, no I/O.

Agreement coefficients are statistics of units (items), not of individual annotations: the
annotations on one item are dependent, so resampling annotations would understate the spread.
`bootstrap_ci` draws `n_items` items with replacement (each draw becomes a new, distinct item of the
replicate, so an item drawn twice counts twice) and recomputes the metric on every replicate.

The replicate's item indices are `rng.integers(0, n_items, size=n_items)` from
`np.random.default_rng(seed)`, one call per replicate in order, so results are reproducible and a
test can redo the same draws by hand. The interval is the percentile interval of the replicates that
are not NaN (a replicate can be degenerate, e.g. a single category everywhere).
"""

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .coding import CodedAnnotations, LabelCounts
from .sets import LabelSets


@dataclass(frozen=True)
class BootstrapResult:
    estimate: float  # the metric on the data itself
    low: float
    high: float
    confidence: float
    replicates: np.ndarray  # every replicate's value (NaN for degenerate replicates)

    @property
    def valid(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.replicates)))


def resample_items(data, items: np.ndarray):
    """The data restricted to `items` (indices, repeats allowed); item j of the result is `items[j]`.

    `data` is a CodedAnnotations, a LabelCounts, a LabelSets, or an array whose first axis is items.
    Resampling a LabelCounts (a count-based metric's input) is the cheapest: fewer rows, no recount.
    """
    items = np.asarray(items, dtype=np.int64)
    if isinstance(data, LabelCounts):
        sizes = np.bincount(data.item, minlength=data.n_items)
        take, new_item = _gather(sizes, items)
        return replace(
            data,
            item=new_item,
            label=data.label[take],
            count=data.count[take],
            per_item=data.per_item[items],
            n_items=len(items),
        )
    if isinstance(data, CodedAnnotations | LabelSets):
        take, new_item = _gather(np.bincount(data.item, minlength=data.n_items), items)
        if isinstance(data, CodedAnnotations):
            return replace(
                data,
                item=new_item,
                annotator=data.annotator[take],
                label=data.label[take],
                n_items=len(items),
                item_ids=None if data.item_ids is None else data.item_ids[items],
            )
        return replace(
            data, item=new_item, annotator=data.annotator[take], value=data.value[take], n_items=len(items)
        )
    return np.asarray(data)[items]


def _gather(sizes: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of `items`' rows (rows sorted by item, `sizes` per item) and their new item index."""
    starts = np.cumsum(sizes) - sizes
    lengths = sizes[items]
    new_item = np.repeat(np.arange(len(items), dtype=np.int64), lengths)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts[items], lengths) + offsets, new_item


def bootstrap_ci(
    metric_fn: Callable[..., float],
    data,
    n: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Percentile bootstrap interval of `metric_fn(data)` over `n` item resamples (see module docstring)."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    n_items = data.n_items if isinstance(data, CodedAnnotations | LabelCounts | LabelSets) else len(data)
    rng = np.random.default_rng(seed)
    replicates = np.empty(n, dtype=np.float64)
    for r in range(n):  # one metric call per replicate; the metric itself is vectorised
        replicates[r] = metric_fn(resample_items(data, rng.integers(0, n_items, size=n_items)))
    estimate = float(metric_fn(data))
    valid = replicates[~np.isnan(replicates)]
    if len(valid) == 0:
        return BootstrapResult(estimate, float("nan"), float("nan"), confidence, replicates)
    tail = (1 - confidence) / 2
    low, high = np.quantile(valid, [tail, 1 - tail])
    return BootstrapResult(estimate, float(low), float(high), confidence, replicates)
