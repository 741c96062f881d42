"""quality.answers, the structured controls (spans, relations, boxes, segments ...; the registry,
docs examples, garbage and categorical/unit controls: test_answers.py). Pure: no database."""

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projects.schema import validate_annotation
from quality.answers import ADAPTERS
from quality.answers.text import SpansAdapter, weighted_span_consensus

from .test_answers import example_control, labels

# ---------------------------------------------------------------------------------------------
# Structured


def span(start, end, label="PER", id_=None):
    return {"id": id_ or f"{start}", "start": start, "end": end, "label": label}


def test_spans_exact_f1_and_consensus_methods():
    control = labels("PER", "ORG")
    spans = ADAPTERS["spans"]
    a = [span(0, 5), span(6, 9, "ORG")]
    b = [span(0, 5)]

    assert spans.similarity(a, b, control) == pytest.approx(2 / 3)
    assert spans.similarity(a, [span(0, 5, "ORG"), span(6, 9, "ORG")], control) == pytest.approx(0.5)
    assert spans.score(b, a, control) == pytest.approx(2 / 3)
    # Boundaries disagree: offsets 0..4 are covered by two of three, offset 5 by one.
    answers = [[span(0, 5)], [span(0, 6)], [span(1, 5)]]
    coverage, _ = spans.consensus(answers, None, control)
    exact, _ = spans.consensus(answers, None, control, method="span_exact")
    assert [(s["start"], s["end"]) for s in coverage] == [(0, 5)]
    assert exact == []
    assert coverage[0]["id"] == "PER:0-5"


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 20), st.integers(1, 6), st.sampled_from("AB")), max_size=4),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(["coverage", "exact"]),
)
def test_weighted_span_consensus_equals_span_consensus_for_equal_weights(raw, mode):
    parsed = [sorted({(s, s + n, lab) for s, n, lab in answer}) for answer in raw]
    weights = np.ones(len(parsed))

    expected = SpansAdapter().consensus_spans(parsed, weights, f"span_{mode}")

    assert sorted(weighted_span_consensus(parsed, weights * 2.5, mode)) == expected


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.integers(0, 30), st.integers(1, 8), st.sampled_from(["PER", "ORG"])), max_size=5),
    st.lists(st.tuples(st.integers(0, 30), st.integers(1, 8), st.sampled_from(["PER", "ORG"])), max_size=5),
)
def test_span_similarity_properties(a, b):
    control = labels("PER", "ORG", allow_overlap=True)
    a = [span(s, s + n, lab, str(i)) for i, (s, n, lab) in enumerate(a)]
    b = [span(s, s + n, lab, str(i)) for i, (s, n, lab) in enumerate(b)]
    spans = ADAPTERS["spans"]

    ab = spans.similarity(a, b, control)
    assert ab == spans.similarity(b, a, control)
    assert 0.0 <= ab <= 1.0
    assert spans.similarity(a, a, control) == 1.0


def test_relations_compare_spans_not_ids():
    control = {"type": "relations", "name": "links", "spans": "ents", **labels("works_for")}
    relations = ADAPTERS["relations"]
    first = {
        "ents": [span(0, 9, "PER", "s1"), span(17, 21, "ORG", "s2")],
        "links": [{"from": "s1", "to": "s2", "label": "works_for"}],
    }
    renamed = {
        "ents": [span(0, 9, "PER", "p"), span(17, 21, "ORG", "q")],
        "links": [{"from": "p", "to": "q", "label": "works_for"}],
    }
    backwards = {"ents": first["ents"], "links": [{"from": "s2", "to": "s1", "label": "works_for"}]}
    a, b, c = (relations.answer_of(r, control) for r in (first, renamed, backwards))

    assert relations.similarity(a, b, control) == 1.0
    assert relations.similarity(a, c, control) == 0.0
    assert relations.consensus([a, b, c], None, control) == (
        [{"from": "PER:0-9", "to": "ORG:17-21", "label": "works_for"}],
        pytest.approx(2 / 3),
    )
    assert relations.similarity(first["links"], first["links"], control) == 1.0  # plain lists: ids as given
    assert (
        relations.parse(
            {"relations": [{"from": "s1", "to": "zz", "label": "works_for"}], "spans": first["ents"]}, control
        )
        == frozenset()
    )


def box(x, y, w, h, label="car"):
    return {"x": x, "y": y, "width": w, "height": h, "label": label}


def test_bbox_f1_at_iou_half_label_aware():
    control = labels("car", "person")
    bbox = ADAPTERS["bbox"]

    assert bbox.similarity([box(0, 0, 10, 10)], [box(0, 0, 10, 5)], control) == 1.0  # IoU 0.5
    assert bbox.similarity([box(0, 0, 10, 10)], [box(0, 0, 10, 4)], control) == 0.0  # IoU 0.4
    assert bbox.similarity([box(0, 0, 10, 10)], [box(0, 0, 10, 10, "person")], control) == 0.0
    assert bbox.similarity(
        [box(0, 0, 10, 10), box(50, 50, 5, 5)], [box(1, 1, 10, 10)], control
    ) == pytest.approx(2 / 3)
    assert bbox.similarity([], None, control) == 1.0


def test_bbox_consensus_is_the_median_of_the_majority_cluster():
    control = labels("car", "person")
    bbox = ADAPTERS["bbox"]
    answers = [[box(10, 10, 100, 50)], [box(12, 10, 100, 54), box(400, 400, 5, 5)], [box(14, 12, 90, 50)]]

    boxes, confidence = bbox.consensus(answers, None, control)

    # Coordinate-wise medians: x1 of 10, 12, 14; y1 of 10, 10, 12; x2 of 110, 112, 104; y2 of 60, 64, 62.
    assert boxes == [{"x": 12, "y": 10, "width": 98, "height": 52, "label": "car"}]
    assert confidence == pytest.approx((1 + 2 / 3 + 1) / 3)


def square(x, y, size, label="road"):
    return {"points": [[x, y], [x + size, y], [x + size, y + size], [x, y + size]], "label": label}


def test_polygon_iou_matching_and_medoid():
    control = labels("road", "sidewalk")
    polygon = ADAPTERS["polygon"]

    assert polygon.similarity([square(0, 0, 10)], [square(0, 0, 10)], control) == 1.0
    assert polygon.similarity([square(0, 0, 10)], [square(5, 0, 10)], control) == 0.0  # IoU 1/3
    assert polygon.similarity([square(0, 0, 10)], [square(2, 0, 10)], control) == 1.0  # IoU 2/3
    answers = [[square(0, 0, 10)], [square(1, 0, 10)], [square(2, 0, 10)]]
    assert polygon.consensus(answers, None, control)[0] == [square(1, 0, 10)]
    assert polygon.consensus(answers, [1, 1, 1], control, method="polygon_medoid")[0] == [square(1, 0, 10)]


def person(*points, label="person"):
    return {"label": label, "points": [{"name": n, "x": x, "y": y, "visibility": v} for n, x, y, v in points]}


def test_keypoints_oks_similarity_and_consensus():
    control = example_control("keypoints")
    kp = ADAPTERS["keypoints"]
    a = [person(("nose", 100, 100, 2), ("left_eye", 110, 90, 2))]
    near = [person(("nose", 101, 100, 2), ("left_eye", 110, 91, 1))]
    far = [person(("nose", 300, 300, 2), ("left_eye", 330, 290, 2))]

    assert kp.similarity(a, a, control) == 1.0
    # One pixel off on the nose (COCO sigma 0.026) and the eye at the 32 x 32 px scale floor.
    assert 0.8 < kp.similarity(a, near, control) < 0.9
    assert kp.similarity(a, far, control) == pytest.approx(0.0, abs=1e-12)
    assert kp.similarity(a, a + far, control) == pytest.approx(2 / 3)
    consensus, _ = kp.consensus([a, near, a], None, control)
    assert consensus == [
        {
            "label": "person",
            "points": [
                {"name": "nose", "x": 100, "y": 100, "visibility": 2},
                {"name": "left_eye", "x": 110, "y": 90, "visibility": 2},
            ],
        }
    ]


def segment(start, end, label="agent"):
    return {"start": start, "end": end, "label": label}


def test_segments_temporal_similarity_f1_score_and_coverage():
    control = labels("agent", "customer")
    seg = ADAPTERS["audio_segments"]

    assert seg.similarity([segment(0, 10)], [segment(5, 10)], control) == pytest.approx(0.5)
    assert seg.similarity([segment(0, 10)], [segment(0, 10, "customer")], control) == 0.0
    assert seg.score([segment(5, 10)], [segment(0, 10)], control) == 1.0  # IoU 0.5 matches
    assert seg.score([segment(6, 10)], [segment(0, 10)], control) == 0.0
    answers = [[segment(0, 4.0)], [segment(0.5, 5.0)], [segment(1.0, 3.0), segment(8, 9, "customer")]]
    assert seg.consensus(answers, None, control)[0] == [segment(0.5, 4.0)]
    assert ADAPTERS["video_segments"].consensus(answers, [0, 0, 1], control)[0] == [
        segment(1.0, 3.0),
        segment(8, 9, "customer"),
    ]


def track(id_, frames, label="car"):
    return {
        "id": id_,
        "label": label,
        "frames": [{"frame": f, "x": x, "y": 10, "width": 50, "height": 30} for f, x in frames],
    }


def test_video_bbox_per_frame_f1_and_linked_tracks():
    control = labels("car", "bike")
    video = ADAPTERS["video_bbox"]
    a = [track("t1", [(0, 10), (1, 14)])]
    b = [track("x", [(0, 11), (1, 15), (2, 19)])]

    assert video.similarity(a, b, control) == pytest.approx(2 / 3)  # frames 0, 1 match; 2 only in b
    assert video.similarity(a, [track("t1", [(0, 10), (1, 14)], "bike")], control) == 0.0
    consensus, _ = video.consensus(
        [a, b, [track("q", [(0, 12), (1, 16)]), track("r", [(0, 500)])]], None, control
    )
    assert consensus == [track("t1", [(0, 11), (1, 15)])]


def test_video_bbox_identity_switch_splits_a_frame_into_two_tracks():
    control = labels("car")
    video = ADAPTERS["video_bbox"]
    # One annotator's single track jumps between two cars that the others track separately.
    two = [track("a", [(0, 10), (1, 10)]), track("b", [(0, 300), (1, 300)])]
    switch = [track("s", [(0, 10), (1, 300)]), track("u", [(0, 300), (1, 10)])]

    consensus, _ = video.consensus([two, copy.deepcopy(two), switch], None, control)

    assert (
        validate_annotation(
            {
                "version": 1,
                "fields": [{"name": "v", "type": "video"}],
                "controls": [{"name": "t", "type": "video_bbox", "field": "v", **control}],
            },
            {"v": "x.mp4"},
            {"t": consensus},
        )
        == []
    )
    assert consensus == [track("t1", [(0, 10), (1, 10)]), track("t2", [(0, 300), (1, 300)])]


def test_video_bbox_tracks_break_where_the_majority_does_not_follow_them():
    control = labels("car")
    video = ADAPTERS["video_bbox"]
    # Everyone sees a car on frames 0 and 1; only one annotator says it is the same car.
    one = [track("a", [(0, 10), (1, 10)])]
    split = [track("b", [(0, 10)]), track("c", [(1, 10)])]

    consensus, _ = video.consensus([one, split, copy.deepcopy(split)], None, control)

    assert consensus == [track("t1", [(0, 10)]), track("t2", [(1, 10)])]


def test_ranking_tau_similarity_and_bradley_terry():
    ranking = ADAPTERS["ranking"]

    assert ranking.similarity(["a", "b", "c"], ["c", "b", "a"], {}) == 0.0
    assert ranking.similarity(["a", "b", "c"], ["b", "a", "c"], {}) == pytest.approx(2 / 3)  # tau 1/3
    assert ranking.similarity([0, 1], ["0", "1"], {}) == 0.0  # ids 0 and "0" differ
    assert ranking.parse(["a", "a"], {}) is None
    answers = [["a", "b", "c"], ["a", "b", "c"], ["c", "b", "a"]]
    assert ranking.consensus(answers, None, {})[0] == ["a", "b", "c"]
    assert ranking.consensus(answers, [1, 1, 5], {})[0] == ["c", "b", "a"]
    assert ranking.consensus(answers, None, {}, method="borda")[0] == ["a", "b", "c"]
    assert ranking.consensus([[2, 0, 1]], None, {})[0] == [2, 0, 1]
    assert ranking.score(["a", "b", "c"], ["a", "b", "c"], {}) == 1.0


def test_text_edit_similarity_medoid_and_wer_score():
    text, transcription = ADAPTERS["text"], ADAPTERS["transcription"]

    assert text.similarity("kitten", "sitting", {}) == pytest.approx(4 / 7)
    assert text.similarity("", None, {}) == 1.0
    assert text.similarity("abc", None, {}) == 0.0
    assert text.consensus(["aaaa", "aaab", "bbbb"], None, {})[0] == "aaab"  # the one in between
    assert transcription.score("a b x d", "a b c d", {}) == pytest.approx(0.75)
    assert transcription.score("a b c d e f g h i", "a", {}) == 0.0  # WER above 1 is clipped
    assert text.score("a b x d", "a b c d", {}) == pytest.approx(1 - 1 / 7)


def test_text_medoid_confidence_is_the_mean_similarity_to_it():
    text = ADAPTERS["text"]
    answers = ["abcd", "abcx", "zzzz"]

    medoid, confidence = text.consensus(answers, None, {})

    assert medoid == "abcd"
    assert confidence == pytest.approx((1 + 0.75 + 0) / 3)


BOXES = st.lists(
    st.builds(
        box,
        st.integers(0, 40),
        st.integers(0, 40),
        st.integers(1, 30),
        st.integers(1, 30),
        st.sampled_from(["car", "person"]),
    ),
    max_size=4,
)
SEGMENTS = st.lists(
    st.builds(
        lambda s, n, lab: segment(s / 4, (s + n) / 4, lab),
        st.integers(0, 40),
        st.integers(1, 20),
        st.sampled_from(["agent", "customer"]),
    ),
    max_size=4,
)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.sampled_from(["bbox", "audio_segments"]), st.data())
def test_box_and_segment_similarity_properties(control_type, data):
    control = labels("car", "person", "agent", "customer", allow_overlap=True)
    adapter = ADAPTERS[control_type]
    strategy = BOXES if control_type == "bbox" else SEGMENTS
    a, b = data.draw(strategy), data.draw(strategy)

    ab = adapter.similarity(a, b, control)
    assert ab == pytest.approx(adapter.similarity(b, a, control))
    assert 0.0 <= ab <= 1.0
    assert adapter.similarity(a, a, control) == 1.0
    consensus, confidence = adapter.consensus([a, b, a], None, control)
    assert adapter.similarity(consensus, a, control) == pytest.approx(1.0)  # a, merged, is the majority
    assert 0.0 <= confidence <= 1.0
