"""Agreement on rankings and pairwise preferences. Pure numpy: no Django, no I/O.

- `kendall_tau` is tau-b (ties allowed): (C - D) / sqrt((P - T_x)(P - T_y)) over the P = n(n-1)/2 pairs.
- `spearman_rho` is the Pearson correlation of average ranks.
- `kendall_w` is Kendall's coefficient of concordance for m complete rankings (with the tie correction).
- Pairwise preferences are categorical answers about an unordered pair of options: `preference_coding`
  turns (left, right, winner) answers into a `CodedAnnotations` (item = the pair, label 0 = the smaller
  option code won, 1 = the larger won, 2 = tie), so every coefficient in `agreement.py` applies
  whichever side each annotator saw each option on.
"""

import numpy as np

from .coding import CodedAnnotations, encode


def average_ranks(x) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (scipy.stats.rankdata's default)."""
    x = np.asarray(x)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - (counts - 1) / 2.0)[inverse.ravel()]).astype(np.float64)


def kendall_tau(x, y) -> float:
    """Kendall's tau-b between two score vectors over the same options (NaN in either: dropped)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    n = len(x)
    if n < 2:
        return float("nan")
    i, j = np.triu_indices(n, 1)
    sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
    concordance = float(np.sum(sx * sy))
    pairs_x, pairs_y = float(np.count_nonzero(sx)), float(np.count_nonzero(sy))
    if pairs_x == 0 or pairs_y == 0:
        return float("nan")
    return concordance / np.sqrt(pairs_x * pairs_y)


def spearman_rho(x, y) -> float:
    """Spearman's rank correlation (average ranks for ties; NaN in either: dropped)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = ~(np.isnan(x) | np.isnan(y))
    rx, ry = average_ranks(x[keep]), average_ranks(y[keep])
    if len(rx) < 2:
        return float("nan")
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denominator = np.sqrt(np.sum(rx * rx) * np.sum(ry * ry))
    return float(np.sum(rx * ry) / denominator) if denominator > 0 else float("nan")


def pairwise_rank_matrix(scores: np.ndarray, method: str = "kendall") -> np.ndarray:
    """Annotators x annotators tau-b (or rho) from an annotators x options matrix (NaN = not ranked)."""
    fn = kendall_tau if method == "kendall" else spearman_rho
    if method not in ("kendall", "spearman"):
        raise ValueError('method must be "kendall" or "spearman"')
    scores = np.asarray(scores, dtype=np.float64)
    n = scores.shape[0]
    out = np.full((n, n), np.nan)
    for a, b in zip(*np.triu_indices(n, 1), strict=True):  # annotators, not items: a small loop
        out[a, b] = out[b, a] = fn(scores[a], scores[b])
    return out


def kendall_w(ranks: np.ndarray) -> float:
    """Kendall's W for m raters x n options (each row a complete ranking or scores; ties corrected)."""
    ranks = np.asarray(ranks, dtype=np.float64)
    m, n = ranks.shape
    if m < 2 or n < 2:
        return float("nan")
    r = np.vstack([average_ranks(row) for row in ranks])
    totals = r.sum(axis=0)
    s = float(np.sum((totals - totals.mean()) ** 2))
    ties = 0.0
    for row in ranks:
        _, counts = np.unique(row, return_counts=True)
        ties += float(np.sum(counts**3 - counts))
    denominator = m**2 * (n**3 - n) - m * ties
    return 12 * s / denominator if denominator > 0 else float("nan")


def preference_coding(left, right, winner, annotator) -> CodedAnnotations:
    """Code pairwise answers: `winner` is left's or right's option code, or -1 for a tie."""
    left, right, winner = (np.asarray(x, dtype=np.int64) for x in (left, right, winner))
    if ((winner != left) & (winner != right) & (winner != -1)).any():
        raise ValueError("winner must be the left option, the right option, or -1 (tie)")
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    pair = lo * (int(hi.max(initial=0)) + 1) + hi
    label = np.where(winner == -1, 2, np.where(winner == lo, 0, 1))
    return encode(pair, np.asarray(annotator), label, label_order=[0, 1, 2])
