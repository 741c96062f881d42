"""A Tessera label schema from a Label Studio labeling config (the `<View>` XML).

`schema_from_labelstudio_config(xml)` returns `(schema, untranslated)`: a definition that passes
`validate_schema()` and a list of `{"tag", "name", "reason"}`, one entry for every element or
attribute the schema cannot express. Nothing is dropped without an entry. Pure Python, no Django.

The contract with the Label Studio task importer (annotation/imports):
- a Tessera control's `name` is the Label Studio control's `name` (the `from_name` of its results);
- the field a control reads has `source` = the Label Studio object's `value` without `$`
  (`$image` -> `image`), so imported data keys stay as they are;
- label values are what Label Studio stores in results: a label's `alias` when it has one.

The XML is parsed with defusedxml: no DTD, no entities, no external references; inputs over
MAX_CONFIG_BYTES or with more than MAX_ELEMENTS elements are refused. Every refusal is a
LabelStudioConfigError with a stable `reason`. docs/SCHEMA.md ("Label Studio configs") lists
what each tag becomes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring

from .controls import MAX_LABELS, MAX_RATING_STEPS, MAX_TAXONOMY_DEPTH, MAX_TAXONOMY_NODES, check_text_value
from .spec import MAX_CONTROLS, MAX_FIELDS, SCHEMA_VERSION
from .validate import validate_schema

MAX_CONFIG_BYTES = 256 * 1024
MAX_ELEMENTS = 20_000
MAX_DEPTH = 64

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
HEX_RE = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

# Object tags (what an item shows) -> Tessera field type.
OBJECT_TYPES = {
    "text": "text",
    "hypertext": "rich_text",
    "image": "image",
    "audio": "audio",
    "audioplus": "audio",
    "video": "video",
    "list": "candidates",
    "paragraphs": "json",
}
# Object tags Tessera has no field type for.
UNSUPPORTED_OBJECTS = {
    "timeseries": "Tessera has no time-series field.",
    "table": "Tessera has no table field.",
    "pdf": "Tessera has no PDF field.",
    "timeseriesview": "Tessera has no time-series field.",
    "chat": "Tessera's conversation field reads a list of {role, content} turns; map it by hand.",
    "markdown": "Tessera has no Markdown object tag equivalent here; use a rich_text field.",
}
LAYOUT_TAGS = {"view", "header", "style", "filter", "collapse", "panel"}
CHILD_TAGS = {"label", "choice", "relation", "bucket"}

# Control tags with no Tessera equivalent, and why.
UNSUPPORTED_CONTROLS = {
    "brushlabels": "Tessera has no brush (mask) control.",
    "brush": "Tessera has no brush (mask) control.",
    "bitmasklabels": "Tessera has no bitmask control.",
    "bitmask": "Tessera has no bitmask control.",
    "magicwand": "Tessera has no magic-wand control.",
    "ellipselabels": "Tessera has no ellipse control.",
    "ellipse": "Tessera has no ellipse control.",
    "rectangle": "A rectangle without labels has no Tessera equivalent: Tessera boxes carry a label "
    "(use <RectangleLabels>).",
    "polygon": "A polygon without labels has no Tessera equivalent (use <PolygonLabels>).",
    "keypoint": "A keypoint without labels has no Tessera equivalent (use <KeyPointLabels>).",
    "hypertextlabels": "HTML spans are addressed by XPath in Label Studio; Tessera's rich_text spans "
    "count characters of the stored HTML, so the offsets cannot be carried over.",
    "paragraphlabels": "Tessera has no spans inside paragraphs (dialogue) control.",
    "timeserieslabels": "Tessera has no time-series field.",
    "datetime": "Tessera has no date/time control.",
    "vector": "Tessera has no vector control.",
    "vectorlabels": "Tessera has no vector control.",
    "relation": "A <Relation> outside <Relations> has no meaning.",
}

# Attributes every control may carry that the translation reads (others are reported).
_COMMON = {"name", "toname", "required", "visiblewhen", "whentagname", "whenchoicevalue", "perregion"}
_LABEL_ATTRS = {"value", "alias", "hotkey", "background", "hint"}


class LabelStudioConfigError(ValueError):
    """The config cannot be read. `reason` is stable: too_large, syntax, dtd_forbidden,
    entities_forbidden, external_reference_forbidden, too_many_elements, too_deep, not_a_view,
    nothing_translatable."""

    def __init__(self, reason: str, message: str, untranslated: list[dict] | None = None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.untranslated = untranslated or []


@dataclass
class _Object:
    tag: str
    name: str
    field_name: str
    field_type: str


@dataclass
class _State:
    untranslated: list[dict] = field(default_factory=list)
    fields: list[dict] = field(default_factory=list)
    objects: dict[str, _Object] = field(default_factory=dict)
    controls: list[dict] = field(default_factory=list)
    hotkeys: set[str] = field(default_factory=set)
    # (control dict, raw condition) for show_if resolved once every control exists
    conditions: list[tuple[dict, dict, Element]] = field(default_factory=list)
    pending_labels: list[Element] = field(default_factory=list)  # <Labels> of a <VideoRectangle>
    consumed: set[int] = field(default_factory=set)  # ids of elements translated as part of another

    def report(self, element: Element | str, name: str, reason: str) -> None:
        tag = element if isinstance(element, str) else element.tag
        self.untranslated.append({"tag": tag, "name": name, "reason": reason})


# --- parsing ----------------------------------------------------------------------------------------


def parse_labelstudio_config(xml: str | bytes) -> Element:
    """Parse safely or raise LabelStudioConfigError."""
    try:
        raw = xml.encode() if isinstance(xml, str) else xml
    except UnicodeEncodeError as error:  # a lone surrogate, e.g. "\ud800" in a JSON request
        raise LabelStudioConfigError(
            "syntax", f"The config contains a character that is not valid Unicode (at {error.start})."
        ) from error
    if len(raw) > MAX_CONFIG_BYTES:
        raise LabelStudioConfigError(
            "too_large", f"A Label Studio config may be at most {MAX_CONFIG_BYTES // 1024} KB."
        )
    if not raw.strip():
        raise LabelStudioConfigError("syntax", "The Label Studio config is empty.")
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden as error:
        raise LabelStudioConfigError(
            "dtd_forbidden", "The config declares a DTD (<!DOCTYPE ...>); DTDs are not accepted."
        ) from error
    except EntitiesForbidden as error:
        raise LabelStudioConfigError(
            "entities_forbidden", "The config declares XML entities; entities are not accepted."
        ) from error
    except ExternalReferenceForbidden as error:
        raise LabelStudioConfigError(
            "external_reference_forbidden", "The config refers to an external resource; that is not accepted."
        ) from error
    except DefusedXmlException as error:
        raise LabelStudioConfigError("syntax", f"The config was refused: {error}.") from error
    except ParseError as error:
        line, column = error.position
        raise LabelStudioConfigError(
            "syntax", f"The config is not well-formed XML (line {line}, column {column + 1})."
        ) from error
    count = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_ELEMENTS:
            raise LabelStudioConfigError(
                "too_many_elements", f"A Label Studio config may have at most {MAX_ELEMENTS} elements."
            )
        if depth > MAX_DEPTH:
            raise LabelStudioConfigError(
                "too_deep", f"A Label Studio config may be nested at most {MAX_DEPTH} levels deep."
            )
        stack.extend((child, depth + 1) for child in node)
    if _lower(root) != "view":
        raise LabelStudioConfigError(
            "not_a_view", f"A Label Studio config starts with <View>, not <{root.tag}>."
        )
    return root


# --- helpers -------------------------------------------------------------------------------------


def _lower(element: Element) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def _attrs(element: Element) -> dict[str, str]:
    return {key.lower(): value for key, value in element.attrib.items()}


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def _descendants(element: Element, *tags: str) -> list[Element]:
    return [node for node in element.iter() if node is not element and _lower(node) in tags]


def _report_extra_attrs(state: _State, element: Element, name: str, handled: set[str]) -> None:
    extra = [f'{key}="{value}"' for key, value in element.attrib.items() if key.lower() not in handled]
    if extra:
        state.report(
            element, name, f"Attributes without a Tessera equivalent, not translated: {', '.join(extra)}."
        )


def _color(value: str) -> str | None:
    value = value.strip()
    if HEX_RE.match(value):
        return value
    try:
        from PIL import ImageColor

        rgb = ImageColor.getrgb(value)
    except (ImportError, ValueError):
        return None
    return "#{:02x}{:02x}{:02x}".format(*rgb[:3])


def _labels(
    state: _State, control: Element, name: str, tags=("label",), limit: int = MAX_LABELS
) -> list[dict]:
    """The <Label>/<Choice> children as Tessera labels: value = alias or value (what Label Studio
    stores in results), the shown text as description when an alias replaces it."""
    out: list[dict] = []
    seen: set[str] = set()
    for child in _descendants(control, *tags):
        attrs = _attrs(child)
        if len(out) >= limit:
            state.report(
                child, f"{name}/{attrs.get('value', '')}", f"More than {limit} labels; not translated."
            )
            continue
        shown = attrs.get("value", (child.text or "").strip())
        value = attrs.get("alias") or shown
        where = f"{name}/{value}"
        if not value:
            state.report(child, name, "A label without a value is not translated.")
            continue
        problems = check_text_value(value, "", "label")
        if problems or len(value) > 100:
            reason = problems[0].message if problems else "Labels have at most 100 characters."
            state.report(child, where, f"Not translated: {reason}")
            continue
        if value in seen:
            state.report(child, where, f"The label {value!r} is listed twice; the second is not translated.")
            continue
        seen.add(value)
        label: dict[str, Any] = {"value": value}
        description = []
        if attrs.get("alias") and shown and shown != value:
            description.append(f"Shown in Label Studio as {shown!r}.")
        if attrs.get("hint"):
            description.append(attrs["hint"])
        if description:
            label["description"] = " ".join(description)[:2000]
        _hotkey(state, child, where, attrs.get("hotkey"), label)
        if "background" in attrs:
            color = _color(attrs["background"])
            if color:
                label["color"] = color
            else:
                state.report(child, where, f"The colour {attrs['background']!r} is not translated.")
        _report_extra_attrs(state, child, where, _LABEL_ATTRS)
        out.append(label)
    return out


def _hotkey(state: _State, element: Element, where: str, hotkey: str | None, target: dict) -> None:
    if not hotkey:
        return
    if len(hotkey) != 1 or not hotkey.isprintable() or hotkey.isspace():
        state.report(element, where, f"The hotkey {hotkey!r} is not translated: Tessera hotkeys are one key.")
    elif hotkey.lower() in state.hotkeys:
        state.report(element, where, f"The hotkey {hotkey!r} is used twice; the second is not translated.")
    else:
        state.hotkeys.add(hotkey.lower())
        target["hotkey"] = hotkey


# --- objects and controls ------------------------------------------------------------------------


def _add_object(state: _State, element: Element) -> None:
    attrs = _attrs(element)
    tag = _lower(element)
    name = attrs.get("name", "")
    value = attrs.get("value", "")
    if not name:
        state.report(element, "", "An object tag without a name is not translated.")
        return
    if tag in UNSUPPORTED_OBJECTS:
        state.report(element, name, UNSUPPORTED_OBJECTS[tag])
        return
    if "{{" in value:
        state.report(element, name, f"value={value!r} is a <Repeater> template; not translated.")
        return
    if not value.startswith("$") or len(value) < 2:
        state.report(element, name, f"value={value!r} does not read the item's data ($key); not translated.")
        return
    if name in state.objects:
        state.report(element, name, "A second object with this name is not translated.")
        return
    if len(state.fields) >= MAX_FIELDS:
        state.report(element, name, f"A Tessera schema has at most {MAX_FIELDS} fields.")
        return
    field_name = re.sub(r"[^A-Za-z0-9_]", "_", name)[:64]
    if not re.match(r"^[A-Za-z_]", field_name):
        field_name = f"f_{field_name}"[:64]
    taken = {f["name"] for f in state.fields}
    base, n = field_name, 2
    while field_name in taken:
        field_name = f"{base[:60]}_{n}"
        n += 1
    if len(value) > 201:
        state.report(element, name, "A data key longer than 200 characters is not translated.")
        return
    field_type = OBJECT_TYPES[tag]
    entry: dict[str, Any] = {"name": field_name, "type": field_type, "source": value[1:]}
    if field_name != name:
        entry["title"] = name[:200] if not check_text_value(name, "", "title") else field_name
    state.fields.append(entry)
    state.objects[name] = _Object(element.tag, name, field_name, field_type)
    if tag == "paragraphs":
        state.report(
            element,
            name,
            "Shown as JSON: Label Studio paragraphs are {author, text} entries, Tessera conversations "
            "{role, content} turns.",
        )
    # valueType="url" (the data holds a link to the text) and every display option are reported.
    _report_extra_attrs(state, element, name, {"name", "value"})


def _target(state: _State, element: Element, name: str, allowed: tuple[str, ...]) -> _Object | None:
    to_name = _attrs(element).get("toname", "")
    targets = [t.strip() for t in to_name.split(",") if t.strip()]
    if len(targets) != 1:
        state.report(element, name, f"toName={to_name!r}: Tessera controls answer exactly one field.")
        return None
    obj = state.objects.get(targets[0])
    if obj is None:
        state.report(element, name, f"Its object {targets[0]!r} is missing or was not translated.")
        return None
    if obj.field_type not in allowed:
        state.report(
            element,
            name,
            f"<{element.tag}> on <{obj.tag}> has no Tessera equivalent "
            f"(Tessera supports it on {', '.join(allowed)} fields"
            + (
                "; for image regions use <RectangleLabels> or <PolygonLabels>)."
                if obj.field_type == "image"
                else ")."
            ),
        )
        return None
    return obj


ANY = ("text", "rich_text", "image", "audio", "video", "candidates", "json", "conversation")


def _base(state: _State, element: Element, name: str, kind: str, obj: _Object) -> dict:
    control: dict[str, Any] = {"name": name, "type": kind, "field": obj.field_name}
    if _true(_attrs(element).get("required")):
        control["required"] = True
    return control


def _add_control(state: _State, element: Element, inherited: dict) -> None:
    tag = _lower(element)
    attrs = _attrs(element)
    name = attrs.get("name", "")
    if tag in UNSUPPORTED_CONTROLS:
        state.report(element, name, UNSUPPORTED_CONTROLS[tag])
        return
    if not NAME_RE.match(name):
        state.report(
            element,
            name,
            f"The name {name!r} is not a valid Tessera control name (a letter or _, then letters, digits "
            "or _; at most 64). Rename it in Label Studio so imported results keep their name.",
        )
        return
    if any(c["name"] == name for c in state.controls):
        state.report(element, name, "A second control with this name is not translated.")
        return
    if len(state.controls) >= MAX_CONTROLS:
        state.report(element, name, f"A Tessera schema has at most {MAX_CONTROLS} controls.")
        return
    if _true(attrs.get("perregion")):
        state.report(
            element,
            name,
            "perRegion: Tessera controls answer the whole item, not a region; a per-region "
            f"<{element.tag}> is not translated.",
        )
        return
    builder = _BUILDERS[tag]
    result = builder(state, element, name)
    if result is None:
        return
    control, handled = result
    state.controls.append(control)
    _report_extra_attrs(state, element, name, _COMMON | handled)
    for inner in element.iter():
        if inner is not element and _lower(inner) not in CHILD_TAGS | {"view"}:
            state.report(inner, name, f"<{inner.tag}> inside <{element.tag}> is not translated.")
    condition = {k: v for k, v in attrs.items() if k in ("visiblewhen", "whentagname", "whenchoicevalue")}
    condition = condition or inherited
    if condition:
        state.conditions.append((control, condition, element))


def _choices(state, element, name):
    attrs = _attrs(element)
    obj = _target(state, element, name, ANY)
    if obj is None:
        return None
    choice = attrs.get("choice", "single").lower()
    kind = "multiple_choice" if choice == "multiple" else "single_choice"
    labels = _labels(state, element, name, ("choice",))
    if not labels:
        state.report(element, name, "No choice could be translated, so the control is not translated.")
        return None
    control = _base(state, element, name, kind, obj)
    control["labels"] = labels
    if choice not in ("single", "single-radio", "multiple"):
        state.report(element, name, f"choice={choice!r} is not known; translated as a single choice.")
    return control, {"choice"}


def _span_like(kind_by_field: dict[str, str]):
    def build(state, element, name):
        obj = _target(state, element, name, tuple(kind_by_field))
        if obj is None:
            return None
        labels = _labels(state, element, name)
        if not labels:
            state.report(element, name, "No label could be translated, so the control is not translated.")
            return None
        kind = kind_by_field[obj.field_type]
        control = _base(state, element, name, kind, obj)
        control["labels"] = labels
        if kind in ("spans", "audio_segments", "video_segments"):
            control["allow_overlap"] = True  # Label Studio lets regions overlap
        if _lower(element) == "labels" and _attrs(element).get("choice", "single").lower() == "multiple":
            state.report(
                element,
                name,
                'choice="multiple": a Tessera region has exactly one label.',
            )
        return control, {"choice"}

    return build


def _keypoints(state, element, name):
    obj = _target(state, element, name, ("image",))
    if obj is None:
        return None
    points = _labels(state, element, name, limit=200)  # at most 200 keypoints
    if not points:
        state.report(
            element, name, "No keypoint label could be translated, so the control is not translated."
        )
        return None
    control = _base(state, element, name, "keypoints", obj)
    control["keypoints"] = points
    return control, set()


def _textarea(state, element, name):
    attrs = _attrs(element)
    obj = _target(state, element, name, ANY)
    if obj is None:
        return None
    kind = "transcription" if obj.field_type == "audio" else "text"
    control = _base(state, element, name, kind, obj)
    handled = {"placeholder"}
    if attrs.get("placeholder"):
        if len(attrs["placeholder"]) > 200:
            state.report(element, name, "The placeholder is cut to 200 characters.")
        control["placeholder"] = attrs["placeholder"][:200]
    for ls_key, key in (("minlength", "min_length"), ("maxlength", "max_length")):
        if attrs.get(ls_key, "").isdecimal():
            control[key] = min(int(attrs[ls_key]), 100_000)
            handled.add(ls_key)
    if control.get("min_length", 0) > control.get("max_length", 100_000):
        control.pop("min_length")
        handled.discard("minlength")
    return control, handled


def _rating(state, element, name):
    attrs = _attrs(element)
    obj = _target(state, element, name, ANY)
    if obj is None:
        return None
    raw = attrs.get("maxrating", "5")
    if not raw.isdecimal() or not 2 <= int(raw) <= MAX_RATING_STEPS:
        state.report(element, name, f"maxRating={raw!r} is not a whole number from 2 to {MAX_RATING_STEPS}.")
        return None
    control = _base(state, element, name, "rating", obj)
    control.update({"min": 1, "max": int(raw), "step": 1})
    return control, {"maxrating"}


def _number(state, element, name):
    attrs = _attrs(element)
    obj = _target(state, element, name, ANY)
    if obj is None:
        return None
    try:
        low, high = float(attrs["min"]), float(attrs["max"])
        step = float(attrs.get("step", "1"))
    except (KeyError, ValueError):
        state.report(
            element,
            name,
            "A <Number> without numeric min and max has no Tessera equivalent (rating needs both).",
        )
        return None
    if not (high > low and step > 0 and (high - low) / step + 1 <= MAX_RATING_STEPS):
        state.report(element, name, f"min/max/step do not make a scale of 2 to {MAX_RATING_STEPS} steps.")
        return None
    control = _base(state, element, name, "rating", obj)
    as_num = lambda v: int(v) if v.is_integer() else v  # noqa: E731
    control.update({"min": as_num(low), "max": as_num(high), "step": as_num(step)})
    return control, {"min", "max", "step"}


def _taxonomy(state, element, name):
    attrs = _attrs(element)
    obj = _target(state, element, name, ANY)
    if obj is None:
        return None

    count = 0

    def nodes(parent: Element, depth: int, prefix: str) -> list[dict]:
        nonlocal count
        out, seen = [], set()
        for child in parent:
            if _lower(child) != "choice":
                continue
            a = _attrs(child)
            if count >= MAX_TAXONOMY_NODES:
                state.report(child, prefix, f"More than {MAX_TAXONOMY_NODES} taxonomy nodes; not translated.")
                continue
            value = a.get("alias") or a.get("value", "")
            where = f"{prefix}/{value}"
            problems = check_text_value(value, "", "label") if value else []
            if not value or problems or len(value) > 100 or value in seen:
                why = (
                    problems[0].message
                    if problems
                    else "it is empty, longer than 100 characters or listed twice"
                )
                state.report(child, where, f"Not translated: {why}")
                continue
            if depth > MAX_TAXONOMY_DEPTH:
                state.report(child, where, f"Deeper than {MAX_TAXONOMY_DEPTH} levels; not translated.")
                continue
            seen.add(value)
            count += 1
            node: dict[str, Any] = {"value": value}
            if a.get("alias") and a.get("value") and a["value"] != value:
                node["description"] = f"Shown in Label Studio as {a['value']!r}."
            _report_extra_attrs(state, child, where, {"value", "alias"})
            children = nodes(child, depth + 1, where)
            if children:
                node["children"] = children
            out.append(node)
        return out

    choices = nodes(element, 1, name)
    if not choices:
        state.report(element, name, "No choice could be translated, so the control is not translated.")
        return None
    control = _base(state, element, name, "taxonomy", obj)
    control["choices"] = choices
    control["multiple"] = attrs.get("maxusages") != "1"
    if _true(attrs.get("leafsonly")):
        state.report(element, name, 'leafsOnly="true": Tessera taxonomies accept any node, not only leaves.')
    return control, {"maxusages", "leafsonly"}


def _ranker(state, element, name):
    obj = _target(state, element, name, ("candidates",))
    if obj is None:
        return None
    if _descendants(element, "bucket"):
        state.report(
            element,
            name,
            "A <Ranker> with <Bucket>s sorts items into buckets; Tessera rankings are one ordered list.",
        )
        return None
    return _base(state, element, name, "ranking", obj), set()


def _pairwise(state, element, name):
    state.report(
        element,
        name,
        'Label Studio compares two separate fields (toName="a,b"); Tessera\'s pairwise control compares '
        "the two entries of one candidates field, so the data would have to change shape.",
    )
    return None


def _video_rectangle(state, element, name):
    obj = _target(state, element, name, ("video",))
    if obj is None:
        return None
    to_name = _attrs(element).get("toname", "")
    root_labels = [
        el for el in state.pending_labels if _attrs(el).get("toname", "").strip() == to_name.strip()
    ]
    if not root_labels:
        state.report(
            element, name, "A <VideoRectangle> without <Labels> on its video has no Tessera equivalent."
        )
        return None
    labels: list[dict] = []
    for el in root_labels:
        _report_extra_attrs(state, el, _attrs(el).get("name", ""), {"name", "toname"})
        labels += [lb for lb in _labels(state, el, name) if lb["value"] not in {x["value"] for x in labels}]
    if not labels:
        state.report(element, name, "No label could be translated, so the control is not translated.")
        return None
    control = _base(state, element, name, "video_bbox", obj)
    control["labels"] = labels
    return control, set()


_BUILDERS = {
    "choices": _choices,
    "labels": _span_like(
        {"text": "spans", "rich_text": "spans", "audio": "audio_segments", "video": "video_segments"}
    ),
    "timelinelabels": _span_like({"video": "video_segments"}),
    "rectanglelabels": _span_like({"image": "bbox"}),
    "polygonlabels": _span_like({"image": "polygon"}),
    "keypointlabels": _keypoints,
    "textarea": _textarea,
    "rating": _rating,
    "number": _number,
    "taxonomy": _taxonomy,
    "ranker": _ranker,
    "pairwise": _pairwise,
    "videorectangle": _video_rectangle,
}


def _relations(state: _State, element: Element) -> None:
    attrs = _attrs(element)
    name = attrs.get("name") or "relations"
    spans = [c for c in state.controls if c["type"] == "spans"]
    if len(spans) != 1:
        state.report(
            element,
            name,
            "Tessera relations join the spans of one spans control; this config has "
            f"{len(spans)} translated spans control(s).",
        )
        return
    if not NAME_RE.match(name) or any(c["name"] == name for c in state.controls):
        state.report(element, name, f"The name {name!r} is not valid or already taken.")
        return
    labels = _labels(state, element, name, ("relation",))
    if not labels:
        state.report(
            element, name, "Tessera relations need at least one relation label (<Relation value=...>)."
        )
        return
    state.controls.append(
        {
            "name": name,
            "type": "relations",
            "field": spans[0]["field"],
            "spans": spans[0]["name"],
            "labels": labels,
            "directed": True,
        }
    )
    if attrs.get("choice", "").lower() == "multiple":
        state.report(element, name, 'choice="multiple": a Tessera relation has one label.')
    _report_extra_attrs(state, element, name, {"name", "choice"})


def _conditions(state: _State) -> None:
    by_name = {c["name"]: c for c in state.controls}
    for control, condition, element in state.conditions:
        name = control["name"]
        when = condition.get("visiblewhen", "")
        target = condition.get("whentagname", "")
        values = [v for v in condition.get("whenchoicevalue", "").split(",") if v]
        controller = by_name.get(target)
        desc = ", ".join(f'{k}="{v}"' for k, v in condition.items())
        if when != "choice-selected" or controller is None or controller is control:
            state.report(
                element, name, f"Conditional display not translated ({desc}): the control is always shown."
            )
            continue
        if controller["type"] not in ("single_choice", "multiple_choice"):
            state.report(
                element, name, f"Conditional display on a {controller['type']} is not translated ({desc})."
            )
            continue
        possible = [label["value"] for label in controller["labels"]]
        if any(v not in possible for v in values):
            state.report(
                element, name, f"Conditional display not translated: {target!r} has no such choice ({desc})."
            )
            continue
        if len(values or possible) > 1000:
            state.report(
                element, name, f"Conditional display on more than 1000 choices not translated ({desc})."
            )
            continue
        control["show_if"] = {"control": target, "in": values or possible}
    # show_if needs the controller earlier: move each conditional control after its controller.
    ordered: list[dict] = []
    placed: set[str] = set()
    pending = list(state.controls)
    while pending:
        ready = next(
            (c for c in pending if c.get("show_if") is None or c["show_if"]["control"] in placed), None
        )
        if ready is None:  # a cycle: the conditions left are not translated
            for control in pending:
                tag = next((el.tag for c, _, el in state.conditions if c is control), control["type"])
                state.report(tag, control["name"], "Circular conditional display not translated.")
                control.pop("show_if", None)
            continue
        ordered.append(ready)
        placed.add(ready["name"])
        pending.remove(ready)
    state.controls[:] = ordered


def schema_from_labelstudio_config(xml: str | bytes) -> tuple[dict, list[dict]]:
    """Translate a Label Studio labeling config. Raises LabelStudioConfigError when it cannot be read
    or nothing in it can be translated."""
    root = parse_labelstudio_config(xml)
    state = _State()

    # Objects first: controls may come before the object they point at.
    for element in root.iter():
        tag = _lower(element)
        if tag in OBJECT_TYPES or tag in UNSUPPORTED_OBJECTS:
            _add_object(state, element)

    # <Labels> on a video that a <VideoRectangle> uses become that control's labels.
    video_names = {o.name for o in state.objects.values() if o.field_type == "video"}
    rect_targets = {
        _attrs(el).get("toname", "").strip() for el in root.iter() if _lower(el) == "videorectangle"
    }
    state.pending_labels = [
        el
        for el in root.iter()
        if _lower(el) == "labels" and _attrs(el).get("toname", "").strip() in (video_names & rect_targets)
    ]
    state.consumed = {id(el) for el in state.pending_labels}

    relations: list[Element] = []
    consumed_children: set[int] = set()
    inherited_by_id: dict[int, dict] = {}

    def walk(element: Element, inherited: dict) -> None:
        for child in element:
            tag = _lower(child)
            if id(child) in consumed_children:
                continue
            if tag == "view":
                own = {
                    k: v
                    for k, v in _attrs(child).items()
                    if k in ("visiblewhen", "whentagname", "whenchoicevalue")
                }
                walk(child, own or inherited)
            elif tag in OBJECT_TYPES or tag in UNSUPPORTED_OBJECTS:
                if inherited and _attrs(child).get("name", "") in state.objects:
                    state.report(
                        child,
                        _attrs(child)["name"],
                        "Shown conditionally in Label Studio (a <View> with visibleWhen); Tessera always "
                        "shows the item's fields.",
                    )
                walk(child, inherited)
            elif tag in _BUILDERS or tag in UNSUPPORTED_CONTROLS:
                for grandchild in child.iter():
                    consumed_children.add(id(grandchild))
                if id(child) in state.consumed:
                    continue
                if tag == "videorectangle":
                    inherited_by_id[id(child)] = inherited
                    continue  # after the other controls, so its <Labels> are known
                _add_control(state, child, inherited)
            elif tag == "relations":
                for grandchild in child.iter():
                    consumed_children.add(id(grandchild))
                relations.append(child)
            elif tag in CHILD_TAGS:
                state.report(child, _attrs(child).get("value", ""), f"A <{child.tag}> outside its control.")
            elif tag in LAYOUT_TAGS:
                text = _attrs(child).get("value") or (child.text or "").strip()
                if tag in ("header", "style") and text:
                    state.report(
                        child,
                        text[:100],
                        "Layout is not part of a Tessera schema; put instructions in the guidelines.",
                    )
                walk(child, inherited)
            else:
                state.report(
                    child, _attrs(child).get("name", ""), f"Tessera has no equivalent of <{child.tag}>."
                )
                walk(child, inherited)

    walk(root, {})
    # VideoRectangles last (their <Labels> are collected from the whole config).
    for element in root.iter():
        if _lower(element) == "videorectangle" and id(element) in inherited_by_id:
            _add_control(state, element, inherited_by_id[id(element)])
    for element in relations:
        _relations(state, element)
    _conditions(state)

    if not state.controls:
        raise LabelStudioConfigError(
            "nothing_translatable",
            "Nothing in this Label Studio config can be translated into a Tessera control.",
            state.untranslated,
        )
    used = {c["field"] for c in state.controls}
    fields = [f for f in state.fields if f["name"] in used] + [
        f for f in state.fields if f["name"] not in used
    ]
    schema = {"version": SCHEMA_VERSION, "fields": fields, "controls": state.controls}
    issues = validate_schema(schema)
    if issues:  # a bug in this module: say so rather than hand out an invalid schema
        first = issues[0]
        raise LabelStudioConfigError(
            "invalid_result",
            f"The translated schema does not validate ({first.path}: {first.message}); please report this "
            "config to the Tessera maintainers.",
            state.untranslated,
        )
    return schema, state.untranslated
