"""Label Studio labeling configs -> Tessera label schemas (projects/schema/labelstudio/). Pure.

The configs below follow Label Studio's standard templates. label-studio-sdk's own config parser
(LabelInterface) is the oracle for which control tags, names and labels a config has: every control
it finds is either a Tessera control of the same name with the same labels, or reported in
`untranslated` with a reason.
"""

import pytest
from label_studio_sdk.label_interface import LabelInterface

from projects.schema import validate_schema
from projects.schema.labelstudio import (
    LabelStudioConfigError,
    schema_from_labelstudio_config,
)
from tests.projects.labelstudio_templates import TEMPLATES, controls_of, translate


def reported(untranslated):
    return {(u["tag"], u["name"]) for u in untranslated}


# --- The oracle: label-studio-sdk's parser ------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_control_the_sdk_finds_is_translated_or_reported(name):
    schema, untranslated = translate(name)

    assert validate_schema(schema) == []
    ours = controls_of(schema)
    names_reported = {u["name"] for u in untranslated}
    consumed = {"videoLabels"} if name == "video_tracking" else set()  # the labels of `box`
    for control in LabelInterface(TEMPLATES[name]).controls:
        assert control.name in ours or control.name in names_reported or control.name in consumed, (
            control.name
        )
        # The SDK's labels are what results store: the alias when there is one, as ours.
        if control.name in ours and getattr(control, "labels", None):
            translated = ours[control.name]
            values = [x["value"] for x in translated.get("labels") or translated.get("keypoints") or []]
            if translated["type"] == "taxonomy":
                continue
            assert sorted(values) == sorted(control.labels), control.name
    for obj in LabelInterface(TEMPLATES[name]).objects:
        sources = {f["source"] for f in schema["fields"]}
        assert obj.value.lstrip("$") in sources or obj.name in names_reported


# --- What each standard template becomes --------------------------------------------------------


def test_text_classification():
    schema, untranslated = translate("text_classification")

    assert schema["fields"] == [{"name": "text", "type": "text", "source": "text"}]
    assert schema["controls"] == [
        {
            "name": "sentiment",
            "type": "single_choice",
            "field": "text",
            "required": True,
            "labels": [
                {"value": "Positive", "hotkey": "1"},
                {"value": "Negative", "hotkey": "2"},
                {"value": "Neutral"},
            ],
        }
    ]
    assert reported(untranslated) == {("Header", "Choose text sentiment:"), ("Choices", "sentiment")}
    assert 'showInline="true"' in next(u["reason"] for u in untranslated if u["tag"] == "Choices")


def test_ner_with_relations_keeps_colours_and_allows_overlap():
    schema, untranslated = translate("ner_with_relations")
    controls = controls_of(schema)

    assert controls["label"]["type"] == "spans"
    assert controls["label"]["allow_overlap"] is True
    assert controls["label"]["labels"] == [
        {"value": "PER", "color": "#ff0000"},
        {"value": "ORG", "color": "#ff8c00"},
        {"value": "LOC", "color": "#FFA39E", "hotkey": "l"},
    ]
    assert controls["relations"] == {
        "name": "relations",
        "type": "relations",
        "field": "text",
        "spans": "label",
        "labels": [{"value": "works_for"}, {"value": "located_in"}],
        "directed": True,
    }
    assert untranslated == []


@pytest.mark.parametrize(("name", "kind"), [("image_bbox", "bbox"), ("polygons", "polygon")])
def test_image_regions(name, kind):
    schema, untranslated = translate(name)

    assert schema["fields"] == [{"name": "image", "type": "image", "source": "image"}]
    assert controls_of(schema)["label"]["type"] == kind
    assert [x["value"] for x in controls_of(schema)["label"]["labels"]] == ["Airplane", "Car"]
    assert all(u["reason"].startswith("Attributes without") or u["tag"] == "Header" for u in untranslated)


def test_keypoints_become_keypoint_names_and_bad_names_are_reported():
    schema, untranslated = translate("keypoints")

    assert schema["fields"] == [{"name": "img_1", "type": "image", "source": "img", "title": "img-1"}]
    assert controls_of(schema)["kp"]["keypoints"] == [
        {"value": "Left eye", "color": "#FFA39E"},
        {"value": "Right eye", "color": "#D4380D"},
    ]
    assert "kp-1" not in controls_of(schema)
    assert any(
        u["name"] == "kp-1" and "not a valid Tessera control name" in u["reason"] for u in untranslated
    )


def test_audio_transcription():
    schema, untranslated = translate("audio_transcription")

    assert controls_of(schema)["transcription"] == {
        "name": "transcription",
        "type": "transcription",
        "field": "audio",
    }
    reasons = " ".join(u["reason"] for u in untranslated)
    assert 'rows="4"' in reasons and 'maxSubmissions="1"' in reasons and 'hotkey="ctrl+enter"' in reasons


def test_per_region_textarea_is_reported_not_flattened():
    schema, untranslated = translate("audio_segments")

    assert list(controls_of(schema)) == ["labels"]
    assert controls_of(schema)["labels"]["type"] == "audio_segments"
    assert ("TextArea", "transcription") in reported(untranslated)
    assert "perRegion" in next(u["reason"] for u in untranslated if u["name"] == "transcription")


def test_pairwise_over_two_fields_is_reported_and_the_fields_stay():
    schema, untranslated = translate("pairwise")

    assert [f["source"] for f in schema["fields"]] == ["text1", "text2"]
    assert list(controls_of(schema)) == ["confident"]
    assert "two separate fields" in next(u["reason"] for u in untranslated if u["name"] == "pw")


def test_pairwise_alone_is_nothing_translatable():
    config = (
        '<View><Pairwise name="pw" toName="a,b"/><Text name="a" value="$a"/><Text name="b" value="$b"/>'
        "</View>"
    )
    with pytest.raises(LabelStudioConfigError) as error:
        schema_from_labelstudio_config(config)
    assert error.value.reason == "nothing_translatable"
    assert [u["name"] for u in error.value.untranslated] == ["pw"]


def test_ranker_over_a_list():
    schema, untranslated = translate("ranker")

    assert {"name": "results", "type": "candidates", "source": "items"} in schema["fields"]
    assert controls_of(schema)["rank"] == {"name": "rank", "type": "ranking", "field": "results"}
    assert ("Style", ".htx-text { white-space: pre-wrap; }") in reported(untranslated)
    assert ("List", "results") in reported(untranslated)  # title="Search results"


def test_ranker_with_buckets_is_reported():
    config = (
        '<View><List name="r" value="$items"/><Ranker name="rank" toName="r">'
        '<Bucket name="relevant" title="Relevant"/></Ranker></View>'
    )
    with pytest.raises(LabelStudioConfigError) as error:
        schema_from_labelstudio_config(config)
    assert "Bucket" in error.value.untranslated[0]["reason"]


def test_taxonomy_tree_and_multiple():
    schema, _ = translate("taxonomy")

    taxonomy = controls_of(schema)["taxonomy"]
    assert taxonomy["multiple"] is True
    assert taxonomy["choices"][2] == {
        "value": "Eukarya",
        "children": [{"value": "Human"}, {"value": "Oppossum"}, {"value": "Extraterrestial"}],
    }


def test_rating_max_rating():
    schema, untranslated = translate("rating")

    assert controls_of(schema)["rating"] == {
        "name": "rating",
        "type": "rating",
        "field": "text",
        "min": 1,
        "max": 10,
        "step": 1,
    }
    assert 'icon="star"' in untranslated[0]["reason"]


def test_video_timeline_and_tracking():
    timeline, _ = translate("video_timeline")
    tracking, untranslated = translate("video_tracking")

    assert controls_of(timeline)["videoLabels"]["type"] == "video_segments"
    assert list(controls_of(tracking)) == ["box"]
    assert controls_of(tracking)["box"]["type"] == "video_bbox"
    assert [x["value"] for x in controls_of(tracking)["box"]["labels"]] == ["Man", "Woman"]
    assert any('allowEmpty="true"' in u["reason"] for u in untranslated)


def test_conditional_display_becomes_show_if_and_aliases_are_the_stored_values():
    schema, untranslated = translate("conditional")
    controls = controls_of(schema)

    assert [c["name"] for c in schema["controls"]] == ["sentiment", "why", "comment"]  # controller first
    assert controls["sentiment"]["labels"] == [
        {"value": "pos", "description": "Shown in Label Studio as 'Positive'."},
        {"value": "neg", "description": "Shown in Label Studio as 'Negative'. Any complaint counts"},
    ]
    assert controls["why"]["show_if"] == {"control": "sentiment", "in": ["neg"]}
    assert controls["comment"]["show_if"] == {"control": "sentiment", "in": ["pos", "neg"]}
    assert controls["comment"]["placeholder"] == "Why?" and controls["comment"]["max_length"] == 500
    assert untranslated == []


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        (
            '<View><Text name="t" value="$t"/><Choices name="c" toName="t" visibleWhen="region-selected">'
            '<Choice value="a"/></Choices></View>',
            "Conditional display not translated",
        ),
        (
            '<View><Text name="t" value="$t"/><Choices name="c" toName="t" visibleWhen="choice-selected" '
            'whenTagName="d" whenChoiceValue="x"><Choice value="a"/></Choices>'
            '<Choices name="d" toName="t"><Choice value="y"/></Choices></View>',
            "has no such choice",
        ),
        (
            '<View><Image name="i" value="$i"/><BrushLabels name="b" toName="i"><Label value="x"/>'
            '</BrushLabels><Choices name="c" toName="i"><Choice value="a"/></Choices></View>',
            "brush",
        ),
        (
            '<View><Text name="t" value="$t"/><Choices name="c" toName="t"><Choice value="a" hotkey="x"/>'
            '<Choice value="b" hotkey="x"/><Choice value="a"/><Choice value="&lt;b&gt;"/></Choices></View>',
            "hotkey 'x' is used twice",
        ),
        (
            '<View><Text name="t" value="$t"/><Choices name="c" toName="t"><Choice value="a"/></Choices>'
            '<Choices name="c" toName="t"><Choice value="b"/></Choices></View>',
            "A second control with this name",
        ),
        (
            '<View><TimeSeries name="ts" value="$csv"/><Text name="t" value="$t"/>'
            '<Choices name="c" toName="ts"><Choice value="a"/></Choices>'
            '<Choices name="d" toName="t"><Choice value="a"/></Choices></View>',
            "missing or was not translated",
        ),
        (
            '<View><Text name="t" value="$t"/>'
            '<Choices name="a" toName="t" visibleWhen="choice-selected" whenTagName="b"><Choice value="x"/>'
            '</Choices><Choices name="b" toName="t" visibleWhen="choice-selected" whenTagName="a">'
            '<Choice value="y"/></Choices></View>',
            "Circular conditional display",
        ),
        (
            '<View><Text name="t" value="$t"/><Labels name="l" toName="t"><Label value="a"/></Labels>'
            '<TextArea name="c" toName="t" visibleWhen="region-selected" whenLabelValue="a"/></View>',
            'whenLabelValue="a"',
        ),
        (
            '<View><Text name="t" value="$t"/><Choices name="c" toName="t"><Choice value="a"/></Choices>'
            '<View visibleWhen="choice-selected" whenTagName="c"><Image name="i" value="$i"/></View></View>',
            "Tessera always shows the item's fields",
        ),
        (
            '<View><Text name="t" value="$t"/><TextArea name="c" toName="t">'
            '<Shortcut value="Thanks" hotkey="t"/></TextArea></View>',
            "<Shortcut> inside <TextArea> is not translated",
        ),
        (
            '<View><Text name="t" value="$t"/><Choices name="c" toName="t"><Choice value="a"/></Choices>'
            '<Repeater on="$pages"><Image name="page_{{idx}}" value="$pages[{{idx}}].url"/></Repeater>'
            "</View>",
            "<Repeater> template",
        ),
        (
            '<View><Image name="i" value="$i"/><Labels name="l" toName="i"><Label value="a"/></Labels>'
            '<Choices name="d" toName="i"><Choice value="a"/></Choices></View>',
            "<Labels> on <Image>",
        ),
    ],
)
def test_what_cannot_be_expressed_is_reported(config, fragment):
    schema, untranslated = schema_from_labelstudio_config(config)

    assert validate_schema(schema) == []
    assert any(fragment in u["reason"] for u in untranslated), untranslated


def test_default_attribute_values_are_not_reported():
    config = (
        '<View><Text name="t" value="$t"/><Choices name="c" toName="t" perRegion="false" required="false">'
        '<Choice value="a"/></Choices></View>'
    )

    assert schema_from_labelstudio_config(config)[1] == []


def test_duplicate_and_markup_labels_are_reported_not_kept():
    config = (
        '<View><Text name="t" value="$t"/><Choices name="c" toName="t"><Choice value="a"/>'
        '<Choice value="a"/><Choice value="&lt;b&gt;x"/></Choices></View>'
    )
    schema, untranslated = schema_from_labelstudio_config(config)

    assert schema["controls"][0]["labels"] == [{"value": "a"}]
    assert {u["name"] for u in untranslated} == {"c/a", "c/<b>x"}
