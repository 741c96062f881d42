"""MACE (Hovy et al. 2013, "Learning Whom to Trust with MACE"). Pure numpy/scipy.

Model: item u's true label t_u is uniform over the L labels. On each item, annotator a either knows
(probability `competence[a]`) and answers t_u, or spams and answers label l with probability
`strategy[a, l]`. So P(answer l | true t) = competence * [l = t] + (1 - competence) * strategy[l].

EM over the hidden (t_u, spam) variables, with random restarts (the likelihood has local optima) and
the restart of highest marginal likelihood kept:

- E-step: posterior_u(t) proportional to prod over u's answers of (1 - c_a) s_a(l) + c_a [l = t]; from
  it, each answer's expected "spam" and "knew" counts.
- M-step, method "vb" (default, the paper's variational Bayes): competence and strategy are
  exp(digamma(counts + prior)) / exp(digamma(total + prior)) with Beta(alpha, beta) and symmetric
  Dirichlet(10) priors; method "em": (counts + 0.01 / L) normalised.

Computed in log space per item (one `np.add.reduceat` per label), so items with many answers do not
underflow, and vectorised over all annotations.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma

from quality.metrics.coding import CodedAnnotations


@dataclass(frozen=True)
class MaceResult:
    labels: np.ndarray  # (n_items,) most probable true label, -1 for unannotated items
    posteriors: np.ndarray  # (n_items, n_labels)
    confidence: np.ndarray  # (n_items,)
    competence: np.ndarray  # (n_annotators,) probability the annotator answers what they know
    strategy: np.ndarray  # (n_annotators, n_labels) answer distribution when spamming
    log_likelihood: float


def _e_step(coded: CodedAnnotations, starts, rated, know_weight, spam_weight, strategy):
    q = coded.n_labels
    a, lab = coded.annotator, coded.label
    spam = spam_weight[a] * strategy[a, lab]  # (n,)
    know = know_weight[a]
    # log P(answer | t) for every label t: log(spam) unless t == answer, then log(spam + know).
    base = np.log(spam)
    per_item_base = np.add.reduceat(base, starts)  # (rated,)
    bonus = np.log(spam + know) - base  # added when t equals the answer
    rated_index = np.repeat(np.arange(len(rated)), np.diff(np.r_[starts, len(coded)]))
    log_joint = np.bincount(rated_index * q + lab, weights=bonus, minlength=len(rated) * q).reshape(-1, q)
    log_joint += per_item_base[:, None]
    log_joint -= np.log(q)  # uniform prior over true labels
    top = log_joint.max(axis=1, keepdims=True)
    joint = np.exp(log_joint - top)
    total = joint.sum(axis=1, keepdims=True)
    posterior = joint / total
    log_likelihood = float(np.sum(np.log(total) + top))
    post_answer = posterior[rated_index, lab]  # P(t = answer | data)
    knew = post_answer * know / (spam + know)
    spammed = 1 - knew
    n_a = coded.n_annotators
    knew_counts = np.bincount(a, weights=knew, minlength=n_a)
    spam_counts = np.bincount(a, weights=spammed, minlength=n_a)
    strategy_counts = np.bincount(a * q + lab, weights=spammed, minlength=n_a * q).reshape(n_a, q)
    return posterior, log_likelihood, knew_counts, spam_counts, strategy_counts


def _m_step(knew, spam, strategy_counts, method: str, alpha: float, beta: float, q: int):
    """(know weight, spam weight, strategy). Mean-field VB uses exp(E[log p]), which does not sum to 1."""
    if method == "vb":
        # Beta(alpha, beta) on (spam, knew) and Dirichlet(10) on the strategy, as in the paper's code.
        norm = np.exp(digamma(spam + alpha + knew + beta))
        strategy = np.exp(digamma(strategy_counts + 10.0))
        strategy /= np.exp(digamma((strategy_counts + 10.0).sum(axis=1, keepdims=True)))
        return np.exp(digamma(knew + beta)) / norm, np.exp(digamma(spam + alpha)) / norm, strategy
    smoothing = 0.01 / q
    know = (knew + smoothing) / (knew + spam + 2 * smoothing)
    strategy = (strategy_counts + smoothing) / (strategy_counts + smoothing).sum(axis=1, keepdims=True)
    return know, 1 - know, strategy


def mace(
    coded: CodedAnnotations,
    *,
    method: str = "vb",
    restarts: int = 10,
    max_iter: int = 50,
    seed: int = 0,
    alpha: float = 0.5,
    beta: float = 0.5,
    noise: float = 0.5,
    tol: float | None = 1e-7,
    initial: tuple[np.ndarray, np.ndarray] | None = None,
) -> MaceResult:
    """Fit MACE (module docstring). `initial` = (competence, strategy) replaces the random restarts.

    Each restart runs `max_iter` iterations, or stops early once the log-likelihood per annotation
    improves by less than `tol` (`tol=None`: always `max_iter`, as the original MACE does).
    """
    if method not in ("vb", "em"):
        raise ValueError('method must be "vb" or "em"')
    if len(coded) == 0:
        raise ValueError("no annotations")
    q, n_a = coded.n_labels, coded.n_annotators
    sizes = np.bincount(coded.item, minlength=coded.n_items)
    rated = np.flatnonzero(sizes)
    starts = (np.cumsum(sizes) - sizes)[rated]
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(1 if initial is not None else restarts):
        if initial is not None:
            know, strategy = (np.asarray(x, dtype=np.float64) for x in initial)
        else:
            pair = rng.uniform(1, 1 + noise, size=(n_a, 2))
            know = pair[:, 1] / pair.sum(axis=1)
            strategy = rng.uniform(1, 1 + noise, size=(n_a, q))
            strategy /= strategy.sum(axis=1, keepdims=True)
        spam = 1 - know
        state = _e_step(coded, starts, rated, know, spam, strategy)
        for _ in range(max_iter):
            previous = state[1]
            know, spam, strategy = _m_step(state[2], state[3], state[4], method, alpha, beta, q)
            state = _e_step(coded, starts, rated, know, spam, strategy)
            if tol is not None and abs(state[1] - previous) / len(coded) < tol:
                break
        if best is None or state[1] > best[0][1]:
            best = (state, know / (know + spam), strategy / strategy.sum(axis=1, keepdims=True))
    (posterior, log_likelihood, *_), competence, strategy = best
    posteriors = np.full((coded.n_items, q), 1.0 / q)
    posteriors[rated] = posterior
    labels = np.full(coded.n_items, -1, dtype=np.int64)
    labels[rated] = posterior.argmax(axis=1)
    return MaceResult(labels, posteriors, posteriors.max(axis=1), competence, strategy, log_likelihood)
