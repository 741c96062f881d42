"""Label schema definitions: the published JSON Schema, the docs examples and every schema rule. Pure."""

import copy
import json
import re
from pathlib import Path

import pytest

from projects.schema import LABEL_SCHEMA_JSON_SCHEMA, Issue, validate_annotation, validate_schema
from projects.schema.controls import CONTROLS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = re.compile(r"<!-- example: (\w+) -->\n```json\n(.*?)\n```", re.DOTALL)


def docs_examples() -> dict[str, dict]:
    text = (ROOT / "docs" / "SCHEMA.md").read_text(encoding="utf-8")
    return {name: json.loads(body) for name, body in EXAMPLE.findall(text)}


def schema(*controls, fields=None):
    return {"version": 1, "fields": fields or [{"name": "text", "type": "text"}], "controls": list(controls)}


def spans_control(**extra):
    return {
        "name": "ner",
        "type": "spans",
        "field": "text",
        "labels": [{"value": "PER"}, {"value": "ORG"}],
        **extra,
    }


def test_published_file_equals_spec():
    published = json.loads((ROOT / "docs" / "label-schema.schema.json").read_text(encoding="utf-8"))

    assert published == LABEL_SCHEMA_JSON_SCHEMA


def test_docs_have_an_example_for_every_control_and_use_case():
    names = set(docs_examples())

    assert set(CONTROLS) <= names
    assert {
        "use_case_ner",
        "use_case_image_detection",
        "use_case_rlhf",
        "use_case_chat",
        "use_case_asr",
    } <= names


@pytest.mark.parametrize("name", sorted(docs_examples()))
def test_docs_example_is_valid(name):
    example = docs_examples()[name]

    assert validate_schema(example["schema"]) == []
    assert (
        validate_annotation(example["schema"], example["data"], example["result"], media=example.get("media"))
        == []
    )


def test_rejects_non_object():
    assert validate_schema([]) == [Issue("", "wrong_type", "A label schema is a JSON object.")]


def test_rejects_deep_nesting_before_json_schema():
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]

    assert [i.code for i in validate_schema({"version": 1, "fields": [], "controls": [], "junk": deep})] == [
        "too_deep"
    ]


def test_structural_issues_carry_paths():
    definition = schema(
        {"name": "ner", "type": "spans", "field": "text", "labels": [{"value": "PER"}], "colour": 1}
    )
    definition["controls"].append({"name": "x", "type": "nope", "field": "text"})
    definition["controls"].append({"name": "y", "type": "rating", "field": "text", "min": 1})

    issues = validate_schema(definition)

    assert [(i.path, i.code) for i in issues] == [
        ("controls[0].colour", "unknown_property"),
        ("controls[1].type", "invalid_value"),
        ("controls[2].max", "missing_property"),
    ]


def test_rejects_bad_names_and_empty_label():
    definition = schema(spans_control(name="bad name", labels=[{"value": ""}]))

    assert [(i.path, i.code) for i in validate_schema(definition)] == [
        ("controls[0].labels[0].value", "too_short"),
        ("controls[0].name", "invalid_name"),
    ]


def test_rejects_long_label():
    definition = schema(spans_control(labels=[{"value": "x" * 101}]))

    assert [(i.path, i.code) for i in validate_schema(definition)] == [
        ("controls[0].labels[0].value", "too_long")
    ]


def test_rejects_too_many_controls():
    definition = schema(*[spans_control(name=f"c{i}") for i in range(201)])

    assert [(i.path, i.code) for i in validate_schema(definition)] == [("controls", "too_many")]


def test_rejects_duplicate_field_and_control_names():
    definition = schema(spans_control(), spans_control(), fields=[{"name": "text", "type": "text"}] * 2)

    assert [(i.path, i.code) for i in validate_schema(definition)] == [
        ("fields[1].name", "duplicate_name"),
        ("controls[1].name", "duplicate_name"),
    ]


def test_rejects_unknown_and_incompatible_fields():
    definition = schema(
        spans_control(field="missing"),
        {"name": "boxes", "type": "bbox", "field": "text", "labels": [{"value": "car"}]},
    )

    assert validate_schema(definition) == [
        Issue("controls[0].field", "unknown_field", "There is no field 'missing'."),
        Issue(
            "controls[1].field", "incompatible_field", "A bbox control answers a image field; 'text' is text."
        ),
    ]


@pytest.mark.parametrize(
    ("control", "field_type"),
    [
        ("spans", "image"),
        ("polygon", "text"),
        ("transcription", "video"),
        ("video_segments", "audio"),
        ("ranking", "text"),
        ("pairwise", "conversation"),
        ("chat_turn_labels", "candidates"),
    ],
)
def test_field_type_compatibility(control, field_type):
    options = {
        "spans": {"labels": [{"value": "a"}]},
        "polygon": {"labels": [{"value": "a"}]},
        "video_segments": {"labels": [{"value": "a"}]},
        "chat_turn_labels": {"labels": [{"value": "a"}]},
    }.get(control, {})
    definition = schema(
        {"name": "c", "type": control, "field": "f", **options}, fields=[{"name": "f", "type": field_type}]
    )

    assert [(i.path, i.code) for i in validate_schema(definition)] == [
        ("controls[0].field", "incompatible_field")
    ]


def test_rejects_duplicate_label():
    definition = schema(spans_control(labels=[{"value": "PER"}, {"value": "ORG"}, {"value": "PER"}]))

    assert validate_schema(definition) == [
        Issue("controls[0].labels[2].value", "duplicate_label", "The label 'PER' is listed twice.")
    ]


def test_rejects_markup_in_label_and_changes_nothing():
    definition = schema(spans_control(labels=[{"value": "<script>alert(1)</script>"}]))
    before = copy.deepcopy(definition)

    issues = validate_schema(definition)

    assert issues == [
        Issue(
            "controls[0].labels[0].value",
            "markup_in_label",
            "The label '<script>alert(1)</script>' contains '<' or '>'; markup is not allowed.",
        )
    ]
    assert definition == before


def test_rejects_control_character_and_blank_label():
    definition = schema(spans_control(labels=[{"value": "a\u0007b"}, {"value": "  "}]))

    assert [(i.path, i.code) for i in validate_schema(definition)] == [
        ("controls[0].labels[0].value", "control_character"),
        ("controls[0].labels[1].value", "blank_label"),
    ]


def test_hotkeys_unique_across_schema_and_single_visible_characters():
    definition = schema(
        spans_control(labels=[{"value": "PER", "hotkey": "p"}, {"value": "ORG", "hotkey": " "}]),
        {"name": "s", "type": "single_choice", "field": "text", "labels": [{"value": "yes", "hotkey": "P"}]},
        {"name": "m", "type": "multiple_choice", "field": "text", "labels": [{"value": "a", "hotkey": "ab"}]},
    )

    assert [(i.path, i.code) for i in validate_schema(definition)] == [
        ("controls[2].labels[0].hotkey", "too_long")
    ]
    definition["controls"].pop()
    assert [(i.path, i.code) for i in validate_schema(definition)] == [
        ("controls[0].labels[1].hotkey", "invalid_hotkey"),
        ("controls[1].labels[0].hotkey", "duplicate_hotkey"),
    ]


def test_show_if_must_reference_an_earlier_control_and_a_possible_value():
    choice = {
        "name": "ok",
        "type": "single_choice",
        "field": "text",
        "labels": [{"value": "yes"}, {"value": "no"}],
    }
    definition = schema(
        {**spans_control(), "show_if": {"control": "ok", "equals": "yes"}},
        choice,
        {"name": "note", "type": "text", "field": "text", "show_if": {"control": "ok", "equals": "maybe"}},
        {"name": "note2", "type": "text", "field": "text", "show_if": {"control": "ok", "in": ["no", "nah"]}},
        {"name": "note3", "type": "text", "field": "text", "show_if": {"control": "ok"}},
    )

    assert [(i.path, i.code) for i in validate_schema(definition)] == [
        ("controls[4].show_if", "invalid_value")
    ]
    definition["controls"].pop()
    assert [(i.path, i.code) for i in validate_schema(definition)] == [
        ("controls[0].show_if.control", "invalid_show_if"),
        ("controls[2].show_if.equals", "unknown_show_if_value"),
        ("controls[3].show_if.in[1]", "unknown_show_if_value"),
    ]


def _tree(depth: int) -> list[dict]:
    node: dict = {"value": f"n{depth}"}
    for level in range(depth - 1, 0, -1):
        node = {"value": f"n{level}", "children": [node]}
    return [node]


def test_taxonomy_depth_size_and_unique_paths():
    definition = schema({"name": "t", "type": "taxonomy", "field": "text", "choices": _tree(7)})

    assert [(i.code) for i in validate_schema(definition)] == ["too_deep"]
    assert (
        validate_schema(schema({"name": "t", "type": "taxonomy", "field": "text", "choices": _tree(6)})) == []
    )

    wide = [{"value": f"a{i}", "children": [{"value": f"b{j}"} for j in range(100)]} for i in range(100)]
    assert [
        (i.path, i.code)
        for i in validate_schema(schema({"name": "t", "type": "taxonomy", "field": "text", "choices": wide}))
    ] == [("controls[0].choices", "too_many")]

    siblings = [
        {"value": "A", "children": [{"value": "x"}, {"value": "x"}]},
        {"value": "B", "children": [{"value": "x"}]},
    ]
    assert [
        (i.path, i.code)
        for i in validate_schema(
            schema({"name": "t", "type": "taxonomy", "field": "text", "choices": siblings})
        )
    ] == [("controls[0].choices[0].children[1].value", "duplicate_label")]


def test_relations_must_refer_to_a_spans_control_on_the_same_field():
    fields = [{"name": "text", "type": "text"}, {"name": "other", "type": "text"}]
    choice = {"name": "ok", "type": "single_choice", "field": "text", "labels": [{"value": "yes"}]}
    relation = {"name": "rel", "type": "relations", "field": "text", "labels": [{"value": "r"}]}
    definition = schema(
        spans_control(),
        choice,
        {**relation, "spans": "ok"},
        {**relation, "name": "rel2", "spans": "ner", "field": "other"},
        fields=fields,
    )

    assert [(i.path, i.code) for i in validate_schema(definition)] == [
        ("controls[2].spans", "invalid_reference"),
        ("controls[3].field", "field_mismatch"),
    ]


@pytest.mark.parametrize(
    ("options", "issue"),
    [
        ({"min": 5, "max": 5}, ("controls[0].max", "invalid_range")),
        ({"min": 1, "max": 5, "step": 0}, ("controls[0].step", "invalid_range")),
        ({"min": 0, "max": 101, "step": 1}, ("controls[0].step", "too_many")),
    ],
)
def test_rating_scale_rules(options, issue):
    definition = schema({"name": "r", "type": "rating", "field": "text", **options})

    assert [(i.path, i.code) for i in validate_schema(definition)] == [issue]


def test_rating_with_101_steps_is_allowed():
    assert (
        validate_schema(schema({"name": "r", "type": "rating", "field": "text", "min": 0, "max": 100})) == []
    )


def test_keypoint_rules():
    definition = schema(
        {
            "name": "pose",
            "type": "keypoints",
            "field": "img",
            "keypoints": [{"value": "nose"}, {"value": "nose"}, {"value": "eye"}],
            "skeleton": [["nose", "ear"], ["eye", "eye"]],
        },
        fields=[{"name": "img", "type": "image"}],
    )

    assert [(i.path, i.code) for i in validate_schema(definition)] == [
        ("controls[0].keypoints[1].value", "duplicate_keypoint"),
        ("controls[0].skeleton[0][1]", "unknown_keypoint"),
        ("controls[0].skeleton[1]", "self_edge"),
    ]


def test_too_many_labels():
    definition = schema(spans_control(labels=[{"value": f"l{i}"} for i in range(5001)]))

    assert [(i.path, i.code) for i in validate_schema(definition)] == [("controls[0].labels", "too_many")]
