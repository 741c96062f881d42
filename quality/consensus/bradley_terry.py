"""Bradley-Terry strengths from pairwise preferences and rankings. Pure numpy.

Model: option i beats option j with probability p_i / (p_i + p_j). Fitted by Hunter's (2004) MM
algorithm, p_i <- W_i / sum_j N_ij / (p_i + p_j), vectorised over the distinct compared pairs.

With `prior > 0` every option also plays `prior` virtual wins and `prior` virtual losses against a
reference option of strength 1 (a mild shrinkage towards "average"). Without it the maximum-likelihood
strengths do not exist when an option never loses (or never wins), or the comparison graph is split
in parts; the default prior of 0.1 keeps every case finite. `prior=0` gives the plain MLE, rescaled
to sum to 1 each step, which is what the textbook and crowd-kit compute.

A tie or a soft preference is a comparison with a fractional weight: a tie is (i beats j, 0.5) plus
(j beats i, 0.5). A ranking of k options is broken into its k(k-1)/2 pairwise comparisons
(`rankings_to_comparisons`), the usual full rank-breaking estimator.
"""

from dataclasses import dataclass

import numpy as np

from quality.metrics.coding import within_item_pairs


@dataclass(frozen=True)
class BradleyTerryResult:
    strength: np.ndarray  # (n_options,) p_i; with prior=0 they sum to 1
    log_strength: np.ndarray  # (n_options,) log p_i, centred to mean 0 (the usual "score")
    iterations: int
    converged: bool

    def win_probability(self, i, j) -> np.ndarray:
        return self.strength[i] / (self.strength[i] + self.strength[j])


def bradley_terry(
    winner,
    loser,
    *,
    n_options: int | None = None,
    weights=None,
    prior: float = 0.1,
    max_iter: int = 10_000,
    tol: float = 1e-10,
) -> BradleyTerryResult:
    """Fit strengths from comparisons: `winner[k]` beat `loser[k]` (option codes) with weight `weights[k]`."""
    winner = np.asarray(winner, dtype=np.int64)
    loser = np.asarray(loser, dtype=np.int64)
    w = np.ones(len(winner)) if weights is None else np.asarray(weights, dtype=np.float64)
    if (winner == loser).any():
        raise ValueError("an option cannot be compared with itself")
    n = int(max(winner.max(initial=-1), loser.max(initial=-1)) + 1) if n_options is None else n_options
    wins = np.bincount(winner, weights=w, minlength=n) + prior
    lo, hi = np.minimum(winner, loser), np.maximum(winner, loser)
    keys, inverse = np.unique(lo * n + hi, return_inverse=True)
    games = np.bincount(inverse.ravel(), weights=w, minlength=len(keys))  # N_ij per distinct pair
    pi, pj = np.divmod(keys, n)
    p = np.ones(n) / (n if prior == 0 else 1)
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007
        per_game = games / (p[pi] + p[pj])
        denominator = np.bincount(pi, weights=per_game, minlength=n) + np.bincount(
            pj, weights=per_game, minlength=n
        )
        denominator += 2 * prior / (p + 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            new = np.where(denominator > 0, wins / denominator, p)
        if prior == 0:
            new /= new.sum()
        else:
            new *= np.exp(_best_shift(np.log(new)))
        with np.errstate(invalid="ignore", divide="ignore"):
            change = np.nanmax(np.abs(np.log(new) - np.log(p))) if n else 0.0
        p = new
        if change < tol:
            converged = True
            break
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
    finite = np.isfinite(log_p)
    log_strength = log_p - (log_p[finite].mean() if finite.any() else 0.0)
    return BradleyTerryResult(p, log_strength, iteration, converged)


def _best_shift(log_p: np.ndarray) -> float:
    """The c maximising the prior's log-likelihood -sum log(1 + e^-(x + c)) + log(1 + e^(x + c)) (Newton).

    Comparisons only fix differences of log strengths; the overall level is set by the virtual games
    alone. MM moves that level very slowly, so each step also jumps it to its exact optimum.
    """
    c = 0.0
    for _ in range(50):
        sig = 1.0 / (1.0 + np.exp(-(log_p + c)))
        gradient = float(np.sum(2 * sig - 1))
        curvature = float(np.sum(2 * sig * (1 - sig)))
        if curvature <= 0:
            break
        step = gradient / curvature
        c -= step
        if abs(step) < 1e-15:
            break
    return c


def rankings_to_comparisons(ranking, option, rank) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Break rankings into weighted pairwise comparisons (winner, loser, weight).

    Row k says: in ranking `ranking[k]` (one annotator's ordering of one list), option `option[k]` got
    position `rank[k]` (smaller is better). Equal positions are ties: two half-weight comparisons.
    """
    ranking = np.asarray(ranking, dtype=np.int64)
    option = np.asarray(option, dtype=np.int64)
    rank = np.asarray(rank, dtype=np.float64)
    order = np.lexsort((rank, ranking))
    ranking, option, rank = ranking[order], option[order], rank[order]
    first, second = within_item_pairs(ranking)
    better = rank[first] < rank[second]  # sorted by rank within a ranking, so never worse
    tie = rank[first] == rank[second]
    win = option[first][better]
    lose = option[second][better]
    t1, t2 = option[first][tie], option[second][tie]
    return (
        np.concatenate((win, t1, t2)),
        np.concatenate((lose, t2, t1)),
        np.concatenate((np.ones(len(win)), np.full(2 * len(t1), 0.5))),
    )
