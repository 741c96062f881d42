"""Label Studio labeling configs -> Tessera label schemas: hostile and broken XML (the standard
templates: test_labelstudio_config.py). Pure.

The configs below follow Label Studio's standard templates. label-studio-sdk's own config parser
(LabelInterface) is the oracle for which control tags, names and labels a config has: every control
it finds is either a Tessera control of the same name with the same labels, or reported in
`untranslated` with a reason.
"""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from label_studio_sdk.label_interface import LabelInterface

from projects.schema import validate_schema
from projects.schema.labelstudio import (
    MAX_CONFIG_BYTES,
    LabelStudioConfigError,
    schema_from_labelstudio_config,
)
from tests.projects.labelstudio_templates import TEMPLATES, controls_of, translate

# --- Hostile and broken XML ------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<View><Text name="t" value="$t"/><Choices name="c" toName="t"><Choice value="&lol3;"/></Choices></View>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE View [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<View><Text name="t" value="$t"/><Choices name="c" toName="t"><Choice value="&xxe;"/></Choices></View>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE View SYSTEM "http://127.0.0.1:9/evil.dtd">
<View><Text name="t" value="$t"/></View>"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE View [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>
<View/>"""


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (BILLION_LAUGHS, "dtd_forbidden"),
        (EXTERNAL_ENTITY, "dtd_forbidden"),
        (EXTERNAL_DTD, "dtd_forbidden"),
        (PARAMETER_ENTITY, "dtd_forbidden"),
        ("<View>" + " " * MAX_CONFIG_BYTES + "</View>", "too_large"),
        ("<View>" + "<View>" * 100 + "</View>" * 101, "too_deep"),
        ("<View>" + "<Header/>" * 20_001 + "</View>", "too_many_elements"),
        ("<View><Text name='t' value='$t'>", "syntax"),
        ("", "syntax"),
        ("not xml at all", "syntax"),
        ('<Choices name="c"/>', "not_a_view"),
        ("<View>\ud800</View>", "syntax"),
        (b"<View>\xff</View>", "syntax"),
        ('<View><Text name="t" value="$t"/></View>', "nothing_translatable"),
    ],
    ids=[
        "billion_laughs",
        "external_entity",
        "external_dtd",
        "parameter_entity",
        "huge",
        "deep",
        "many_elements",
        "unclosed",
        "empty",
        "not_xml",
        "not_a_view",
        "lone_surrogate",
        "not_utf8",
        "no_controls",
    ],
)
def test_hostile_or_broken_xml_is_a_clean_error(xml, reason):
    with pytest.raises(LabelStudioConfigError) as error:
        schema_from_labelstudio_config(xml)

    assert error.value.reason == reason
    assert error.value.message


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=300),
        st.text(st.characters(exclude_categories=()), max_size=50),  # lone surrogates too
        st.binary(max_size=300),
    )
)
def test_any_input_is_a_schema_or_a_clean_error(raw):
    try:
        schema, _ = schema_from_labelstudio_config(raw)
    except LabelStudioConfigError:
        return
    assert validate_schema(schema) == []


TAGS = ["Choices", "Labels", "RectangleLabels", "TextArea", "Rating", "Taxonomy", "Ranker", "Number"]
OBJECTS = ["Text", "Image", "Audio", "Video", "List", "HyperText"]
words = st.text(alphabet="abcXYZ_-<>& 1é", min_size=0, max_size=8)


@st.composite
def configs(draw):
    from xml.sax.saxutils import quoteattr

    objects = draw(st.lists(st.tuples(st.sampled_from(OBJECTS), words), max_size=3))
    parts = [f"<{tag} name={quoteattr(name)} value={quoteattr('$' + name)}/>" for tag, name in objects]
    for _ in range(draw(st.integers(0, 4))):
        tag = draw(st.sampled_from(TAGS))
        target = draw(st.sampled_from([n for _, n in objects] or ["nothing"]))
        attrs = draw(
            st.dictionaries(
                st.sampled_from(["choice", "required", "maxRating", "min", "max", "perRegion", "hotkey"]),
                st.sampled_from(["multiple", "true", "5", "0", "-1", "x", "1e400"]),
                max_size=3,
            )
        )
        extra = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
        children = "".join(
            f"<{'Choice' if tag in ('Choices', 'Taxonomy') else 'Label'} value={quoteattr(v)}"
            f" hotkey={quoteattr(v[:1] or 'k')}/>"
            for v in draw(st.lists(words, max_size=4))
        )
        parts.append(
            f"<{tag} name={quoteattr(draw(words))} toName={quoteattr(target)}{extra}>{children}</{tag}>"
        )
    return "<View>" + "".join(draw(st.permutations(parts))) + "</View>"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_generated_configs_validate_or_fail_cleanly(config):
    try:
        schema, untranslated = schema_from_labelstudio_config(config)
    except LabelStudioConfigError as error:
        assert error.reason == "nothing_translatable"
        return
    assert validate_schema(schema) == []
    assert all(set(u) == {"tag", "name", "reason"} for u in untranslated)


RESULT_LABEL_KEYS = (
    "choices",
    "labels",
    "rectanglelabels",
    "polygonlabels",
    "keypointlabels",
    "timelinelabels",
)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_the_sdks_sample_task_and_results_fit_the_translated_schema(name):
    """The contract with the task importer, checked with the SDK's own sample task and prediction:
    its data keys are our field sources, its from_names our control names (or reported), and the
    labels in its results are labels of that control."""
    random.seed(7)
    interface = LabelInterface(TEMPLATES[name])
    schema, untranslated = translate(name)
    controls = controls_of(schema)
    names_reported = {u["name"] for u in untranslated} | {"videoLabels"}
    sources = {f["source"] for f in schema["fields"]}

    task = interface.generate_sample_task()
    assert set(task) <= sources | names_reported | {o.value.lstrip("$") for o in interface.objects}
    assert {o.value.lstrip("$") for o in interface.objects if o.name not in names_reported} <= sources

    prediction = interface.generate_sample_prediction()
    if prediction is None:  # the SDK cannot sample a pairwise result over two <Text>s
        assert name == "pairwise"
        return
    assert prediction["result"]
    for result in prediction["result"]:
        from_name = result["from_name"]
        assert from_name in controls or from_name in names_reported, from_name
        control = controls.get(from_name)
        if control is None or "labels" not in control:
            continue
        ours = {label["value"] for label in control["labels"]}
        for key in RESULT_LABEL_KEYS:
            assert set(result["value"].get(key) or []) <= ours, (from_name, result["value"])


def _numbered(tag: str, count: int) -> str:
    return "".join(f'<{tag} value="{i:x}"/>' for i in range(count))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            '<Choices name="c" toName="t">' + _numbered("Choice", 5_100) + "</Choices>",
            "More than 5000 labels",
        ),
        (
            '<Taxonomy name="c" toName="t">' + _numbered("Choice", 10_100) + "</Taxonomy>",
            "More than 10000 taxonomy nodes",
        ),
        (
            '<KeyPointLabels name="c" toName="i">' + _numbered("Label", 210) + "</KeyPointLabels>",
            "More than 200 labels",
        ),
    ],
    ids=["labels", "taxonomy", "keypoints"],
)
def test_what_exceeds_a_schema_limit_is_reported_and_the_rest_validates(body, reason):
    config = f'<View><Text name="t" value="$t"/><Image name="i" value="$i"/>{body}</View>'
    assert len(config.encode()) <= MAX_CONFIG_BYTES

    schema, untranslated = schema_from_labelstudio_config(config)

    assert validate_schema(schema) == []
    assert any(reason in u["reason"] for u in untranslated)
