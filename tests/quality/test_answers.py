"""quality.answers: one adapter per label-schema control type. Pure: no database."""

import copy
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projects.schema import validate_annotation
from projects.schema.controls import CONTROLS
from quality.answers import ABSENT, ADAPTERS, PRESENT, adapter_for, consensus_result
from quality.answers.base import coverage_runs, weighted_median

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = re.compile(r"<!-- example: (\w+) -->\n```json\n(.*?)\n```", re.DOTALL)


def docs_examples() -> dict[str, dict]:
    text = (ROOT / "docs" / "SCHEMA.md").read_text(encoding="utf-8")
    return {name: json.loads(body) for name, body in EXAMPLE.findall(text)}


EXAMPLES = docs_examples()
CONTROL_EXAMPLES = sorted(name for name in EXAMPLES if name in CONTROLS)


def example_control(name: str, control_type: str | None = None) -> dict:
    """The (last) control of the given type in the docs example `name`."""
    control_type = control_type or name
    return [c for c in EXAMPLES[name]["schema"]["controls"] if c["type"] == control_type][-1]


def labels(*values, **extra):
    return {"labels": [{"value": v} for v in values], **extra}


# A valid answer different from the docs example's, per control example: the odd one out.
OTHER = {
    "single_choice": {"sentiment": "negative"},
    "multiple_choice": {"topics": ["price"]},
    "taxonomy": {"category": [["Home", "Kitchen"]]},
    "spans": {"entities": [{"id": "x", "start": 10, "end": 16, "label": "ORG"}]},
    "relations": {
        "entities": [
            {"id": "a", "start": 17, "end": 21, "label": "ORG"},
            {"id": "b", "start": 0, "end": 3, "label": "PER"},
        ],
        "links": [{"from": "a", "to": "b", "label": "works_for"}],
    },
    "image_class": {"scene": "indoor"},
    "bbox": {"objects": [{"x": 300, "y": 300, "width": 50, "height": 50, "label": "person"}]},
    "polygon": {"regions": [{"points": [[0, 0], [100, 0], [100, 100]], "label": "sidewalk"}]},
    "keypoints": {
        "pose": [{"label": "person", "points": [{"name": "nose", "x": 9, "y": 9, "visibility": 2}]}]
    },
    "audio_segments": {"speakers": [{"start": 5, "end": 6, "label": "agent"}]},
    "transcription": {"transcript": "Something else entirely."},
    "video_segments": {"actions": [{"start": 8, "end": 10, "label": "walking"}]},
    "video_bbox": {
        "tracks": [
            {
                "id": "z",
                "label": "car",
                "frames": [{"frame": 5, "x": 500, "y": 500, "width": 20, "height": 20}],
            }
        ]
    },
    "rating": {"fluency": 1},
    "ranking": {"order": ["r3", "r1", "r2"]},
    "pairwise": {"preference": {"choice": "A", "strength": 1}},
    "text": {"demonstration": "Something else, written at length."},
    "chat_turn_labels": {"turn_quality": {"1": "unsafe"}},
}


# ---------------------------------------------------------------------------------------------
# Registry


def test_every_control_type_has_an_adapter():
    assert set(ADAPTERS) == set(CONTROLS)
    for control_type, adapter in ADAPTERS.items():
        assert adapter.type == control_type
        assert adapter.kind in ("categorical", "units", "structured")
        assert adapter.level in ("nominal", "ordinal", "interval", "ratio")
        assert adapter.methods and len(set(adapter.methods)) == len(adapter.methods)


def test_kinds_levels_and_default_methods():
    kinds = {t: a.kind for t, a in ADAPTERS.items()}

    assert {t for t, k in kinds.items() if k == "categorical"} == {
        "single_choice",
        "taxonomy",
        "image_class",
        "rating",
        "pairwise",
    }
    assert {t for t, k in kinds.items() if k == "units"} == {"multiple_choice", "chat_turn_labels"}
    # Ratings are ordinal unless the schema declares equal steps; single choices nominal unless ordered.
    rating = {"type": "rating", "name": "r", "min": 1, "max": 5}
    assert ADAPTERS["rating"].level_of(rating) == "ordinal"
    assert ADAPTERS["rating"].level_of({**rating, "level": "interval"}) == "interval"
    assert ADAPTERS["single_choice"].level_of({"type": "single_choice", "ordered": True}) == "ordinal"
    assert {a.level for t, a in ADAPTERS.items() if t != "rating"} == {"nominal"}
    assert {t for t, a in ADAPTERS.items() if a.free_text} == {"text"}
    assert ADAPTERS["single_choice"].methods == ("dawid_skene", "majority", "mace")
    assert ADAPTERS["ranking"].methods[0] == "bradley_terry"
    assert ADAPTERS["spans"].methods == ("span_coverage", "span_exact")
    assert ADAPTERS["bbox"].methods[0] == "box_cluster"
    assert ADAPTERS["text"].methods == ("medoid",)


def test_adapter_for_picks_the_multiple_variants():
    assert adapter_for({"type": "image_class", "multiple": True}).kind == "units"
    assert adapter_for({"type": "image_class"}).kind == "categorical"
    assert adapter_for({"type": "taxonomy", "multiple": True}).kind == "structured"
    assert adapter_for({"type": "chat_turn_labels", "multiple": True}).labels({}) == [ABSENT, PRESENT]
    assert adapter_for({"type": "single_choice", "multiple": True}) is ADAPTERS["single_choice"]


@pytest.mark.parametrize("control", [{"type": "nope"}, {}, {"type": 3}, "single_choice", None])
def test_adapter_for_refuses_unknown_types(control):
    with pytest.raises(ValueError, match="No answer adapter"):
        adapter_for(control)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="span_coverage"):
        ADAPTERS["spans"].consensus([[]], None, labels("PER"), method="majority")


def test_weights_must_match_answers():
    with pytest.raises(ValueError, match="2 weights for 3 answers"):
        ADAPTERS["single_choice"].consensus(["a", "a", "b"], [1, 1], labels("a", "b"))


# ---------------------------------------------------------------------------------------------
# Every docs example: identity, symmetry, range, and consensus answers that validate


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_answers_are_identical_to_themselves(name):
    example = EXAMPLES[name]
    media = example.get("media")

    for control in example["schema"]["controls"]:
        adapter = adapter_for(control)
        answer = adapter.answer_of(example["result"], control)

        assert adapter.similarity(answer, copy.deepcopy(answer), control, media) == 1.0
        assert adapter.score(answer, copy.deepcopy(answer), control, media) == 1.0
        # An unanswered control (the hidden error_note) is missing data, not an agreeing answer.
        expected = None if adapter.parse(answer, control) is None else 1.0
        assert adapter.item_agreement([answer, answer, answer], control, media) == expected


@pytest.mark.parametrize("name", CONTROL_EXAMPLES)
def test_two_agreeing_answers_win_and_the_consensus_validates(name):
    example = EXAMPLES[name]
    result, other = example["result"], OTHER[name]
    schema, media = example["schema"], example.get("media")

    consensus, confidence = consensus_result(schema, [result, other, copy.deepcopy(result)])

    assert validate_annotation(schema, example["data"], consensus, media=media) == []
    for control in schema["controls"]:
        adapter = adapter_for(control)
        agreed = adapter.answer_of(consensus, control)
        assert adapter.similarity(agreed, adapter.answer_of(result, control), control, media) == 1.0
        assert adapter.similarity(agreed, adapter.answer_of(other, control), control, media) < 1.0
        assert 0.5 <= confidence[control["name"]] < 1.0 or adapter.kind == "categorical"


@pytest.mark.parametrize("name", CONTROL_EXAMPLES)
def test_similarity_is_symmetric_and_in_range(name):
    example = EXAMPLES[name]
    media = example.get("media")

    for control in example["schema"]["controls"]:
        adapter = adapter_for(control)
        a, b = adapter.answer_of(example["result"], control), adapter.answer_of(OTHER[name], control)

        ab, ba = adapter.similarity(a, b, control, media), adapter.similarity(b, a, control, media)
        assert ab == pytest.approx(ba)
        assert 0.0 <= ab < 1.0
        assert 0.0 <= adapter.score(b, a, control, media) < 1.0


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_weighted_consensus_follows_the_heavy_annotator_and_validates(name):
    example = EXAMPLES[name]
    schema = example["schema"]

    consensus, _ = consensus_result(schema, [{}, example["result"], {}], [1, 5, 1])

    assert validate_annotation(schema, example["data"], consensus, media=example.get("media")) == []
    for control in schema["controls"]:
        adapter = adapter_for(control)
        expected = adapter.answer_of(example["result"], control)
        assert adapter.similarity(adapter.answer_of(consensus, control), expected, control) == 1.0


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_nobody_answering_gives_an_empty_consensus(name):
    consensus, confidence = consensus_result(EXAMPLES[name]["schema"], [{}, {}])

    assert consensus == {}
    assert all(0.0 <= c <= 1.0 for c in confidence.values())


def test_show_if_hides_controls_the_consensus_hides():
    example = EXAMPLES["use_case_ner"]
    yes = {**example["result"], "has_errors": "yes", "error_note": "Berlin is wrong."}
    no = example["result"]

    consensus, _ = consensus_result(example["schema"], [yes, no, no])

    assert consensus["has_errors"] == "no"
    assert "error_note" not in consensus
    assert validate_annotation(example["schema"], example["data"], consensus) == []


def test_relations_whose_spans_lose_are_dropped():
    example = EXAMPLES["relations"]
    schema = example["schema"]
    spans_only = {"entities": example["result"]["entities"][:1]}  # s2 missing: no relation possible
    # Two annotators keep only s1 for the spans, but all three link s1 -> s2 (by their own ids).
    results = [example["result"], spans_only | {"links": []}, spans_only | {"links": []}]

    consensus, _ = consensus_result(schema, results)

    assert [s["start"] for s in consensus["entities"]] == [0]
    assert "links" not in consensus
    assert validate_annotation(schema, example["data"], consensus) == []


# ---------------------------------------------------------------------------------------------
# Garbage in: never raises, None/0 out

GARBAGE = [
    {"x": 1},
    "not a list",
    42,
    -1.5,
    True,
    [1, 2, 3],
    [{"x": 1}],
    [None],
    [[]],
    {"choice": 7},
    {"1": {"x": 1}},
    [{"start": "0", "end": 5, "label": "PER"}],
    [{"start": 5, "end": 1, "label": "PER"}],
    [{"x": 0, "y": 0, "width": -1, "height": 2, "label": "car"}],
    [{"points": [[0, 0], [1, 1], [2, 2]], "label": "road"}],
    [{"points": "abc", "label": "person"}],
    [{"id": "t", "label": "car", "frames": [{"frame": True, "x": 0, "y": 0, "width": 1, "height": 1}]}],
    ["r1", "r1", "r2"],
    float("nan"),
    float("inf"),
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


def every_control():
    seen = {}
    for name in sorted(EXAMPLES):
        for control in EXAMPLES[name]["schema"]["controls"]:
            key = (control["type"], bool(control.get("multiple")))
            seen.setdefault(key, (name, control))
    return list(seen.values())


CONTROLS_SEEN = every_control()


def check_robust(adapter, control, garbage, valid):
    for a, b in ((garbage, valid), (valid, garbage), (garbage, garbage)):
        assert 0.0 <= adapter.similarity(a, b, control) <= 1.0
        assert 0.0 <= adapter.score(a, b, control) <= 1.0
    assert adapter.score(garbage, valid, control) == 0.0 or adapter.kind == "structured"
    assert adapter.item_agreement([garbage], control) is None
    agreement = adapter.item_agreement([garbage, valid, garbage], control)
    assert agreement is None or 0.0 <= agreement <= 1.0
    _, confidence = adapter.consensus([garbage, garbage, valid], None, control)
    assert 0.0 <= confidence <= 1.0
    label = adapter.to_label(garbage, control)
    assert label is None or label in (adapter.labels(control) or ())
    units = adapter.to_units(garbage, control)
    assert isinstance(units, dict)
    assert set(units.values()) <= set(adapter.labels(control) or ())


@pytest.mark.parametrize(("name", "control"), CONTROLS_SEEN, ids=[c["name"] for _, c in CONTROLS_SEEN])
def test_garbage_answers_never_raise(name, control):
    adapter = adapter_for(control)
    valid = adapter.answer_of(EXAMPLES[name]["result"], control)

    for garbage in GARBAGE:
        check_robust(adapter, control, garbage, valid)
    assert adapter.similarity({"x": 1}, {"x": 1}, control) in (0.0, 1.0)
    assert adapter.item_agreement([], control) is None
    assert adapter.item_agreement("nonsense", control) is None


@settings(max_examples=60, deadline=None, derandomize=True)
@given(garbage=JSON)
def test_random_json_never_raises(garbage):
    for name, control in CONTROLS_SEEN:
        adapter = adapter_for(control)
        check_robust(adapter, control, garbage, adapter.answer_of(EXAMPLES[name]["result"], control))


def test_missing_and_invalid_answers():
    choice = labels("a", "b")
    single = ADAPTERS["single_choice"]

    assert single.to_label("c", choice) is None
    assert single.to_label(None, choice) is None
    assert single.similarity(None, None, choice) == 1.0  # both empty
    assert single.similarity(None, "a", choice) == 0.0
    assert single.similarity({"x": 1}, {"x": 1}, choice) == 0.0  # garbage is not "empty"
    assert single.score("a", None, choice) == 0.0
    assert single.item_agreement(["a", None, "zzz"], choice) is None  # one real answer
    assert single.consensus([None, "zzz"], None, choice) == (None, 0.0)
    assert ADAPTERS["spans"].consensus([{"x": 1}], None, labels("PER")) == ([], 0.0)


# ---------------------------------------------------------------------------------------------
# Categorical


def test_single_choice_vote_weights_and_ties():
    single, control = ADAPTERS["single_choice"], labels("pos", "neg", "neutral")

    assert single.consensus(["neg", "pos", "neg"], None, control) == ("neg", pytest.approx(2 / 3))
    assert single.consensus(["neg", "neg", "pos"], [1, 1, 3], control) == ("pos", pytest.approx(0.6))
    assert single.consensus(["neg", "pos"], None, control)[0] == "pos"  # tie: schema order
    assert single.consensus(["neg", "pos"], [0, 0], control)[0] == "pos"  # all-zero weights: equal
    assert single.consensus(["neg", "pos"], [-1, float("nan")], control)[0] == "pos"
    assert single.item_agreement(["pos", "pos", "neg"], control) == pytest.approx(1 / 3)
    assert single.labels(control) == ["pos", "neg", "neutral"]


def test_taxonomy_codes_full_paths_in_schema_order():
    control = example_control("taxonomy") | {"multiple": False}
    taxonomy = adapter_for(control)

    assert taxonomy.labels(control) == [
        "Electronics",
        "Electronics > Phones",
        "Electronics > Phones > Batteries",
        "Electronics > Laptops",
        "Home",
        "Home > Kitchen",
    ]
    assert taxonomy.to_label(["Electronics", "Phones"], control) == "Electronics > Phones"
    assert taxonomy.to_label(["Phones"], control) is None
    assert taxonomy.to_label("Electronics", control) is None
    paths = [["Home"], ["Electronics", "Laptops"], ["Home"]]
    assert taxonomy.consensus(paths, None, control) == (["Home"], pytest.approx(2 / 3))


def test_taxonomy_multiple_is_a_set_of_paths():
    control = example_control("taxonomy")
    taxonomy = adapter_for(control)
    a = [["Electronics"], ["Home", "Kitchen"]]
    b = [["Home", "Kitchen"]]

    # MASI: Jaccard 1/2, b inside a: 2/3.
    assert taxonomy.similarity(a, b, control) == pytest.approx(1 - (1 - 0.5 * 2 / 3))
    assert taxonomy.similarity(a, list(reversed(a)), control) == 1.0
    assert taxonomy.consensus([a, b, [["Electronics"]]], None, control)[0] == [
        ["Electronics"],
        ["Home", "Kitchen"],
    ]
    assert taxonomy.parse([["Nowhere"], "x", ["Home"]], control) == frozenset({"Home"})


def test_rating_labels_similarity_and_weighted_median():
    control = {"type": "rating", "min": 0, "max": 1, "step": 0.25}
    rating = ADAPTERS["rating"]

    assert rating.labels(control) == ["0", "0.25", "0.5", "0.75", "1"]
    assert rating.to_label(0.75, control) == "0.75"
    assert rating.to_label(0.3, control) is None  # off the grid
    assert rating.to_label(2, control) is None
    assert rating.to_label(True, control) is None
    assert rating.similarity(0.25, 0.75, control) == pytest.approx(0.5)
    assert rating.consensus([0, 0.75, 1], None, control)[0] == 0.75
    assert rating.consensus([0, 0.75, 1], [5, 1, 1], control)[0] == 0
    assert rating.consensus([0, 1, 1, 0.25], None, control, method="majority")[0] == 1
    assert rating.score(0.5, 1, control) == pytest.approx(0.5)


def test_rating_labels_code_to_values_for_interval_alpha():
    from quality.metrics.agreement import krippendorff_alpha
    from quality.metrics.coding import encode

    control = {"type": "rating", "min": 1, "max": 7, "step": 2}  # values 1, 3, 5, 7
    answers = [(0, "a", 1), (0, "b", 3), (1, "a", 7), (1, "b", 7), (2, "a", 3), (2, "b", 5)]
    rating = ADAPTERS["rating"]

    by_label = encode(
        [i for i, _, _ in answers],
        [a for _, a, _ in answers],
        [rating.to_label(v, control) for *_, v in answers],
        label_order=rating.labels(control),
    )
    by_value = encode([i for i, _, _ in answers], [a for _, a, _ in answers], [v for *_, v in answers])

    assert krippendorff_alpha(by_label, level="interval") == pytest.approx(
        krippendorff_alpha(by_value, level="interval")
    )


def test_pairwise_strength_is_averaged_over_the_winners():
    control = {"type": "pairwise", "strength": True}
    pairwise = ADAPTERS["pairwise"]
    answers = [{"choice": "B", "strength": 2}, {"choice": "A", "strength": 1}, {"choice": "B", "strength": 3}]

    assert pairwise.consensus(answers, None, control) == (
        {"choice": "B", "strength": 3},
        pytest.approx(2 / 3),
    )
    assert pairwise.to_label({"choice": "tie"}, control) == "tie"
    assert pairwise.to_label({"choice": "tie"}, control | {"allow_tie": False}) is None
    assert pairwise.consensus([{"choice": "tie"}] * 2, None, control)[0] == {"choice": "tie"}
    assert pairwise.consensus(answers, None, {"type": "pairwise"})[0] == {"choice": "B"}
    assert pairwise.similarity({"choice": "A", "strength": 1}, {"choice": "A", "strength": 3}, control) == 1.0


# ---------------------------------------------------------------------------------------------
# Units


def test_multiple_choice_units_masi_and_per_label_majority():
    control = labels("battery", "screen", "price")
    multi = ADAPTERS["multiple_choice"]

    assert multi.labels(control) == [ABSENT, PRESENT]
    assert multi.to_units(["screen"], control) == {"battery": ABSENT, "screen": PRESENT, "price": ABSENT}
    assert multi.to_units(None, control) == {"battery": ABSENT, "screen": ABSENT, "price": ABSENT}
    assert multi.to_units("screen", control) == {}
    # {battery, screen} vs {battery}: Jaccard 1/2, subset 2/3 -> MASI distance 2/3.
    assert multi.similarity(["battery", "screen"], ["battery"], control) == pytest.approx(1 / 3)
    assert multi.similarity(["battery", "screen"], ["price"], control) == 0.0
    assert multi.similarity([], None, control) == 1.0
    answers = [["battery", "screen"], ["battery"], ["screen", "price"]]
    assert multi.consensus(answers, None, control)[0] == ["battery", "screen"]
    assert multi.consensus(answers, [1, 0, 3], control)[0] == ["screen", "price"]


def test_chat_turn_labels_units_and_turn_majority():
    control = labels("helpful", "unsafe")
    chat = ADAPTERS["chat_turn_labels"]
    a, b, c = {"1": "helpful", "3": "unsafe"}, {"1": "helpful"}, {"1": "unsafe", "3": "unsafe"}

    assert chat.to_units(a, control) == {"1": "helpful", "3": "unsafe"}
    assert chat.to_units({"01": "helpful", "x": "helpful", "2": "nope"}, control) == {}
    assert chat.similarity(a, b, control) == 0.5  # turn 1 agrees, turn 3 only in a
    assert chat.consensus([a, b, c], None, control)[0] == {"1": "helpful", "3": "unsafe"}
    assert chat.consensus([a, b, b], None, control)[0] == {"1": "helpful"}


def test_chat_turn_labels_multiple_units_are_turn_and_label():
    control = labels("helpful", "unsafe", multiple=True)
    chat = adapter_for({"type": "chat_turn_labels", "multiple": True})

    assert chat.to_units({"2": ["unsafe"]}, control) == {"2:helpful": ABSENT, "2:unsafe": PRESENT}
    assert chat.similarity({"2": ["unsafe"]}, {"2": ["unsafe"], "4": []}, control) == 1.0
    answers = [{"2": ["unsafe", "helpful"]}, {"2": ["unsafe"]}, {"4": ["helpful"]}]
    assert chat.consensus(answers, None, control)[0] == {"2": ["unsafe"]}


# ---------------------------------------------------------------------------------------------
# Helpers


def test_coverage_runs_by_hand():
    intervals = [(0, 4, 0), (2, 6, 1), (3, 8, 2), (7, 9, 2)]

    # Owner 2's [3, 8) and [7, 9) merge first, so 7..8 is covered once, not twice.
    assert coverage_runs(intervals, np.ones(3), 1.5) == [(2, 6)]
    assert coverage_runs(intervals, np.array([1, 1, 5]), 3.5) == [(3, 9)]


def test_weighted_median_by_hand():
    assert weighted_median([1, 2, 3], [1, 1, 1]) == 2
    assert weighted_median([1, 2, 3], [5, 1, 1]) == 1
    assert weighted_median([1, 2], [1, 1]) == 1  # lower median
    assert math.isclose(weighted_median([0.5], [2]), 0.5)
