"""quality.metrics.sets (MASI/Jaccard, alpha over sets) and quality.metrics.bootstrap. Pure: no database."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.metrics.agreement import AnnotationTask
from nltk.metrics.distance import jaccard_distance as nltk_jaccard
from nltk.metrics.distance import masi_distance as nltk_masi

from quality.metrics import agreement as ag
from quality.metrics.bootstrap import bootstrap_ci, resample_items
from quality.metrics.coding import from_matrix, label_counts, to_matrix
from quality.metrics.sets import from_python_sets, jaccard_distance, masi_distance, set_alpha

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)

label_sets = st.frozensets(st.integers(0, 69), max_size=6)  # > 64 labels: two bitmask words


@SETTINGS
@given(a=label_sets, b=label_sets)
def test_set_distances_match_nltk(a, b):
    if not a and not b:
        assert masi_distance(set(a), set(b)) == 0.0
        return
    assert masi_distance(set(a), set(b)) == pytest.approx(nltk_masi(set(a), set(b)))
    assert jaccard_distance(set(a), set(b)) == pytest.approx(nltk_jaccard(set(a), set(b)))


def test_masi_weights_by_hand():
    assert masi_distance({1, 2}, {1, 2}) == 0.0
    assert masi_distance({1, 2}, {1}) == pytest.approx(1 - 0.5 * 2 / 3)  # subset
    assert masi_distance({1, 2}, {2, 3}) == pytest.approx(1 - (1 / 3) * (1 / 3))  # overlap
    assert masi_distance({1}, {2}) == 1.0


@st.composite
def complete_set_data(draw):
    n_items = draw(st.integers(2, 10))
    n_coders = draw(st.integers(2, 4))
    answers = [
        (i, c, set(draw(st.frozensets(st.integers(0, 4), min_size=1, max_size=3))))
        for i in range(n_items)
        for c in range(n_coders)
    ]
    return answers


@pytest.mark.parametrize(("name", "nltk_distance"), [("masi", nltk_masi), ("jaccard", nltk_jaccard)])
@SETTINGS
@given(answers=complete_set_data())
def test_set_alpha_matches_nltk_on_complete_data(name, nltk_distance, answers):
    # nltk's alpha assumes every coder labelled every item, so the comparison uses complete data.
    task = AnnotationTask([(str(c), str(i), frozenset(s)) for i, c, s in answers], distance=nltk_distance)
    mine = set_alpha(from_python_sets(answers, 5), distance=name)
    oracle = task.alpha()

    if np.isnan(mine):  # one distinct answer throughout: we say undefined, nltk says 1.0
        assert oracle == 1.0
        assert len({frozenset(s) for _, _, s in answers}) == 1
    else:
        assert mine == pytest.approx(oracle, abs=1e-9)


@SETTINGS
@given(matrix=st.lists(st.lists(st.integers(-1, 3), min_size=3, max_size=3), min_size=2, max_size=12))
def test_set_alpha_of_singletons_is_nominal_alpha(matrix):
    # With one label per answer, MASI and Jaccard distances are the nominal metric: alpha must agree,
    # missing data included.
    matrix = np.array(matrix)
    answers = [(i, c, {int(v)}) for i, row in enumerate(matrix) for c, v in enumerate(row) if v >= 0]
    expected = ag.krippendorff_alpha(from_matrix(matrix, n_labels=4))
    mine = set_alpha(from_python_sets(answers, 4)) if answers else float("nan")

    assert (np.isnan(mine) and np.isnan(expected)) or mine == pytest.approx(expected, abs=1e-9)


# --- bootstrap ------------------------------------------------------------------------------------


def random_coded(seed, n_items=60, n_annotators=4, n_labels=3):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_labels, n_items)
    noisy = np.where(
        rng.random((n_items, n_annotators)) < 0.7,
        truth[:, None],
        rng.integers(0, n_labels, (n_items, n_annotators)),
    )
    noisy[rng.random(noisy.shape) < 0.2] = -1
    return from_matrix(noisy, n_labels=n_labels)


def test_resampling_items_keeps_each_items_annotations_together():
    coded = random_coded(1, n_items=8)
    picked = np.array([3, 3, 0, 7])
    resampled = resample_items(coded, picked)

    assert to_matrix(resampled).tolist() == to_matrix(coded)[picked].tolist()
    counts = resample_items(label_counts(coded), picked)
    assert counts.dense().tolist() == label_counts(coded).dense()[picked].tolist()


def test_bootstrap_redoes_the_documented_draws():
    coded = random_coded(2)
    result = bootstrap_ci(ag.krippendorff_alpha, coded, n=200, seed=7)

    rng = np.random.default_rng(7)
    matrix = to_matrix(coded)
    by_hand = [
        ag.krippendorff_alpha(from_matrix(matrix[rng.integers(0, len(matrix), len(matrix))], n_labels=3))
        for _ in range(200)
    ]
    assert result.replicates == pytest.approx(by_hand)
    assert result.estimate == pytest.approx(ag.krippendorff_alpha(coded))
    assert (result.low, result.high) == pytest.approx(tuple(np.quantile(by_hand, [0.025, 0.975])))
    assert result.low < result.estimate < result.high


def test_bootstrap_on_counts_equals_bootstrap_on_annotations():
    coded = random_coded(3)
    on_coded = bootstrap_ci(ag.fleiss_kappa, coded, n=50, seed=1)
    on_counts = bootstrap_ci(ag.fleiss_kappa, label_counts(coded), n=50, seed=1)

    assert on_counts.replicates == pytest.approx(on_coded.replicates)


def test_bootstrap_interval_agrees_with_scipy_for_a_mean():
    from scipy.stats import bootstrap

    values = np.random.default_rng(4).normal(size=400)
    mine = bootstrap_ci(np.mean, values, n=4000, seed=0)
    theirs = bootstrap((values,), np.mean, n_resamples=4000, method="percentile", random_state=0)

    assert mine.low == pytest.approx(theirs.confidence_interval.low, abs=0.01)
    assert mine.high == pytest.approx(theirs.confidence_interval.high, abs=0.01)


def test_bootstrap_skips_degenerate_replicates():
    coded = from_matrix(np.array([[0, 0], [0, 0], [0, 0], [1, 1]]))
    result = bootstrap_ci(ag.krippendorff_alpha, coded, n=100, seed=0)

    assert np.isnan(result.replicates).any()  # some replicates never draw the "1" item
    assert result.valid == np.count_nonzero(~np.isnan(result.replicates))
    assert result.low == result.high == 1.0
