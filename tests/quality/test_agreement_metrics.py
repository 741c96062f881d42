"""quality.metrics.agreement against published examples and independent implementations. Pure: no database.

Oracles (test-only dependencies): krippendorff, scikit-learn, statsmodels; Gwet's coefficients and the
pairwise breakdowns against the slowest, most literal loops written here.
"""

import warnings

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from quality.metrics import agreement as ag
from quality.metrics.coding import counts_from_table, from_matrix

SETTINGS = settings(max_examples=50, deadline=None, derandomize=True)

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers, 12 units,
# values 1..5, missing data. Rows are observers A-D; None = no value.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]

# Fleiss (1971): 30 patients, 6 psychiatrists each, 5 diagnoses (the table as statsmodels ships it).
FLEISS_1971 = np.array(
    [
        [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
        [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
        [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
        [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
        [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
    ]
)  # fmt: skip

# Wikipedia's Fleiss' kappa example: 10 subjects x 14 raters, counts per category; kappa = 0.210.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]  # fmt: skip


def krippendorff_example():
    matrix = np.array([[-1 if v is None else v - 1 for v in row] for row in KRIPPENDORFF_2011]).T
    return from_matrix(matrix, n_labels=5)


def two_by_two(yes_yes, yes_no, no_yes, no_no):
    a = [0] * (yes_yes + yes_no) + [1] * (no_yes + no_no)
    b = [0] * yes_yes + [1] * yes_no + [0] * no_yes + [1] * no_no
    return np.array(a), np.array(b)


# --- published worked examples ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_2011_worked_example(level, published):
    alpha = ag.krippendorff_alpha(krippendorff_example(), level=level, values=np.arange(1, 6))

    assert round(alpha, 3) == published


def test_krippendorff_2011_example_other_coefficients_match_gwets_handbook():
    # Same data in Gwet's Handbook of Inter-Rater Reliability (irrCAC's cac.raw4raters).
    coded = krippendorff_example()

    assert ag.percent_agreement(coded) == pytest.approx(9 / 11)
    assert round(ag.fleiss_kappa(coded), 5) == 0.76117
    assert round(ag.gwet_ac(coded), 5) == 0.77544


def test_fleiss_1971_psychiatric_diagnoses():
    coded = from_matrix(FLEISS_1971 - 1, n_labels=5)

    assert round(ag.fleiss_kappa(coded), 3) == 0.430


def test_fleiss_wikipedia_example_from_a_count_table():
    counts = counts_from_table(WIKIPEDIA_FLEISS)

    assert round(ag.percent_agreement(counts), 3) == 0.378
    assert round(ag.fleiss_kappa(counts), 3) == 0.210


@pytest.mark.parametrize(
    ("cells", "kappa"),
    [
        ((20, 5, 10, 15), 0.4),  # p_o = 0.7, p_e = 0.5
        ((45, 15, 25, 15), 0.1304),
        ((25, 35, 5, 35), 0.2593),
    ],
)
def test_cohen_kappa_textbook_two_by_two_tables(cells, kappa):
    a, b = two_by_two(*cells)

    assert ag.cohen_kappa(a, b) == pytest.approx(kappa, abs=5e-5)


def test_perfect_and_chance_agreement():
    same = from_matrix(np.array([[0, 0, 0], [1, 1, 1], [2, 2, 2]]))
    assert ag.krippendorff_alpha(same) == 1.0
    assert ag.fleiss_kappa(same) == 1.0
    assert ag.percent_agreement(same) == 1.0

    one_category = from_matrix(np.zeros((4, 3), dtype=int))
    assert np.isnan(ag.krippendorff_alpha(one_category))  # 0/0: no variation to agree about
    assert np.isnan(ag.fleiss_kappa(one_category))
    assert ag.percent_agreement(one_category) == 1.0


def test_unpairable_items_are_ignored_by_alpha():
    base = from_matrix(np.array([[0, 0], [1, 1], [0, 1], [1, 0], [0, 0]]))
    extended = from_matrix(np.array([[0, 0], [1, 1], [0, 1], [1, 0], [0, 0], [1, -1], [-1, 0]]))

    assert ag.krippendorff_alpha(extended) == pytest.approx(ag.krippendorff_alpha(base))


# --- random data against the libraries ----------------------------------------------------------


@st.composite
def reliability_matrices(draw, complete=False, max_labels=5):
    n_items = draw(st.integers(2, 25))
    n_annotators = draw(st.integers(2, 6))
    n_labels = draw(st.integers(2, max_labels))
    low = 0 if complete else -1
    matrix = draw(arrays(np.int64, (n_items, n_annotators), elements=st.integers(low, n_labels - 1)))
    return matrix, n_labels


def _oracle_alpha(matrix, level, values):
    data = np.where(matrix < 0, np.nan, values[np.maximum(matrix, 0)]).T
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return krippendorff.alpha(data, level_of_measurement=level)
        except (ValueError, ZeroDivisionError):
            return float("nan")


@pytest.mark.parametrize("level", ag.LEVELS)
@SETTINGS
@given(data=reliability_matrices())
def test_alpha_matches_krippendorff_package(level, data):
    matrix, n_labels = data
    values = np.array([1.0, 2.0, 4.0, 7.0, 11.0])[:n_labels]  # unevenly spaced: the metric matters
    mine = ag.krippendorff_alpha(from_matrix(matrix, n_labels=n_labels), level=level, values=values)
    oracle = _oracle_alpha(matrix, level, values)

    if np.isnan(mine):
        assert np.isnan(oracle) or not np.isfinite(oracle)
    else:
        assert mine == pytest.approx(oracle, abs=1e-9)


@SETTINGS
@given(data=reliability_matrices(complete=True))
def test_fleiss_matches_statsmodels_on_complete_data(data):
    matrix, n_labels = data
    table = np.stack([np.bincount(row, minlength=n_labels) for row in matrix])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle = sm_fleiss_kappa(table)
    mine = ag.fleiss_kappa(from_matrix(matrix, n_labels=n_labels))

    assert (np.isnan(mine) and not np.isfinite(oracle)) or mine == pytest.approx(oracle, abs=1e-9)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@SETTINGS
@given(data=reliability_matrices(max_labels=6))
def test_cohen_matches_scikit_learn(weights, data):
    matrix, n_labels = data
    a, b = matrix[:, 0], matrix[:, 1]
    both = (a >= 0) & (b >= 0)
    mine = ag.cohen_kappa(a, b, n_labels=n_labels, weights=weights)
    if not both.any():
        assert np.isnan(mine)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle = cohen_kappa_score(a[both], b[both], labels=list(range(n_labels)), weights=weights)

    assert (np.isnan(mine) and np.isnan(oracle)) or mine == pytest.approx(oracle, abs=1e-9)


def slow_gwet(matrix, n_labels, weights):
    """Gwet (2014), ch. 2 and 3, written out item by item."""
    q = n_labels
    rows = [[v for v in row if v >= 0] for row in matrix]
    rated = [r for r in rows if len(r) >= 1]
    pairable = [r for r in rows if len(r) >= 2]
    if not pairable:
        return float("nan")
    pa = 0.0
    for r in pairable:
        counts = [r.count(k) for k in range(q)]
        total = 0.0
        for k in range(q):
            r_star = sum(weights[k][other] * counts[other] for other in range(q))
            total += counts[k] * (r_star - 1)
        pa += total / (len(r) * (len(r) - 1))
    pa /= len(pairable)
    pi = [sum(r.count(k) / len(r) for r in rated) / len(rated) for k in range(q)]
    t_w = sum(sum(row) for row in weights)
    pe = t_w / (q * (q - 1)) * sum(p * (1 - p) for p in pi)
    return (pa - pe) / (1 - pe) if pe != 1 else float("nan")


@pytest.mark.parametrize("weights", ["identity", "linear", "quadratic", "ordinal"])
@SETTINGS
@given(data=reliability_matrices())
def test_gwet_matches_the_formulas_written_out(weights, data):
    matrix, n_labels = data
    w = ag.agreement_weights(n_labels, weights)
    mine = ag.gwet_ac(from_matrix(matrix, n_labels=n_labels), weights=weights)
    oracle = slow_gwet(matrix, n_labels, w.tolist())

    assert (np.isnan(mine) and np.isnan(oracle)) or mine == pytest.approx(oracle, abs=1e-9)


def test_gwet_weights_follow_gwets_definitions():
    assert ag.agreement_weights(3, "linear").tolist() == [[1, 0.5, 0], [0.5, 1, 0.5], [0, 0.5, 1]]
    assert ag.agreement_weights(3, "quadratic").tolist() == [[1, 0.75, 0], [0.75, 1, 0.75], [0, 0.75, 1]]
    np.testing.assert_allclose(
        ag.agreement_weights(3, "ordinal"), [[1, 2 / 3, 0], [2 / 3, 1, 2 / 3], [0, 2 / 3, 1]]
    )


@SETTINGS
@given(data=reliability_matrices())
def test_pairwise_matrices_match_cohen_on_each_pair(data):
    matrix, n_labels = data
    result = ag.pairwise_matrices(from_matrix(matrix, n_labels=n_labels))
    n = matrix.shape[1]
    for i in range(n):
        for j in range(n):
            if i == j:
                assert np.isnan(result["kappa"][i, j])
                continue
            both = (matrix[:, i] >= 0) & (matrix[:, j] >= 0)
            assert result["shared"][i, j] == both.sum()
            if not both.any():
                assert np.isnan(result["agreement"][i, j])
                continue
            assert result["agreement"][i, j] == pytest.approx(np.mean(matrix[both, i] == matrix[both, j]))
            expected = ag.cohen_kappa(matrix[:, i], matrix[:, j], n_labels=n_labels)
            got = result["kappa"][i, j]
            assert (np.isnan(got) and np.isnan(expected)) or got == pytest.approx(expected, abs=1e-9)


@SETTINGS
@given(data=reliability_matrices())
def test_per_label_alpha_is_alpha_of_the_binarised_data(data):
    matrix, n_labels = data
    result = ag.per_label_agreement(from_matrix(matrix, n_labels=n_labels))
    for k in range(n_labels):
        binary = np.where(matrix < 0, -1, (matrix == k).astype(np.int64))
        expected = ag.krippendorff_alpha(from_matrix(binary, n_labels=2))
        oracle = _oracle_alpha(binary, "nominal", np.array([0.0, 1.0]))
        got = result["alpha"][k]
        assert (np.isnan(got) and np.isnan(expected)) or got == pytest.approx(expected, abs=1e-9)
        assert np.isnan(got) or got == pytest.approx(oracle, abs=1e-9)


def test_per_label_specific_agreement_by_hand():
    # Item 1: A A B (three annotators); item 2: A A; item 3: B alone (unpairable).
    coded = from_matrix(np.array([[0, 0, 1], [0, 0, -1], [1, -1, -1]]))
    result = ag.per_label_agreement(coded)

    # Label A: same = 2*1 + 2*1 = 4 ordered agreeing pairs; possible = 2*2 + 2*1 = 6.
    assert result["specific_agreement"][0] == pytest.approx(4 / 6)
    assert result["specific_agreement"][1] == 0.0  # B never had a partner who also chose B
    assert result["used"].tolist() == [4, 1]


def test_per_annotator_agreement_pools_pairs():
    # Annotator 2 disagrees with the others on every item.
    coded = from_matrix(np.array([[0, 0, 1], [1, 1, 0], [0, 0, 1], [1, 1, 0]]))
    result = ag.per_annotator_agreement(coded)

    assert result["annotations"].tolist() == [4, 4, 4]
    assert result["comparisons"].tolist() == [8, 8, 8]
    assert result["agreement"].tolist() == [0.5, 0.5, 0.0]
    assert result["kappa"][2] == pytest.approx(-1.0)
