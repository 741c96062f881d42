"""What the translation knows about Label Studio tags, its state, and the helpers that read
attributes and labels and report what cannot be expressed (`State.report`).

Pure Python, no Django."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from projects.schema.controls import (
    MAX_LABELS,
    check_text_value,
)

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
COMMON_ATTRS = {"name", "toname", "required", "visiblewhen", "whentagname", "whenchoicevalue", "perregion"}


_LABEL_ATTRS = {"value", "alias", "hotkey", "background", "hint"}


@dataclass
class TranslatedObject:
    tag: str
    name: str
    field_name: str
    field_type: str


@dataclass
class State:
    untranslated: list[dict] = field(default_factory=list)
    fields: list[dict] = field(default_factory=list)
    objects: dict[str, TranslatedObject] = field(default_factory=dict)
    controls: list[dict] = field(default_factory=list)
    hotkeys: set[str] = field(default_factory=set)
    # (control dict, raw condition) for show_if resolved once every control exists
    conditions: list[tuple[dict, dict, Element]] = field(default_factory=list)
    pending_labels: list[Element] = field(default_factory=list)  # <Labels> of a <VideoRectangle>
    consumed: set[int] = field(default_factory=set)  # ids of elements translated as part of another

    def report(self, element: Element | str, name: str, reason: str) -> None:
        tag = element if isinstance(element, str) else element.tag
        self.untranslated.append({"tag": tag, "name": name, "reason": reason})


def lower_tag(element: Element) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def attributes_of(element: Element) -> dict[str, str]:
    return {key.lower(): value for key, value in element.attrib.items()}


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def descendants(element: Element, *tags: str) -> list[Element]:
    return [node for node in element.iter() if node is not element and lower_tag(node) in tags]


def report_extra_attrs(state: State, element: Element, name: str, handled: set[str]) -> None:
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


def labels_of(
    state: State, control: Element, name: str, tags=("label",), limit: int = MAX_LABELS
) -> list[dict]:
    """The <Label>/<Choice> children as Tessera labels: value = alias or value (what Label Studio
    stores in results), the shown text as description when an alias replaces it."""
    out: list[dict] = []
    seen: set[str] = set()
    for child in descendants(control, *tags):
        attrs = attributes_of(child)
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
        report_extra_attrs(state, child, where, _LABEL_ATTRS)
        out.append(label)
    return out


def _hotkey(state: State, element: Element, where: str, hotkey: str | None, target: dict) -> None:
    if not hotkey:
        return
    if len(hotkey) != 1 or not hotkey.isprintable() or hotkey.isspace():
        state.report(element, where, f"The hotkey {hotkey!r} is not translated: Tessera hotkeys are one key.")
    elif hotkey.lower() in state.hotkeys:
        state.report(element, where, f"The hotkey {hotkey!r} is used twice; the second is not translated.")
    else:
        state.hotkeys.add(hotkey.lower())
        target["hotkey"] = hotkey
