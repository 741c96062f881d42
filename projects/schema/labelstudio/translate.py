"""`schema_from_labelstudio_config`: the walk over a parsed config, conditional display (show_if), and
the final schema, validated.

Pure Python, no Django."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from projects.schema.spec import SCHEMA_VERSION
from projects.schema.validate import validate_schema

from .builders import BUILDERS, add_control, add_object, add_relations
from .parse import LabelStudioConfigError, parse_labelstudio_config
from .report import (
    CHILD_TAGS,
    LAYOUT_TAGS,
    OBJECT_TYPES,
    UNSUPPORTED_CONTROLS,
    UNSUPPORTED_OBJECTS,
    State,
    attributes_of,
    lower_tag,
)


def _conditions(state: State) -> None:
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
    state = State()

    # Objects first: controls may come before the object they point at.
    for element in root.iter():
        tag = lower_tag(element)
        if tag in OBJECT_TYPES or tag in UNSUPPORTED_OBJECTS:
            add_object(state, element)

    # <Labels> on a video that a <VideoRectangle> uses become that control's labels.
    video_names = {o.name for o in state.objects.values() if o.field_type == "video"}
    rect_targets = {
        attributes_of(el).get("toname", "").strip() for el in root.iter() if lower_tag(el) == "videorectangle"
    }
    state.pending_labels = [
        el
        for el in root.iter()
        if lower_tag(el) == "labels"
        and attributes_of(el).get("toname", "").strip() in (video_names & rect_targets)
    ]
    state.consumed = {id(el) for el in state.pending_labels}

    relations: list[Element] = []
    consumed_children: set[int] = set()
    inherited_by_id: dict[int, dict] = {}

    def walk(element: Element, inherited: dict) -> None:
        for child in element:
            tag = lower_tag(child)
            if id(child) in consumed_children:
                continue
            if tag == "view":
                own = {
                    k: v
                    for k, v in attributes_of(child).items()
                    if k in ("visiblewhen", "whentagname", "whenchoicevalue")
                }
                walk(child, own or inherited)
            elif tag in OBJECT_TYPES or tag in UNSUPPORTED_OBJECTS:
                if inherited and attributes_of(child).get("name", "") in state.objects:
                    state.report(
                        child,
                        attributes_of(child)["name"],
                        "Shown conditionally in Label Studio (a <View> with visibleWhen); Tessera always "
                        "shows the item's fields.",
                    )
                walk(child, inherited)
            elif tag in BUILDERS or tag in UNSUPPORTED_CONTROLS:
                for grandchild in child.iter():
                    consumed_children.add(id(grandchild))
                if id(child) in state.consumed:
                    continue
                if tag == "videorectangle":
                    inherited_by_id[id(child)] = inherited
                    continue  # after the other controls, so its <Labels> are known
                add_control(state, child, inherited)
            elif tag == "relations":
                for grandchild in child.iter():
                    consumed_children.add(id(grandchild))
                relations.append(child)
            elif tag in CHILD_TAGS:
                state.report(
                    child, attributes_of(child).get("value", ""), f"A <{child.tag}> outside its control."
                )
            elif tag in LAYOUT_TAGS:
                text = attributes_of(child).get("value") or (child.text or "").strip()
                if tag in ("header", "style") and text:
                    state.report(
                        child,
                        text[:100],
                        "Layout is not part of a Tessera schema; put instructions in the guidelines.",
                    )
                walk(child, inherited)
            else:
                state.report(
                    child,
                    attributes_of(child).get("name", ""),
                    f"Tessera has no equivalent of <{child.tag}>.",
                )
                walk(child, inherited)

    walk(root, {})
    # VideoRectangles last (their <Labels> are collected from the whole config).
    for element in root.iter():
        if lower_tag(element) == "videorectangle" and id(element) in inherited_by_id:
            add_control(state, element, inherited_by_id[id(element)])
    for element in relations:
        add_relations(state, element)
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
