"""quality.consensus.geometry (boxes) and quality.consensus.spans. Pure: no database."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quality.consensus.geometry import box_consensus
from quality.consensus.spans import span_consensus

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


def test_box_consensus_clusters_votes_and_fuses():
    boxes = [
        [0, 0, 10, 10], [50, 50, 60, 60],  # annotator 0
        [1, 1, 11, 11], [50, 51, 60, 61],  # annotator 1
        [0, 1, 10, 12],  # annotator 2
        [100, 100, 120, 120],  # annotator 2 alone: dropped
    ]  # fmt: skip
    result = box_consensus(boxes, [0, 0, 1, 1, 2, 2], labels=[1, 2, 1, 2, 3, 1], match_labels=False)

    # Coordinate-wise median; with two boxes, the lower one.
    assert result.boxes.tolist() == [[0, 1, 10, 11], [50, 50, 60, 60]]
    assert result.labels.tolist() == [1, 2]  # annotator 2's label 3 is outvoted
    assert result.support.tolist() == [3, 2]
    assert result.cluster.tolist() == [0, 1, 0, 1, 0, -1]
    assert (result.mean_iou > 0.7).all()


def test_box_consensus_matches_labels_by_default():
    result = box_consensus([[0, 0, 10, 10], [0, 0, 10, 10]], [0, 1], labels=[1, 2], min_support=1)

    assert result.labels.tolist() == [1, 2]
    assert result.support.tolist() == [1, 1]


def test_box_consensus_needs_a_majority_of_everyone_who_answered():
    boxes = [[0, 0, 10, 10], [0, 0, 10, 10]]
    assert len(box_consensus(boxes, [0, 1], n_annotators=3).boxes) == 1  # 2 of 3
    assert len(box_consensus(boxes, [0, 1], n_annotators=4).boxes) == 0  # 2 of 4 is not a majority
    weighted = box_consensus(boxes, [0, 1], weights=np.array([1.0, 0.2]), min_support=1.1)
    assert weighted.support.tolist() == [pytest.approx(1.2)]


def test_box_consensus_never_puts_two_boxes_of_one_annotator_in_a_cluster():
    boxes = [[0, 0, 10, 10], [0, 0, 10, 10.5], [0, 0, 10, 10]]
    result = box_consensus(boxes, [0, 0, 1], threshold=0.5, min_support=1)

    assert len(result.boxes) == 2
    assert result.support.tolist() == [2, 1]


def test_box_consensus_mean_fusion():
    result = box_consensus([[0, 0, 10, 10], [2, 2, 12, 12]], [0, 1], fuse="mean", threshold=0.3)

    assert result.boxes.tolist() == [[1, 1, 11, 11]]


def test_exact_span_consensus():
    spans = np.array([
        [0, 0, 0, 5, 1], [0, 1, 0, 5, 1], [0, 2, 0, 4, 1],  # item 0: two exact votes for (0, 5)
        [1, 0, 3, 7, 2], [1, 0, 3, 7, 2],  # one annotator twice: still one vote
    ])  # fmt: skip
    out = span_consensus(*spans.T, min_votes=2, method="exact")

    assert out.tolist() == [[0, 0, 5, 1, 2]]


def brute_force_coverage(spans, min_votes):
    """Character by character: offsets covered by >= min_votes distinct annotators, joined into runs."""
    out = []
    keys = sorted({(i, lab) for i, _, _, _, lab in spans})
    for item, label in keys:
        covered = {}
        for i, a, s, e, lab in spans:
            if (i, lab) == (item, label):
                for x in range(s, e):
                    covered.setdefault(x, set()).add(a)
        good = sorted(x for x, who in covered.items() if len(who) >= min_votes)
        for _, run in itertools.groupby(enumerate(good), key=lambda t: t[1] - t[0]):
            xs = [x for _, x in run]
            out.append([item, xs[0], xs[-1] + 1, label, min(len(covered[x]) for x in xs)])
    return sorted(out, key=lambda r: (r[0], r[1], r[3]))


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 2), st.integers(0, 3), st.integers(0, 12), st.integers(1, 5), st.integers(0, 1)
        ),
        max_size=25,
    ),
    min_votes=st.integers(1, 3),
)
def test_coverage_span_consensus_matches_counting_characters(rows, min_votes):
    spans = [(i, a, s, s + length, lab) for i, a, s, length, lab in rows]
    if spans:
        out = span_consensus(*np.array(spans).T, min_votes=min_votes).tolist()
    else:
        out = span_consensus([], [], [], [], [], min_votes=min_votes).tolist()

    assert out == brute_force_coverage(spans, min_votes)


def test_coverage_consensus_with_per_item_thresholds():
    spans = np.array([[0, 0, 0, 4, 0], [0, 1, 2, 6, 0], [1, 0, 0, 4, 0]])
    out = span_consensus(*spans.T, min_votes=np.array([2, 1]))

    assert out.tolist() == [[0, 2, 4, 0, 2], [1, 0, 4, 0, 1]]
