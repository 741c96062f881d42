"""Label Studio objects and controls, tag by tag, into Tessera fields and controls (`BUILDERS`), and
relations.

Pure Python, no Django."""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element

from projects.schema.controls import (
    MAX_RATING_STEPS,
    MAX_TAXONOMY_DEPTH,
    MAX_TAXONOMY_NODES,
    check_text_value,
)
from projects.schema.spec import MAX_CONTROLS, MAX_FIELDS

from .report import (
    CHILD_TAGS,
    COMMON_ATTRS,
    NAME_RE,
    OBJECT_TYPES,
    UNSUPPORTED_CONTROLS,
    UNSUPPORTED_OBJECTS,
    State,
    TranslatedObject,
    attributes_of,
    descendants,
    is_true,
    labels_of,
    lower_tag,
    report_extra_attrs,
)


def add_object(state: State, element: Element) -> None:
    attrs = attributes_of(element)
    tag = lower_tag(element)
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
    state.objects[name] = TranslatedObject(element.tag, name, field_name, field_type)
    if tag == "paragraphs":
        state.report(
            element,
            name,
            "Shown as JSON: Label Studio paragraphs are {author, text} entries, Tessera conversations "
            "{role, content} turns.",
        )
    # valueType="url" (the data holds a link to the text) and every display option are reported.
    report_extra_attrs(state, element, name, {"name", "value"})


def _target(state: State, element: Element, name: str, allowed: tuple[str, ...]) -> TranslatedObject | None:
    to_name = attributes_of(element).get("toname", "")
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


def _base(state: State, element: Element, name: str, kind: str, obj: TranslatedObject) -> dict:
    control: dict[str, Any] = {"name": name, "type": kind, "field": obj.field_name}
    if is_true(attributes_of(element).get("required")):
        control["required"] = True
    return control


def add_control(state: State, element: Element, inherited: dict) -> None:
    tag = lower_tag(element)
    attrs = attributes_of(element)
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
    if is_true(attrs.get("perregion")):
        state.report(
            element,
            name,
            "perRegion: Tessera controls answer the whole item, not a region; a per-region "
            f"<{element.tag}> is not translated.",
        )
        return
    builder = BUILDERS[tag]
    result = builder(state, element, name)
    if result is None:
        return
    control, handled = result
    state.controls.append(control)
    report_extra_attrs(state, element, name, COMMON_ATTRS | handled)
    for inner in element.iter():
        if inner is not element and lower_tag(inner) not in CHILD_TAGS | {"view"}:
            state.report(inner, name, f"<{inner.tag}> inside <{element.tag}> is not translated.")
    condition = {k: v for k, v in attrs.items() if k in ("visiblewhen", "whentagname", "whenchoicevalue")}
    condition = condition or inherited
    if condition:
        state.conditions.append((control, condition, element))


def _choices(state, element, name):
    attrs = attributes_of(element)
    obj = _target(state, element, name, ANY)
    if obj is None:
        return None
    choice = attrs.get("choice", "single").lower()
    kind = "multiple_choice" if choice == "multiple" else "single_choice"
    labels = labels_of(state, element, name, ("choice",))
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
        labels = labels_of(state, element, name)
        if not labels:
            state.report(element, name, "No label could be translated, so the control is not translated.")
            return None
        kind = kind_by_field[obj.field_type]
        control = _base(state, element, name, kind, obj)
        control["labels"] = labels
        if kind in ("spans", "audio_segments", "video_segments"):
            control["allow_overlap"] = True  # Label Studio lets regions overlap
        if (
            lower_tag(element) == "labels"
            and attributes_of(element).get("choice", "single").lower() == "multiple"
        ):
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
    points = labels_of(state, element, name, limit=200)  # at most 200 keypoints
    if not points:
        state.report(
            element, name, "No keypoint label could be translated, so the control is not translated."
        )
        return None
    control = _base(state, element, name, "keypoints", obj)
    control["keypoints"] = points
    return control, set()


def _textarea(state, element, name):
    attrs = attributes_of(element)
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
    attrs = attributes_of(element)
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
    attrs = attributes_of(element)
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
    attrs = attributes_of(element)
    obj = _target(state, element, name, ANY)
    if obj is None:
        return None

    count = 0

    def nodes(parent: Element, depth: int, prefix: str) -> list[dict]:
        nonlocal count
        out, seen = [], set()
        for child in parent:
            if lower_tag(child) != "choice":
                continue
            a = attributes_of(child)
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
            report_extra_attrs(state, child, where, {"value", "alias"})
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
    if is_true(attrs.get("leafsonly")):
        state.report(element, name, 'leafsOnly="true": Tessera taxonomies accept any node, not only leaves.')
    return control, {"maxusages", "leafsonly"}


def _ranker(state, element, name):
    obj = _target(state, element, name, ("candidates",))
    if obj is None:
        return None
    if descendants(element, "bucket"):
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
    to_name = attributes_of(element).get("toname", "")
    root_labels = [
        el for el in state.pending_labels if attributes_of(el).get("toname", "").strip() == to_name.strip()
    ]
    if not root_labels:
        state.report(
            element, name, "A <VideoRectangle> without <Labels> on its video has no Tessera equivalent."
        )
        return None
    labels: list[dict] = []
    for el in root_labels:
        report_extra_attrs(state, el, attributes_of(el).get("name", ""), {"name", "toname"})
        labels += [lb for lb in labels_of(state, el, name) if lb["value"] not in {x["value"] for x in labels}]
    if not labels:
        state.report(element, name, "No label could be translated, so the control is not translated.")
        return None
    control = _base(state, element, name, "video_bbox", obj)
    control["labels"] = labels
    return control, set()


BUILDERS = {
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


def add_relations(state: State, element: Element) -> None:
    attrs = attributes_of(element)
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
    labels = labels_of(state, element, name, ("relation",))
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
    report_extra_attrs(state, element, name, {"name", "choice"})
