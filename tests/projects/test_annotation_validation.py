"""validate_annotation(): one answer shape per control, show_if and required. Pure, no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projects.schema import Issue, validate_annotation

from .test_label_schema import docs_examples

EXAMPLES = docs_examples()


def check(name, result, *, data=None, media=None):
    example = EXAMPLES[name]
    issues = validate_annotation(
        example["schema"], data or example["data"], result, media=media or example.get("media")
    )
    return [(i.path, i.code) for i in issues]


def test_rejects_non_object_and_unknown_control():
    assert check("single_choice", ["positive"]) == [("", "wrong_type")]
    assert check("single_choice", {"sentiment": "positive", "mood": "x"}) == [("mood", "unknown_control")]


def test_required_control_missing():
    assert validate_annotation(EXAMPLES["single_choice"]["schema"], {}, {"sentiment": None}) == [
        Issue("sentiment", "missing_required", "'sentiment' is required.")
    ]


def test_unknown_label_and_duplicate_choice():
    assert check("single_choice", {"sentiment": "meh"}) == [("sentiment", "unknown_label")]
    assert check("multiple_choice", {"topics": ["price", "price", "size"]}) == [
        ("topics[1]", "duplicate_value"),
        ("topics[2]", "unknown_label"),
    ]


def test_taxonomy_path_must_exist():
    assert check("taxonomy", {"category": [["Electronics", "Kitchen"], ["Home"], ["Home"]]}) == [
        ("category[0]", "unknown_label"),
        ("category[2]", "duplicate_value"),
    ]


def test_spans_offsets_in_code_points_and_text():
    # "Zoë" is 3 code points (4 UTF-8 bytes): offsets 0..9 cover "Zoë Adams".
    assert (
        check("spans", {"entities": [{"id": "a", "start": 0, "end": 9, "label": "PER", "text": "Zoë Adams"}]})
        == []
    )
    result = {
        "entities": [
            {"id": "a", "start": 0, "end": 10, "label": "PER", "text": "Zoë Adams"},
            {"id": "b", "start": 20, "end": 40, "label": "ORG"},
            {"id": "b", "start": 5, "end": 5, "label": "LOC"},
            {"id": "d", "start": -1, "end": 3, "label": "PER"},
            {"start": 1, "end": 2, "label": "PER"},
        ]
    }

    assert check("spans", result) == [
        ("entities[0].text", "text_mismatch"),
        ("entities[1].end", "out_of_bounds"),
        ("entities[2].id", "duplicate_id"),
        ("entities[2].label", "unknown_label"),
        ("entities[2].end", "empty_range"),
        ("entities[3].start", "out_of_bounds"),
        ("entities[4].id", "missing_property"),
    ]


def test_spans_overlap_only_when_allowed():
    result = {
        "entities": [
            {"id": "a", "start": 0, "end": 9, "label": "PER"},
            {"id": "b", "start": 4, "end": 9, "label": "ORG"},
        ]
    }

    assert check("spans", result) == [("entities[1]", "overlap")]
    schema = {**EXAMPLES["spans"]["schema"]}
    schema["controls"] = [{**schema["controls"][0], "allow_overlap": True}]
    assert validate_annotation(schema, EXAMPLES["spans"]["data"], result) == []


def test_spans_need_text_in_the_item():
    assert check("spans", {"entities": []}, data={"other": 1}) == []  # empty answer: nothing to check
    assert check(
        "spans", {"entities": [{"id": "a", "start": 0, "end": 1, "label": "PER"}]}, data={"x": 1}
    ) == [("entities", "invalid_data")]


def test_relations_refer_to_existing_spans():
    result = dict(EXAMPLES["relations"]["result"])
    result["links"] = [
        {"from": "s1", "to": "s9", "label": "works_for"},
        {"from": "s1", "to": "s1", "label": "likes"},
        {"from": "s1", "to": "s2", "label": "works_for"},
        {"from": "s1", "to": "s2", "label": "works_for"},
    ]

    assert check("relations", result) == [
        ("links[0].to", "unknown_span"),
        ("links[1]", "self_relation"),
        ("links[1].label", "unknown_label"),
        ("links[3]", "duplicate_relation"),
    ]


def test_boxes_inside_the_image_in_pixels():
    result = {
        "objects": [
            {"x": 600, "y": 0, "width": 50, "height": 10, "label": "car"},
            {"x": 0, "y": -1, "width": 5, "height": 5, "label": "car"},
            {"x": 0, "y": 0, "width": 0, "height": 5, "label": "bus"},
            {"x": "0", "y": 0, "width": 1, "height": 1, "label": "car"},
        ]
    }

    assert check("bbox", result) == [
        ("objects[0].width", "out_of_bounds"),
        ("objects[1].y", "out_of_bounds"),
        ("objects[2].width", "empty_range"),
        ("objects[2].label", "unknown_label"),
        ("objects[3].x", "wrong_type"),
    ]
    assert check("bbox", {"objects": result["objects"][:1]}, media={"other": 1}) == []  # size unknown


def test_polygon_points_inside_and_not_degenerate():
    result = {
        "regions": [
            {"points": [[0, 0], [10, 10]], "label": "road"},
            {"points": [[0, 0], [10, 10], [20, 20]], "label": "road"},
            {"points": [[0, 0], [700, 0], [0, 10]], "label": "road"},
        ]
    }

    assert check("polygon", result) == [
        ("regions[0].points", "wrong_size"),
        ("regions[1].points", "degenerate_polygon"),
        ("regions[2].points[1]", "out_of_bounds"),
    ]


def test_keypoints_named_once_with_valid_visibility():
    points = [
        {"name": "nose", "x": 1, "y": 1, "visibility": 2},
        {"name": "nose", "x": 1, "y": 1, "visibility": 2},
        {"name": "ear", "x": 999, "y": 1, "visibility": 3},
    ]

    assert check("keypoints", {"pose": [{"label": "person", "points": points}]}) == [
        ("pose[0].points[1].name", "duplicate_keypoint"),
        ("pose[0].points[2].name", "unknown_keypoint"),
        ("pose[0].points[2].visibility", "invalid_visibility"),
        ("pose[0].points[2]", "out_of_bounds"),
    ]


def test_segments_within_duration_and_overlap():
    result = {
        "actions": [
            {"start": 0, "end": 5, "label": "walking"},
            {"start": 4, "end": 6, "label": "running"},
            {"start": 3, "end": 3, "label": "running"},
            {"start": 8, "end": 11, "label": "running"},
            {"start": 1, "end": 2, "label": "flying"},
        ]
    }

    assert check("video_segments", result) == [
        ("actions[2].end", "empty_range"),
        ("actions[3].end", "out_of_bounds"),
        ("actions[4].label", "unknown_label"),
        ("actions[1]", "overlap"),
        ("actions[4]", "overlap"),
    ]
    assert check("audio_segments", {"speakers": [{"start": -1, "end": 2, "label": "agent"}]}) == [
        ("speakers[0].start", "out_of_bounds")
    ]


def test_transcription_and_text_lengths():
    assert check("transcription", {"transcript": "x" * 5001}) == [("transcript", "too_long")]
    assert check("transcription", {"transcript": 5}) == [("transcript", "wrong_type")]
    assert check("text", {"demonstration": "short"}) == [("demonstration", "too_short")]


def test_video_boxes_per_frame():
    frames = [
        {"frame": 300, "x": 0, "y": 0, "width": 1, "height": 1},
        {"frame": 1, "x": 0, "y": 0, "width": 1, "height": 1},
        {"frame": 1, "x": 0, "y": 0, "width": 2000, "height": 1},
        {"frame": -1, "x": 0, "y": 0, "width": 1, "height": 1},
    ]

    assert check("video_bbox", {"tracks": [{"id": "t1", "label": "car", "frames": frames}]}) == [
        ("tracks[0].frames[0].frame", "out_of_bounds"),
        ("tracks[0].frames[2].frame", "duplicate_frame"),
        ("tracks[0].frames[2].width", "out_of_bounds"),
        ("tracks[0].frames[3].frame", "out_of_bounds"),
    ]


@pytest.mark.parametrize(
    ("value", "code"), [(0, "out_of_bounds"), (6, "out_of_bounds"), (2.5, "off_grid"), (True, "wrong_type")]
)
def test_rating_range_and_grid(value, code):
    assert check("rating", {"fluency": value}) == [("fluency", code)]


def test_rating_on_fractional_grid():
    assert check("use_case_chat", {"overall": 0.75}) == []
    assert check("use_case_chat", {"overall": 0.7}) == [("overall", "off_grid")]


@pytest.mark.parametrize(
    "order", [["r1", "r2"], ["r1", "r2", "r2"], ["r1", "r2", "r4"], ["r1", "r2", "r3", "r3"]]
)
def test_ranking_must_be_a_permutation(order):
    assert check("ranking", {"order": order}) == [("order", "not_a_permutation")]


@given(st.permutations(["r1", "r2", "r3"]))
def test_any_permutation_is_a_valid_ranking(order):
    assert check("ranking", {"order": list(order)}) == []


@given(st.permutations(range(8)))
def test_positions_are_ids_for_plain_candidates(order):
    schema = EXAMPLES["ranking"]["schema"]

    assert (
        validate_annotation(schema, {"responses": [f"c{i}" for i in range(8)]}, {"order": list(order)}) == []
    )


@pytest.mark.parametrize(
    ("answer", "issue"),
    [
        ({"choice": "C"}, ("preference.choice", "invalid_choice")),
        ({"choice": "A"}, ("preference.strength", "missing_property")),
        ({"choice": "A", "strength": 4}, ("preference.strength", "out_of_bounds")),
        ({"choice": "tie", "strength": 1}, ("preference.strength", "unexpected_strength")),
        ({"choice": "A", "strength": 1, "why": "x"}, ("preference.why", "unknown_property")),
        ("A", ("preference", "wrong_type")),
    ],
)
def test_pairwise_answers(answer, issue):
    assert check("pairwise", {"preference": answer}) == [issue]


def test_pairwise_needs_two_candidates():
    data = {"responses": ["only one"]}

    assert check("pairwise", {"preference": {"choice": "tie"}}, data=data) == [("preference", "invalid_data")]


def test_chat_turns_exist_and_role_is_allowed():
    result = {"turn_quality": {"0": "helpful", "7": "helpful", "01": "helpful", "1": "great"}}

    assert check("chat_turn_labels", result) == [
        ("turn_quality.0", "role_not_labelled"),
        ("turn_quality.7", "unknown_turn"),
        ("turn_quality.01", "unknown_turn"),
        ("turn_quality.1", "unknown_label"),
    ]
    assert check("use_case_chat", {"turn_labels": {"2": "helpful"}, "overall": 1}) == [
        ("turn_labels.2", "wrong_type")
    ]


def test_show_if_hides_and_requires():
    example = EXAMPLES["use_case_ner"]
    schema, data = example["schema"], example["data"]

    assert validate_annotation(schema, data, {"entities": [], "has_errors": "yes"}) == [
        Issue("entities", "missing_required", "'entities' is required."),
        Issue("error_note", "missing_required", "'error_note' is required."),
    ]
    assert [
        (i.path, i.code)
        for i in validate_annotation(
            schema,
            data,
            {"entities": example["result"]["entities"], "has_errors": "no", "error_note": "typo"},
        )
    ] == [("error_note", "hidden_answered")]


def test_show_if_chain_hides_dependants_of_hidden_controls():
    schema = {
        "version": 1,
        "fields": [{"name": "t", "type": "text"}],
        "controls": [
            {"name": "a", "type": "single_choice", "field": "t", "labels": [{"value": "x"}, {"value": "y"}]},
            {
                "name": "b",
                "type": "single_choice",
                "field": "t",
                "labels": [{"value": "x"}],
                "show_if": {"control": "a", "equals": "x"},
            },
            {
                "name": "c",
                "type": "text",
                "field": "t",
                "required": True,
                "show_if": {"control": "b", "equals": "x"},
            },
        ],
    }

    assert validate_annotation(schema, {"t": "hi"}, {"a": "y"}) == []
    assert [(i.path, i.code) for i in validate_annotation(schema, {"t": "hi"}, {"a": "y", "b": "x"})] == [
        ("b", "hidden_answered")
    ]


def test_pairwise_show_if_uses_choice():
    example = EXAMPLES["use_case_rlhf"]
    result = {**example["result"], "preference": {"choice": "tie"}}

    assert [(i.path, i.code) for i in validate_annotation(example["schema"], example["data"], result)] == [
        ("rationale", "hidden_answered")
    ]


TEXT = "abcdefghijklmnopqrstuvwxyz" * 4


@st.composite
def span_sets(draw):
    count = draw(st.integers(0, 12))
    spans = []
    for i in range(count):
        start = draw(st.integers(0, len(TEXT) - 1))
        end = draw(st.integers(start + 1, len(TEXT)))
        spans.append(
            {"id": f"s{i}", "start": start, "end": end, "label": draw(st.sampled_from(["PER", "ORG"]))}
        )
    return spans


def _overlapping(spans):
    return any(
        a["start"] < b["end"] and b["start"] < a["end"] for i, a in enumerate(spans) for b in spans[i + 1 :]
    )


@given(span_sets())
def test_random_spans_overlap_rule(spans):
    schema = EXAMPLES["spans"]["schema"]
    overlapping_schema = {**schema, "controls": [{**schema["controls"][0], "allow_overlap": True}]}
    distinct = len({(s["start"], s["end"], s["label"]) for s in spans}) == len(spans)

    codes = {i.code for i in validate_annotation(schema, {"text": TEXT}, {"entities": spans})}
    allowed = validate_annotation(overlapping_schema, {"text": TEXT}, {"entities": spans})

    assert ("overlap" in codes) == _overlapping(spans)
    assert codes <= {"overlap", "duplicate_span"}
    assert (allowed == []) == distinct
