"""Categorical inter-annotator agreement. Pure numpy/scipy: no Django, no I/O.

Every function takes a `CodedAnnotations` (or, where only per-item counts matter, a `LabelCounts`)
from `quality.metrics.coding`, and is vectorised over all annotations: `np.unique`/`np.bincount` and
one sparse product, never a Python loop per item. docs/QUALITY.md gives each formula.

Conventions shared by all coefficients:

- An item with fewer than two annotations is *unpairable*: it adds nothing to observed agreement.
  (Fleiss' kappa and Gwet's AC1/AC2 still count it in the category proportions, as Gwet's
  formulas for missing data do; Krippendorff's alpha ignores it completely.)
- A coefficient whose chance term makes it 0/0 (one category used throughout, or no pairable item)
  is NaN, never a made-up 0 or 1.
- "Number of categories" (Gwet's q) is `n_labels` of the coding: pass the schema's full label list to
  `coding.encode(label_order=...)` so unused labels count.
"""

import numpy as np
from scipy import sparse

from .coding import CodedAnnotations, LabelCounts, label_counts, within_item_pairs

LEVELS = ("nominal", "ordinal", "interval", "ratio")
WEIGHTS = ("identity", "linear", "quadratic", "ordinal")


def _counts(data: CodedAnnotations | LabelCounts) -> LabelCounts:
    return data if isinstance(data, LabelCounts) else label_counts(data)


def _pairable(counts: LabelCounts) -> tuple[np.ndarray, np.ndarray]:
    """Mask of count triples on items with >= 2 annotations, and each triple's item size m_u."""
    m = counts.per_item[counts.item]
    return m >= 2, m


def observed_agreement_per_item(
    data: CodedAnnotations | LabelCounts,
    *,
    weights: str | np.ndarray = "identity",
    values: np.ndarray | None = None,
) -> np.ndarray:
    """Per item: the mean agreement weight of its ordered pairs of answers,
    sum_k n_uk (r*_uk - 1) / (m_u (m_u - 1)) with r*_uk = sum_l w_kl n_ul; NaN if m_u < 2.

    With identity weights (the default) this is the share of agreeing pairs,
    sum n_uk (n_uk - 1) / (m_u (m_u - 1)). Ordered scales use `weights="ordinal"` (Gwet's rank
    weights: neighbours on a 1-5 scale agree 0.9, the two ends 0) or `"linear"` with the label
    `values` (interval), so "4 vs 5" is near agreement rather than a total disagreement.
    """
    counts = _counts(data)
    m = counts.per_item.astype(np.float64)
    q = counts.n_labels
    w = agreement_weights(q, weights, values) if q else np.eye(0)
    if q == 0 or np.array_equal(w, np.eye(q)):
        same = np.bincount(
            counts.item, weights=counts.count * (counts.count - 1.0), minlength=counts.n_items
        ).astype(np.float64)
    else:
        table = sparse.csr_array(
            (counts.count.astype(np.float64), (counts.item, counts.label)), shape=(counts.n_items, q)
        )
        r_star = np.asarray(table @ w.T)[counts.item, counts.label]
        same = np.bincount(
            counts.item, weights=counts.count * (r_star - 1.0), minlength=counts.n_items
        ).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(m >= 2, same / (m * (m - 1)), np.nan)


def percent_agreement(data: CodedAnnotations | LabelCounts) -> float:
    """Mean over pairable items of the per-item pairwise agreement (Fleiss' P-bar)."""
    per_item = observed_agreement_per_item(data)
    per_item = per_item[~np.isnan(per_item)]
    return float(per_item.mean()) if len(per_item) else float("nan")


def category_proportions(data: CodedAnnotations | LabelCounts) -> np.ndarray:
    """pi_k: mean over items with >= 1 annotation of the share of the item's annotations that are k."""
    counts = _counts(data)
    rated = int((counts.per_item > 0).sum())
    if rated == 0:
        return np.full(counts.n_labels, np.nan)
    share = counts.count / counts.per_item[counts.item]
    return np.bincount(counts.label, weights=share, minlength=counts.n_labels) / rated


def fleiss_kappa(data: CodedAnnotations | LabelCounts) -> float:
    """Fleiss' kappa (1971); with a varying number of annotators per item, Gwet's generalisation.

    kappa = (P_a - P_e) / (1 - P_e), P_a = `percent_agreement`, P_e = sum_k pi_k^2.
    With the same number of annotators on every item this is exactly Fleiss' statistic.
    """
    pa = percent_agreement(data)
    pe = float(np.sum(category_proportions(data) ** 2))
    return _chance_corrected(pa, pe)


def gwet_ac(
    data: CodedAnnotations | LabelCounts,
    *,
    weights: str | np.ndarray = "identity",
    values: np.ndarray | None = None,
) -> float:
    """Gwet's AC1 (identity weights, the default) or AC2 (any other weights), for any number of raters.

    P_a = mean over pairable items of sum_k r_uk (r*_uk - 1) / (m_u (m_u - 1)) with r*_uk = sum_l w_kl r_ul;
    P_e = T_w / (q (q - 1)) * sum_k pi_k (1 - pi_k), T_w the sum of all weights, q = n_labels.
    `weights` is a name in WEIGHTS (from the label `values`, codes 0..q-1 by default) or a q x q matrix
    of agreement weights (1 on the diagonal).
    """
    counts = _counts(data)
    q = counts.n_labels
    if q < 2:
        return float("nan")
    w = agreement_weights(q, weights, values)
    if np.array_equal(w, np.eye(q)):
        r_star = counts.count.astype(np.float64)
    else:
        table = sparse.csr_array(
            (counts.count.astype(np.float64), (counts.item, counts.label)), shape=(counts.n_items, q)
        )
        weighted = table @ w.T  # (items x q): r*_uk = sum_l w_kl r_ul
        r_star = np.asarray(weighted)[counts.item, counts.label]
    pairable, m = _pairable(counts)
    terms = np.where(pairable, counts.count * (r_star - 1) / np.maximum(m * (m - 1.0), 1), 0.0)
    per_item = np.bincount(counts.item, weights=terms, minlength=counts.n_items)
    n_pairable = int((counts.per_item >= 2).sum())
    if n_pairable == 0:
        return float("nan")
    pa = float(per_item[counts.per_item >= 2].sum() / n_pairable)
    pi = category_proportions(counts)
    pe = float(w.sum() / (q * (q - 1)) * np.sum(pi * (1 - pi)))
    return _chance_corrected(pa, pe)


def agreement_weights(q: int, weights: str | np.ndarray = "identity", values: np.ndarray | None = None):
    """A q x q matrix of agreement weights (Gwet's conventions): identity, linear, quadratic, ordinal."""
    if not isinstance(weights, str):
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (q, q):
            raise ValueError(f"weights must be {q} x {q}")
        return w
    x = np.arange(q, dtype=np.float64) if values is None else np.asarray(values, dtype=np.float64)
    if weights == "identity":
        return np.eye(q)
    span = float(x.max() - x.min()) if q > 1 else 1.0
    diff = np.abs(x[:, None] - x[None, :])
    if weights == "linear":
        return 1 - diff / span
    if weights == "quadratic":
        return 1 - diff**2 / span**2
    if weights == "ordinal":
        rank = np.arange(q)
        steps = np.abs(rank[:, None] - rank[None, :]) + 1.0
        pairs = steps * (steps - 1) / 2
        return 1 - pairs / pairs.max()
    raise ValueError(f"weights must be one of {WEIGHTS} or a matrix")


def cohen_kappa(a, b, *, n_labels: int | None = None, weights: str | None = None) -> float:
    """Cohen's kappa for two annotators' label codes on the same items (-1 = missing, dropped pairwise).

    `weights`: None, "linear" or "quadratic" (Cohen 1968): disagreement weights |i-j| or (i-j)^2 on codes.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if a.shape != b.shape:
        raise ValueError("a and b must have the same shape")
    both = (a >= 0) & (b >= 0)
    a, b = a[both], b[both]
    if len(a) == 0:
        return float("nan")
    q = int(max(a.max(), b.max()) + 1) if n_labels is None else n_labels
    observed = np.bincount(a * q + b, minlength=q * q).reshape(q, q) / len(a)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    if weights is None:
        return _chance_corrected(float(np.trace(observed)), float(np.trace(expected)))
    i = np.arange(q)
    if weights == "linear":
        dis = np.abs(i[:, None] - i[None, :]).astype(np.float64)
    elif weights == "quadratic":
        dis = ((i[:, None] - i[None, :]) ** 2).astype(np.float64)
    else:
        raise ValueError('weights must be None, "linear" or "quadratic"')
    expected_dis = float(np.sum(dis * expected))
    if expected_dis == 0:
        return float("nan")
    return 1 - float(np.sum(dis * observed)) / expected_dis


def coincidence_matrix(data: CodedAnnotations | LabelCounts) -> np.ndarray:
    """Krippendorff's coincidences o_ck = sum_u n_uc (n_uk - [c = k]) / (m_u - 1) over pairable items."""
    counts = _counts(data)
    pairable, m = _pairable(counts)
    rows, cols, c = counts.item[pairable], counts.label[pairable], counts.count[pairable].astype(np.float64)
    w = 1.0 / (m[pairable] - 1.0)
    q = counts.n_labels
    table = sparse.csr_array((c, (rows, cols)), shape=(counts.n_items, q))
    weighted = sparse.csr_array((c * w, (rows, cols)), shape=(counts.n_items, q))
    o = (weighted.T @ table).toarray()
    o[np.diag_indices(q)] -= np.bincount(cols, weights=c * w, minlength=q)
    return o


def distance_matrix(level: str, marginals: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
    """Krippendorff's squared difference delta^2_ck for `level` over labels in code order.

    `marginals` (n_c, pairable values per label) is what the ordinal metric needs; `values` the numeric
    value of each label (interval and ratio; codes 0..q-1 by default).
    """
    q = len(marginals)
    x = np.arange(q, dtype=np.float64) if values is None else np.asarray(values, dtype=np.float64)
    if level == "nominal":
        return 1.0 - np.eye(q)
    if level == "ordinal":
        cum = np.concatenate(([0.0], np.cumsum(marginals, dtype=np.float64)))
        lo = np.minimum.outer(np.arange(q), np.arange(q))
        hi = np.maximum.outer(np.arange(q), np.arange(q))
        between = cum[hi + 1] - cum[lo]  # sum of n_g for g from c to k
        return (between - (marginals[:, None] + marginals[None, :]) / 2.0) ** 2
    if level == "interval":
        return (x[:, None] - x[None, :]) ** 2
    if level == "ratio":
        total = x[:, None] + x[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = ((x[:, None] - x[None, :]) / total) ** 2
        return np.where(total == 0, 0.0, out)
    raise ValueError(f"level must be one of {LEVELS}")


def krippendorff_alpha(
    data: CodedAnnotations | LabelCounts,
    *,
    level: str = "nominal",
    values: np.ndarray | None = None,
    distance: np.ndarray | None = None,
) -> float:
    """Krippendorff's alpha with missing data: alpha = 1 - (n - 1) sum o_ck d_ck / sum n_c n_k d_ck.

    `level` picks the metric (see `distance_matrix`); a CodedAnnotations with numeric label values
    supplies `values` itself. `distance` (a q x q matrix of delta^2) overrides `level`.
    """
    counts = _counts(data)
    if values is None and isinstance(data, CodedAnnotations) and level in ("interval", "ratio"):
        values = data.numeric_values()
    o = coincidence_matrix(counts)
    n_c = o.sum(axis=1)
    n = float(n_c.sum())
    if n < 2:
        return float("nan")
    delta = np.asarray(distance, dtype=np.float64) if distance is not None else None
    if delta is None:
        delta = distance_matrix(level, n_c, values)
    expected = float(n_c @ delta @ n_c)
    if expected == 0:
        return float("nan")
    return 1.0 - (n - 1.0) * float(np.sum(o * delta)) / expected


def _pair_statistics(coded: CodedAnnotations):
    """For every ordered annotator pair (a, b): shared items, agreeing items, and a's label counts on them."""
    first, second = within_item_pairs(coded.item)
    a, b = coded.annotator[first], coded.annotator[second]
    la, lb = coded.label[first], coded.label[second]
    n_a, q = coded.n_annotators, max(coded.n_labels, 1)
    # Counted once per unordered pair and mirrored: shared and agreeing counts are symmetric, and
    # a's label counts on (a, b) are the first member's labels of (a, b) plus the second's of (b, a).
    ab, ba = a * n_a + b, b * n_a + a
    one_way = np.bincount(ab, minlength=n_a * n_a).reshape(n_a, n_a)
    shared = one_way + one_way.T
    one_way = np.bincount(ab, weights=(la == lb), minlength=n_a * n_a).reshape(n_a, n_a)
    agree = one_way + one_way.T
    size = n_a * n_a * q
    marginal = np.bincount(ab * q + la, minlength=size) + np.bincount(ba * q + lb, minlength=size)
    return shared, agree, marginal.reshape(n_a, n_a, q)


def pairwise_matrices(coded: CodedAnnotations) -> dict[str, np.ndarray]:
    """Annotator x annotator matrices: `shared` items, percent `agreement` and Cohen's `kappa` on them.

    Entry (a, b) uses only the items both a and b labelled; NaN where they share none (and on the
    diagonal). One pass over all within-item annotation pairs.
    """
    shared, agree, marginal = _pair_statistics(coded)
    n = shared.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        po = agree / n
        pe = np.einsum("abk,bak->ab", marginal, marginal) / n**2
        kappa = (po - pe) / (1 - pe)
    kappa = np.where(np.isclose(pe, 1.0), np.nan, kappa)
    po[np.diag_indices_from(po)] = np.nan
    kappa[np.diag_indices_from(kappa)] = np.nan
    return {"shared": shared, "agreement": po, "kappa": kappa}


def pairwise_cohen_matrix(coded: CodedAnnotations) -> np.ndarray:
    """Cohen's kappa for every annotator pair on their shared items (see `pairwise_matrices`)."""
    return pairwise_matrices(coded)["kappa"]


def per_annotator_agreement(coded: CodedAnnotations, matrices: dict | None = None) -> dict[str, np.ndarray]:
    """Per annotator: annotations, pairwise comparisons with others, agreement with them, mean kappa.

    `agreement` pools all of the annotator's within-item comparisons; `kappa` is the mean of their
    pairwise Cohen's kappas weighted by shared items (pairs with an undefined kappa left out).
    """
    matrices = matrices if matrices is not None else pairwise_matrices(coded)  # reuse a computed one
    shared = matrices["shared"].astype(np.float64)
    np.fill_diagonal(shared, 0)
    agree = np.nan_to_num(matrices["agreement"]) * shared
    kappa = matrices["kappa"]
    usable = ~np.isnan(kappa)
    kappa_weight = np.where(usable, shared, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "annotations": np.bincount(coded.annotator, minlength=coded.n_annotators),
            "comparisons": shared.sum(axis=1).astype(np.int64),
            "agreement": agree.sum(axis=1) / shared.sum(axis=1),
            "kappa": (np.where(usable, kappa, 0.0) * kappa_weight).sum(axis=1) / kappa_weight.sum(axis=1),
        }


def per_label_agreement(data: CodedAnnotations | LabelCounts) -> dict[str, np.ndarray]:
    """Per label k, on pairable items: how often it was used, specific agreement, and binary alpha.

    - `specific_agreement` = sum_u n_uk (n_uk - 1) / sum_u n_uk (m_u - 1): given one annotator chose k,
      the chance that another annotator of the same item did too.
    - `alpha` = Krippendorff's alpha (nominal) of the data recoded as "k" / "not k".
    """
    counts = _counts(data)
    pairable, m = _pairable(counts)
    q = counts.n_labels
    label, c, m = counts.label[pairable], counts.count[pairable].astype(np.float64), m[pairable]
    n_k = np.bincount(label, weights=c, minlength=q)
    n = float(counts.per_item[counts.per_item >= 2].sum())
    same = np.bincount(label, weights=c * (c - 1), minlength=q)
    possible = np.bincount(label, weights=c * (m - 1), minlength=q)
    cross = np.bincount(label, weights=c * (m - c) / (m - 1), minlength=q)  # o_(k, not k)
    with np.errstate(invalid="ignore", divide="ignore"):
        specific = same / possible
        alpha = 1 - (n - 1) * cross / (n_k * (n - n_k))
    alpha = np.where((n_k == 0) | (n_k == n), np.nan, alpha)
    return {"used": n_k.astype(np.int64), "specific_agreement": specific, "alpha": alpha}


def _chance_corrected(observed: float, chance: float) -> float:
    if np.isnan(observed) or np.isnan(chance) or np.isclose(chance, 1.0):
        return float("nan")
    return (observed - chance) / (1.0 - chance)
