"""quality.consensus: majority vote, Dawid-Skene, MACE, Bradley-Terry. Pure: no database.

Oracles: crowd-kit (test-only) for Dawid-Skene, MACE and majority vote; scipy.optimize for the
Bradley-Terry likelihood; simulated annotators with known confusion matrices for recovery.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sps
from crowdkit.aggregation import MACE, BradleyTerry, DawidSkene, MajorityVote
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from quality.consensus.bradley_terry import bradley_terry, rankings_to_comparisons
from quality.consensus.dawid_skene import dawid_skene
from quality.consensus.mace import mace
from quality.consensus.voting import majority_vote
from quality.metrics.coding import from_codes, from_matrix

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
ORACLE_SETTINGS = settings(max_examples=5, deadline=None, derandomize=True)  # crowd-kit is slow (pandas)

# crowd-kit calls pandas APIs that pandas 3 deprecates; its warnings are not ours.
pytestmark = pytest.mark.filterwarnings("ignore::Warning:crowdkit")


def simulate(seed, n_items, confusions, per_item, prior=None):
    """Each item gets `per_item` distinct annotators; annotator a answers from row truth of confusions[a]."""
    rng = np.random.default_rng(seed)
    n_annotators, n_labels, _ = confusions.shape
    truth = rng.choice(n_labels, size=n_items, p=prior)
    rows = []
    for u in range(n_items):
        for a in rng.choice(n_annotators, size=per_item, replace=False):
            rows.append((u, a, rng.choice(n_labels, p=confusions[a, truth[u]])))
    item, annotator, label = np.array(rows).T
    coded = from_codes(item, annotator, label, n_items=n_items, n_annotators=n_annotators, n_labels=n_labels)
    return coded, truth


def as_frame(coded):
    # Name workers and labels in first-appearance order: crowd-kit's MACE indexes its strategy rows by
    # pd.factorize order but fills them in sorted order, so the two orders must coincide.
    frame = pd.DataFrame({"task": coded.item, "worker": coded.annotator, "label": coded.label})
    frame["worker"] = pd.factorize(frame["worker"])[0]
    frame["label"] = pd.factorize(frame["label"])[0]
    return frame


def uniform_confusions(accuracies, n_labels):
    out = []
    for acc in accuracies:
        m = np.full((n_labels, n_labels), (1 - acc) / (n_labels - 1))
        np.fill_diagonal(m, acc)
        out.append(m)
    return np.array(out)


# --- majority vote ----------------------------------------------------------------------------


def test_majority_vote_ties_weights_and_empty_items():
    coded = from_matrix(np.array([[0, 0, 1], [0, 1, -1], [-1, -1, -1], [2, 2, 2]]), n_labels=3)

    plain = majority_vote(coded)
    assert plain.labels.tolist() == [0, 0, -1, 2]
    assert plain.tied.tolist() == [False, True, False, False]
    assert plain.confidence[0] == pytest.approx(2 / 3)
    assert np.isnan(plain.confidence[2])

    weighted = majority_vote(coded, weights=np.array([1.0, 1.0, 3.0]))
    assert weighted.labels.tolist() == [1, 0, -1, 2]
    assert weighted.confidence[0] == pytest.approx(3 / 5)


def test_random_tie_breaking_is_reproducible_and_picks_among_the_tied():
    coded = from_matrix(np.tile(np.array([[0, 1, 2, 2, 1]]), (200, 1)), n_labels=3)
    first = majority_vote(coded, seed=5).labels

    assert first.tolist() == majority_vote(coded, seed=5).labels.tolist()
    assert set(first.tolist()) == {1, 2}


@ORACLE_SETTINGS
@given(seed=st.integers(0, 10_000))
def test_majority_vote_matches_crowdkit_up_to_ties(seed):
    coded, _ = simulate(seed, 40, uniform_confusions([0.7, 0.6, 0.5, 0.8], 3), per_item=3)
    theirs = MajorityVote().fit(
        pd.DataFrame({"task": coded.item, "worker": coded.annotator, "label": coded.label})
    )
    mine = majority_vote(coded)
    probas = theirs.probas_.reindex(columns=range(3), fill_value=0.0)

    np.testing.assert_allclose(mine.scores / mine.scores.sum(axis=1, keepdims=True), probas.to_numpy())
    untied = ~mine.tied
    assert mine.labels[untied].tolist() == theirs.labels_.to_numpy()[untied].tolist()


# --- Dawid-Skene --------------------------------------------------------------------------------


@ORACLE_SETTINGS
@given(seed=st.integers(0, 10_000), n_labels=st.integers(2, 4))
def test_dawid_skene_matches_crowdkit_iteration_by_iteration(seed, n_labels):
    rng = np.random.default_rng(seed)
    confusions = rng.dirichlet(np.ones(n_labels) * 0.5, size=(6, n_labels)) * 0.5 + np.eye(n_labels) * 0.5
    coded, _ = simulate(seed, 60, confusions, per_item=3)
    present = np.unique(coded.label)
    if len(present) < n_labels:  # crowd-kit only knows labels that occur
        return
    theirs = DawidSkene(n_iter=15, tol=-np.inf).fit(
        pd.DataFrame({"task": coded.item, "worker": coded.annotator, "label": coded.label})
    )
    mine = dawid_skene(coded, max_iter=15, tol=None, smoothing=0.0)

    probas = theirs.probas_.reindex(columns=range(n_labels)).to_numpy()
    np.testing.assert_allclose(mine.posteriors[theirs.probas_.index.to_numpy()], probas, atol=1e-7)
    errors = theirs.errors_  # index (worker, observed), columns true label
    for (worker, observed), row in errors.iterrows():
        np.testing.assert_allclose(
            mine.confusion[worker, :, observed], row.reindex(range(n_labels)), atol=1e-7
        )


def crowd_with_adversaries(good_accuracies, n_spammers, n_adversaries, n_labels=3):
    good = uniform_confusions(good_accuracies, n_labels)
    spammers = np.full((n_spammers, n_labels, n_labels), 1 / n_labels)  # answer at random
    shift = np.roll(np.eye(n_labels), 1, axis=1) * 0.9 + 0.1 / n_labels  # adversaries: t -> t + 1, mostly
    adversaries = np.stack([shift / shift.sum(axis=1, keepdims=True)] * n_adversaries)
    return np.concatenate((good, spammers, adversaries))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dawid_skene_beats_majority_vote_with_adversaries(seed):
    confusions = crowd_with_adversaries([0.8, 0.75, 0.7, 0.65, 0.6], n_spammers=2, n_adversaries=3)
    coded, truth = simulate(seed, 1500, confusions, per_item=5)

    vote = (majority_vote(coded).labels == truth).mean()
    result = dawid_skene(coded)
    ds = (result.labels == truth).mean()

    assert vote < 0.55
    assert ds > 0.93
    # The learned confusion matrices recover the simulated ones (adversaries' shifted diagonal included).
    np.testing.assert_allclose(result.confusion, confusions, atol=0.1)
    assert result.converged
    # Posterior confidence means something: confident items are right more often.
    confident = result.confidence > 0.95
    assert (result.labels[confident] == truth[confident]).mean() > ds


def test_gold_items_resolve_a_crowd_dominated_by_adversaries():
    # As many consistent adversaries as honest annotators: the likelihood cannot tell which group is
    # right, and from the majority-vote start EM settles on the adversaries' labelling. Thirty gold
    # items (2%) anchor it.
    confusions = crowd_with_adversaries([0.8, 0.75, 0.7], n_spammers=3, n_adversaries=3)
    coded, truth = simulate(0, 1500, confusions, per_item=5)
    gold = np.full(1500, -1)
    gold[:30] = truth[:30]

    unanchored = (dawid_skene(coded).labels == truth).mean()
    anchored = (dawid_skene(coded, gold=gold).labels[30:] == truth[30:]).mean()

    assert unanchored < 0.1  # consistently swapped
    assert anchored > 0.93
    assert (majority_vote(coded).labels == truth).mean() < 0.45


def test_dawid_skene_gold_labels_pin_their_items():
    coded, truth = simulate(1, 200, uniform_confusions([0.6, 0.6, 0.6], 2), per_item=3)
    gold = np.full(200, -1)
    gold[:20] = truth[:20]
    result = dawid_skene(coded, gold=gold)

    assert result.labels[:20].tolist() == truth[:20].tolist()
    np.testing.assert_allclose(result.posteriors[:20].max(axis=1), 1.0)


def test_dawid_skene_reports_accuracy_and_handles_unannotated_items():
    coded = from_matrix(np.array([[0, 0, 0], [1, 1, 1], [-1, -1, -1], [0, 0, 1]]), n_labels=2)
    result = dawid_skene(coded)

    assert result.labels[2] == -1
    assert result.labels[[0, 1]].tolist() == [0, 1]
    accuracy = result.annotator_accuracy()
    assert accuracy[0] > accuracy[2]  # annotator 2 disagreed on item 3


def slow_dawid_skene(coded, n_iter, smoothing):
    """The EM written out item by item, annotation by annotation."""
    q, items, annotators = coded.n_labels, coded.n_items, coded.n_annotators
    answers = [[] for _ in range(items)]
    for u, a, lab in zip(coded.item.tolist(), coded.annotator.tolist(), coded.label.tolist(), strict=True):
        answers[u].append((a, lab))
    post = np.zeros((items, q))
    for u in range(items):
        for _, lab in answers[u]:
            post[u, lab] += 1 / len(answers[u])

    def m_step(post):
        prior = post.mean(axis=0)
        conf = np.full((annotators, q, q), smoothing)
        for u in range(items):
            for a, lab in answers[u]:
                for t in range(q):
                    conf[a, t, lab] += post[u, t]
        conf = np.maximum(conf, 1e-10)
        return prior, conf / conf.sum(axis=2, keepdims=True)

    prior, conf = m_step(post)
    for _ in range(n_iter):
        for u in range(items):
            logp = np.log(np.maximum(prior, 1e-10)).copy()
            for a, lab in answers[u]:
                logp += np.log(conf[a, :, lab])
            p = np.exp(logp - logp.max())
            post[u] = p / p.sum()
        prior, conf = m_step(post)
    return post


def test_dawid_skene_with_smoothing_matches_the_loops():
    coded, _ = simulate(3, 40, uniform_confusions([0.9, 0.6, 0.4, 0.7], 3), per_item=2)
    mine = dawid_skene(coded, max_iter=10, tol=None, smoothing=0.5)

    np.testing.assert_allclose(mine.posteriors, slow_dawid_skene(coded, 10, 0.5), atol=1e-10)


# --- MACE -------------------------------------------------------------------------------------


def crowdkit_initial(n_workers, n_labels):
    """crowd-kit's MACE start (every restart uses random_state=0)."""
    spamming = sps.uniform(1, 1.5).rvs(size=(n_workers, 2), random_state=0)
    strategy = sps.uniform(1, 1.5).rvs(size=(n_workers, n_labels), random_state=0)
    return spamming[:, 1] / spamming.sum(axis=1), strategy / strategy.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("method", ["vb", "em"])
@ORACLE_SETTINGS
@given(seed=st.integers(0, 10_000))
def test_mace_matches_crowdkit_from_the_same_start(method, seed):
    coded, _ = simulate(seed, 50, uniform_confusions([0.9, 0.5, 0.4, 0.8, 0.3], 3), per_item=3)
    frame = as_frame(coded)
    coded = from_codes(frame["task"], frame["worker"], frame["label"])
    theirs = MACE(n_restarts=1, n_iter=10, method=method, random_state=0).fit(frame)
    mine = mace(
        coded,
        method=method,
        max_iter=10,
        tol=None,
        initial=crowdkit_initial(coded.n_annotators, coded.n_labels),
    )

    probas = theirs.probas_.reindex(columns=range(coded.n_labels)).to_numpy()
    np.testing.assert_allclose(mine.posteriors[theirs.probas_.index.to_numpy()], probas, atol=1e-9)


def test_mace_finds_the_spammers_and_beats_majority_vote():
    n_labels = 4
    good = uniform_confusions([0.9, 0.85, 0.8], n_labels)
    always_zero = np.zeros((4, n_labels, n_labels))
    always_zero[:, :, 0] = 1.0  # spammers who always answer label 0
    coded, truth = simulate(2, 800, np.concatenate((good, always_zero)), per_item=4)
    result = mace(coded, seed=1)

    assert (result.labels == truth).mean() > (majority_vote(coded).labels == truth).mean() + 0.1
    assert result.competence[:3].min() > 0.6
    assert result.competence[3:].max() < 0.3
    assert result.strategy[3:, 0].min() > 0.9


# --- Bradley-Terry -----------------------------------------------------------------------------


def random_comparisons(seed, n_options, n_games):
    rng = np.random.default_rng(seed)
    strength = rng.normal(size=n_options)
    i = rng.integers(0, n_options, n_games)
    j = (i + rng.integers(1, n_options, n_games)) % n_options
    first_wins = rng.random(n_games) < 1 / (1 + np.exp(strength[j] - strength[i]))
    return np.where(first_wins, i, j), np.where(first_wins, j, i), strength


def penalised_mle(winner, loser, n_options, prior, weights=None):
    weights = np.ones(len(winner)) if weights is None else weights

    def negative_log_likelihood(theta):
        value = np.sum(weights * np.logaddexp(0, theta[loser] - theta[winner]))
        return value + prior * np.sum(np.logaddexp(0, -theta)) + prior * np.sum(np.logaddexp(0, theta))

    return minimize(negative_log_likelihood, np.zeros(n_options), method="BFGS", options={"gtol": 1e-9}).x


@SETTINGS
@given(seed=st.integers(0, 10_000), prior=st.sampled_from([0.1, 1.0, 5.0]))
def test_bradley_terry_is_the_penalised_likelihood_maximum(seed, prior):
    winner, loser, _ = random_comparisons(seed, 6, 40)
    result = bradley_terry(winner, loser, n_options=6, prior=prior)

    np.testing.assert_allclose(np.log(result.strength), penalised_mle(winner, loser, 6, prior), atol=1e-5)
    assert result.converged


def test_bradley_terry_without_prior_is_the_mle_and_matches_crowdkit_steps():
    winner, loser, truth = random_comparisons(0, 8, 2000)
    result = bradley_terry(winner, loser, prior=0)
    theta = penalised_mle(winner, loser, 8, 0.0)

    np.testing.assert_allclose(result.log_strength, theta - theta.mean(), atol=1e-5)
    assert sps.spearmanr(result.log_strength, truth).statistic > 0.9
    # crowd-kit's loop stops after its second step (it compares an array with itself), so compare steps.
    frame = pd.DataFrame({"worker": 0, "left": winner, "right": loser, "label": winner})
    theirs = BradleyTerry(n_iter=2).fit(frame).scores_.reindex(range(8)).to_numpy()
    two_steps = bradley_terry(winner, loser, prior=0, max_iter=2, tol=0)
    np.testing.assert_allclose(two_steps.strength, theirs, atol=1e-12)


def test_bradley_terry_stays_finite_for_an_undefeated_option():
    result = bradley_terry([0, 0, 1, 2], [1, 2, 2, 1])

    assert np.isfinite(result.log_strength).all()
    assert result.log_strength.argmax() == 0
    assert result.win_probability(0, 1) > 0.5


def test_rankings_break_into_comparisons_with_half_weight_ties():
    winner, loser, weight = rankings_to_comparisons([0, 0, 0, 1, 1], [3, 1, 2, 1, 2], [1, 2, 2, 1, 2])
    triples = sorted(zip(winner.tolist(), loser.tolist(), weight.tolist(), strict=True))

    assert triples == [(1, 2, 0.5), (1, 2, 1.0), (2, 1, 0.5), (3, 1, 1.0), (3, 2, 1.0)]


def test_bradley_terry_on_rankings_recovers_the_order():
    rng = np.random.default_rng(3)
    quality = np.array([3.0, 2.0, 1.0, 0.0, -1.0])
    rows = []
    for ranking in range(60):
        noisy = quality + rng.gumbel(size=5)
        for position, option in enumerate(np.argsort(-noisy)):
            rows.append((ranking, option, position))
    ranking, option, rank = np.array(rows).T
    winner, loser, weight = rankings_to_comparisons(ranking, option, rank)
    result = bradley_terry(winner, loser, weights=weight)

    assert np.argsort(-result.log_strength).tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(
        np.log(result.strength), penalised_mle(winner, loser, 5, 0.1, weight), atol=1e-5
    )
