"""Adapter of the ranking control. Pure Python + numpy."""

from __future__ import annotations

from typing import Any

import numpy as np

from quality.consensus.bradley_terry import bradley_terry, rankings_to_comparisons
from quality.metrics.ranking import kendall_tau

from .base import BaseAdapter, is_scalar_id


class RankingAdapter(BaseAdapter):
    """Similarity and score: (Kendall's tau + 1) / 2 over the candidates both rankings list.
    Consensus: Bradley-Terry strengths from the rankings broken into weighted pairwise comparisons
    (default), or Borda (weighted mean position); ties in strength go to the better mean position."""

    type = "ranking"
    methods = ("bradley_terry", "borda")

    def labels(self, control):
        return None

    def parse(self, answer, control):
        if not isinstance(answer, list) or not answer or not all(is_scalar_id(v) for v in answer):
            return None
        keys = [(type(v).__name__, v) for v in answer]  # 1 and "1" are different candidates
        if len(set(keys)) != len(keys):
            return None
        return tuple(keys)

    def _sim(self, a, b, control, media):
        common = [key for key in a if key in set(b)]
        if len(common) < 2:
            return float(a == b)
        pos_a = {key: i for i, key in enumerate(a)}
        pos_b = {key: i for i, key in enumerate(b)}
        tau = kendall_tau([pos_a[k] for k in common], [pos_b[k] for k in common])
        return (tau + 1.0) / 2.0

    def _consensus(self, parsed, weights, control, method, media):
        if len(set(parsed)) == 1:  # unanimous: every method returns it (and BT converges slowest here)
            return [value for _, value in parsed[0]]
        options: dict[Any, int] = {}
        for ranking in parsed:
            for key in ranking:
                options.setdefault(key, len(options))
        n = len(options)
        position_sum, weight_sum = np.zeros(n), np.zeros(n)
        winners, losers, comparison_weights = [], [], []
        for ranking, w in zip(parsed, weights, strict=True):
            codes = np.array([options[key] for key in ranking])
            np.add.at(position_sum, codes, w * np.arange(len(codes)))
            np.add.at(weight_sum, codes, w)
            win, lose, pair_weight = rankings_to_comparisons(
                np.zeros(len(codes)), codes, np.arange(len(codes))
            )
            winners.append(win)
            losers.append(lose)
            comparison_weights.append(pair_weight * w)
        mean_position = np.where(weight_sum > 0, position_sum / np.maximum(weight_sum, 1e-300), n)
        if method == "borda" or n < 2:
            order = np.lexsort((np.arange(n), mean_position))
        else:
            fitted = bradley_terry(
                np.concatenate(winners),
                np.concatenate(losers),
                n_options=n,
                weights=np.concatenate(comparison_weights),
                tol=1e-7,  # only the order is used: 1e-7 halves the iterations of the default 1e-10
            )
            # Strengths equal to 4 decimals are a tie, broken by the better mean position.
            order = np.lexsort((np.arange(n), mean_position, -np.round(fitted.log_strength, 4)))
        keys = list(options)
        return [keys[i][1] for i in order.tolist()]
