"""quality.metrics.matching, geometry, ranking and text against independent implementations. No database.

Oracles: brute force over all partial matchings, shapely (polygon areas), pycocotools (box IoU and
COCO's OKS), scipy.stats (Kendall, Spearman), nltk (edit distance).
"""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.metrics.distance import edit_distance
from pycocotools import mask as coco_mask
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from scipy import stats
from shapely.geometry import Polygon

from quality.metrics import geometry, matching, ranking, text
from quality.metrics.agreement import fleiss_kappa, percent_agreement

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


# --- matching ----------------------------------------------------------------------------------


def brute_force_best(similarity, threshold):
    """(most pairs, then largest total) over every partial one-to-one matching."""
    n, m = similarity.shape
    best = (0, 0.0)
    for k in range(min(n, m) + 1):
        for rows in itertools.combinations(range(n), k):
            for cols in itertools.permutations(range(m), k):
                if all(similarity[r, c] >= threshold for r, c in zip(rows, cols, strict=True)):
                    total = float(sum(similarity[r, c] for r, c in zip(rows, cols, strict=True)))
                    best = max(best, (k, round(total, 9)))
    return best


@SETTINGS
@given(
    similarity=st.integers(0, 4).flatmap(
        lambda n: st.integers(0, 4).flatmap(
            lambda m: st.lists(st.lists(st.floats(0, 1), min_size=m, max_size=m), min_size=n, max_size=n)
        )
    ),
    threshold=st.sampled_from([0.3, 0.5, 0.75]),
)
def test_match_is_maximum_cardinality_then_maximum_total(similarity, threshold):
    sim = (
        np.array(similarity, dtype=np.float64).reshape(len(similarity), -1)
        if similarity
        else np.zeros((0, 0))
    )
    rows, cols = matching.match(sim, threshold)

    assert len(set(rows.tolist())) == len(rows) and len(set(cols.tolist())) == len(cols)
    assert (sim[rows, cols] >= threshold).all()
    k, total = brute_force_best(sim, threshold)
    assert len(rows) == k
    assert float(sim[rows, cols].sum()) == pytest.approx(total, abs=1e-7)


def test_span_prf_exact_and_overlap():
    a = [(0, 5, 1), (10, 15, 2), (20, 25, 1)]
    b = [(0, 5, 1), (11, 15, 2), (20, 25, 2), (30, 31, 1)]

    exact = matching.span_prf(a, b, mode="exact")
    assert (exact.matched, exact.precision, exact.recall) == (1, 0.25, 1 / 3)
    overlap = matching.span_prf(a, b, mode="overlap")
    assert overlap.matched == 2  # (20, 25) has a different label
    assert overlap.f1 == pytest.approx(2 * 2 / 7)
    assert matching.span_prf(a, b, mode="overlap", match_labels=False).matched == 3
    assert matching.span_prf(a, b, mode="overlap", min_iou=0.9).matched == 1  # 4/5 = 0.8 < 0.9
    assert matching.span_prf([], []).f1 == 1.0


def test_segments_use_float_times_and_temporal_agreement():
    a = [(0.0, 2.0, 0), (3.0, 4.5, 1)]
    b = [(0.5, 2.0, 0), (3.0, 4.0, 0)]

    assert matching.segment_prf(a, b).matched == 1
    # Same label over [0.5, 2.0) = 1.5 s; covered by anyone: [0, 2) + [3, 4.5) = 3.5 s.
    assert matching.temporal_agreement(a, b) == pytest.approx(1.5 / 3.5)
    assert matching.temporal_agreement(a, b, match_labels=False) == pytest.approx(2.5 / 3.5)


@st.composite
def span_data(draw):
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, 3), st.integers(0, 3), st.integers(0, 6), st.integers(1, 3), st.integers(0, 1)
            ),
            max_size=30,
        )
    )
    return [(i, a, s, s + length, lab) for i, a, s, length, lab in rows]


@SETTINGS
@given(spans=span_data())
def test_pairwise_exact_span_f1_matches_span_prf_per_item(spans):
    n_annotators = 4
    if spans:
        item, annotator, start, end, label = (np.array(c) for c in zip(*spans, strict=True))
    else:
        item = annotator = start = end = label = np.zeros(0, dtype=np.int64)
    result = matching.pairwise_exact_span_f1(item, annotator, start, end, label, n_annotators=n_annotators)
    answered = {(i, a) for i, a, *_ in spans}
    for a, b in itertools.permutations(range(n_annotators), 2):
        common = sorted({i for i, x in answered if x == a} & {i for i, x in answered if x == b})
        matched = n_a = n_b = 0
        for i in common:
            sa = [s[2:] for s in spans if s[0] == i and s[1] == a]
            sb = [s[2:] for s in spans if s[0] == i and s[1] == b]
            prf = matching.span_prf(sa, sb, mode="exact")
            matched, n_a, n_b = matched + prf.matched, n_a + prf.n_a, n_b + prf.n_b
        assert result["matched"][a, b] == matched
        assert result["spans"][a, b] == n_a
        if not common:
            assert np.isnan(result["f1"][a, b])
        else:
            assert result["f1"][a, b] == pytest.approx(2 * matched / (n_a + n_b))


# --- geometry ------------------------------------------------------------------------------------

boxes = st.lists(
    st.tuples(st.floats(0, 50), st.floats(0, 50), st.floats(1, 30), st.floats(1, 30)), min_size=1, max_size=5
)


@SETTINGS
@given(a=boxes, b=boxes)
def test_box_iou_matches_pycocotools(a, b):
    mine = geometry.box_iou_matrix(geometry.xywh_to_xyxy(a), geometry.xywh_to_xyxy(b))
    theirs = coco_mask.iou(np.array(b, dtype=np.float64), np.array(a, dtype=np.float64), [0] * len(a))

    np.testing.assert_allclose(mine.T, theirs, atol=1e-9)


@st.composite
def simple_polygons(draw):
    """Star-shaped polygons (simple by construction), convex or not, either orientation."""
    k = draw(st.integers(3, 9))
    jitter = draw(st.lists(st.floats(0.0, 0.8), min_size=k, max_size=k))
    radii = draw(st.lists(st.floats(0.2, 1.0), min_size=k, max_size=k))
    cx, cy = draw(st.floats(-0.6, 0.6)), draw(st.floats(-0.6, 0.6))
    angles = (np.arange(k) + np.array(jitter)) * 2 * np.pi / k
    points = np.column_stack((cx + np.array(radii) * np.cos(angles), cy + np.array(radii) * np.sin(angles)))
    return points[::-1] if draw(st.booleans()) else points


@settings(max_examples=100, deadline=None, derandomize=True)
@given(p=simple_polygons(), q=simple_polygons())
def test_polygon_iou_matches_shapely(p, q):
    sp, sq = Polygon(p), Polygon(q)
    expected = sp.intersection(sq).area / sp.union(sq).area

    assert geometry.polygon_iou(p, q) == pytest.approx(expected, abs=1e-9)
    assert geometry.polygon_area(p) == pytest.approx(sp.area)


def test_polygon_iou_of_non_convex_shapes_by_hand():
    l_shape = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]  # area 3
    square = [(1, 1), (2, 1), (2, 2), (1, 2)]  # the L's missing corner

    assert geometry.polygon_intersection_area(l_shape, square) == pytest.approx(0.0, abs=1e-12)
    assert geometry.polygon_iou(l_shape, [(0, 0), (2, 0), (2, 2), (0, 2)]) == pytest.approx(0.75)
    matrix = geometry.polygon_iou_matrix([l_shape, square], [square, [(5, 5), (6, 5), (6, 6)]])
    np.testing.assert_allclose(matrix, [[0, 0], [1, 0]], atol=1e-12)


def coco_oks(gt_keypoints, area, dt_keypoints, sigmas):
    """COCOeval.computeOks on one ground-truth and one detected instance."""
    gt = COCO()
    gt.dataset = {
        "images": [{"id": 1}],
        "categories": [{"id": 1, "name": "thing", "keypoints": [str(i) for i in range(len(sigmas))]}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "keypoints": gt_keypoints, "area": area,
             "bbox": [0, 0, 100, 100], "iscrowd": 0, "num_keypoints": sum(v > 0 for v in gt_keypoints[2::3])}
        ],
    }  # fmt: skip
    gt.createIndex()
    dt = gt.loadRes([{"image_id": 1, "category_id": 1, "keypoints": dt_keypoints, "score": 1.0}])
    evaluator = COCOeval(gt, dt, iouType="keypoints")
    evaluator.params.kpt_oks_sigmas = np.asarray(sigmas)
    evaluator.params.imgIds = [1]
    evaluator._prepare()
    return float(evaluator.computeOks(1, 1)[0, 0])


@SETTINGS
@given(seed=st.integers(0, 10_000), k=st.integers(1, 17))
def test_oks_matches_pycocotools(seed, k):
    rng = np.random.default_rng(seed)
    sigmas = geometry.COCO_PERSON_SIGMAS[:k]
    gt = np.column_stack((rng.uniform(0, 100, k), rng.uniform(0, 100, k), rng.choice([0, 1, 2], k)))
    if not (gt[:, 2] > 0).any():
        gt[0, 2] = 2
    dt = np.column_stack((gt[:, 0] + rng.normal(0, 5, k), gt[:, 1] + rng.normal(0, 5, k), np.ones(k)))
    area = float(rng.uniform(200, 5000))
    expected = coco_oks(gt.ravel().tolist(), area, dt.ravel().tolist(), sigmas)

    assert geometry.oks(gt, dt, area, sigmas) == pytest.approx(expected, abs=1e-9)


def test_keypoints_the_other_annotator_left_out_count_as_zero():
    ref = np.array([[10, 10, 2], [20, 20, 2]])
    other = np.array([[10, 10, 2], [20, 20, 0]])

    assert geometry.oks(ref, other, 100.0, [0.5, 0.5]) == pytest.approx(0.5)
    assert np.isnan(geometry.oks(np.array([[1, 1, 0]]), other[:1], 100.0, [0.5]))


def test_box_matching_respects_labels_and_threshold():
    a = [[0, 0, 10, 10], [20, 20, 30, 30]]
    b = [[1, 1, 10, 10], [20, 20, 30, 31], [50, 50, 60, 60]]

    assert geometry.box_prf(a, b).matched == 2
    assert geometry.box_prf(a, b, labels_a=[0, 1], labels_b=[0, 0, 1]).matched == 1
    assert geometry.box_prf(a, b, threshold=0.95).matched == 0
    assert (
        geometry.polygon_prf(
            [[(0, 0), (10, 0), (10, 10), (0, 10)]], [[(1, 1), (10, 1), (10, 10), (1, 10)]]
        ).f1
        == 1.0
    )
    ref = np.array([[[10, 10, 2], [20, 20, 2]]])
    assert geometry.keypoint_prf(ref, ref + np.array([[[1, 1, 0]]]), [100.0], sigmas=[0.5, 0.5]).matched == 1


# --- ranking -------------------------------------------------------------------------------------

score_pairs = st.integers(2, 12).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 4), min_size=n, max_size=n),
        st.lists(st.integers(0, 4), min_size=n, max_size=n),
    )
)


@SETTINGS
@given(pair=score_pairs)
def test_kendall_and_spearman_match_scipy(pair):
    x, y = (np.array(v, dtype=np.float64) for v in pair)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on constant input and answers NaN, as we do
        tau = stats.kendalltau(x, y).statistic
        rho = stats.spearmanr(x, y).statistic

    for mine, theirs in ((ranking.kendall_tau(x, y), tau), (ranking.spearman_rho(x, y), rho)):
        assert (np.isnan(mine) and np.isnan(theirs)) or mine == pytest.approx(theirs, abs=1e-9)


def test_kendall_w_by_hand_and_pairwise_matrix():
    perfect = np.array([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]])
    assert ranking.kendall_w(perfect) == pytest.approx(1.0)
    assert ranking.kendall_w(np.array([[1, 2, 3], [3, 2, 1]])) == pytest.approx(0.0)
    # Three judges, four options (Siegel & Castellan's layout): rank sums 4, 6, 8, 12 -> S = 35.
    ranks = np.array([[1, 2, 3, 4], [2, 1, 3, 4], [1, 3, 2, 4]])
    assert ranking.kendall_w(ranks) == pytest.approx(12 * 35 / (9 * 60))

    matrix = ranking.pairwise_rank_matrix(np.array([[1, 2, 3, np.nan], [1, 2, 3, 4], [3, 2, 1, 4]]))
    assert matrix[0, 1] == pytest.approx(1.0)
    assert matrix[0, 2] == pytest.approx(-1.0)


def test_preference_coding_ignores_presentation_order():
    # Annotators 0 and 1 both prefer option 7 over option 3, shown on different sides; 2 calls a tie.
    coded = ranking.preference_coding(left=[3, 7, 3], right=[7, 3, 7], winner=[7, 7, -1], annotator=[0, 1, 2])

    assert coded.n_items == 1
    assert sorted(coded.label.tolist()) == [1, 1, 2]
    assert percent_agreement(coded) == pytest.approx(1 / 3)
    assert fleiss_kappa(coded) < 0


# --- text ----------------------------------------------------------------------------------------

words = st.lists(st.sampled_from(["the", "cat", "sat", "on", "a", "mat", "hat"]), max_size=12)


@SETTINGS
@given(a=st.text(alphabet="abcdé ", max_size=25), b=st.text(alphabet="abcdé ", max_size=25))
def test_levenshtein_matches_nltk(a, b):
    assert text.levenshtein(a, b) == edit_distance(a, b)
    longest = max(len(a), len(b))
    assert text.normalized_edit_distance(a, b) == (edit_distance(a, b) / longest if longest else 0.0)


@SETTINGS
@given(ref=words, hyp=words)
def test_wer_is_word_level_edit_distance(ref, hyp):
    reference, hypothesis = " ".join(ref), " ".join(hyp)
    if not ref:
        assert (
            (text.wer(reference, hypothesis) == 0.0) if not hyp else np.isnan(text.wer(reference, hypothesis))
        )
        return
    assert text.wer(reference, hypothesis) == pytest.approx(edit_distance(ref, hyp) / len(ref))


def test_wer_and_cer_by_hand():
    assert text.wer("the cat sat on the mat", "the cat sit on mat") == pytest.approx(2 / 6)
    assert text.wer("The Cat", "the cat", lowercase=True) == 0.0
    assert text.cer("kitten", "sitting") == pytest.approx(3 / 6)
    similarity = text.pairwise_text_similarity(["kitten", "sitting", "kitten"])
    assert similarity[0, 2] == 1.0
    assert similarity[0, 1] == pytest.approx(1 - 3 / 7)
