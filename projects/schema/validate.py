"""validate_schema() and validate_annotation(): pure functions returning lists of issues.

An empty list means valid. Callers (projects.services.schema_version_create, the annotation submit
service) turn a non-empty list into a DomainError; nothing here touches the database.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from .controls import CONTROLS, AnswerContext, Issue, check_text_value, is_empty, iter_hotkeys
from .spec import LABEL_SCHEMA_JSON_SCHEMA

SchemaIssue = Issue
AnnotationIssue = Issue

MAX_NESTING = 32  # JSON nesting depth of a definition; checked before jsonschema recurses into it

_MESSAGES = {
    "required": ("missing_property", "This property is required."),
    "additionalProperties": ("unknown_property", "This property is not allowed here."),
    "type": ("wrong_type", "Wrong type: expected {validator_value}."),
    "enum": ("invalid_value", "Must be one of: {choices}."),
    "const": ("invalid_value", "Must be {validator_value!r}."),
    "pattern": ("invalid_name", "A name starts with a letter or _ and has at most 64 letters, digits or _."),
    "minLength": ("too_short", "Must have at least {validator_value} character(s)."),
    "maxLength": ("too_long", "Must have at most {validator_value} characters."),
    "minItems": ("too_short", "Must have at least {validator_value} item(s)."),
    "maxItems": ("too_many", "Must have at most {validator_value} items."),
    "minimum": ("out_of_range", "Must be at least {validator_value}."),
    "maximum": ("out_of_range", "Must be at most {validator_value}."),
    "uniqueItems": ("duplicate_value", "Items must be unique."),
    "oneOf": ("invalid_value", "Give exactly one of the alternatives (for show_if: 'equals' or 'in')."),
}


def format_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@cache
def _validator():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(LABEL_SCHEMA_JSON_SCHEMA)
    return Draft202012Validator(LABEL_SCHEMA_JSON_SCHEMA)


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            return True
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _structural_issues(definition: dict) -> list[Issue]:
    issues = []
    for error in _validator().iter_errors(definition):
        path = list(error.absolute_path)
        code, template = _MESSAGES.get(error.validator, ("invalid_value", "Invalid value."))
        value = error.validator_value
        if error.validator == "required":
            for key in value:
                if isinstance(error.instance, dict) and key not in error.instance:
                    issues.append(Issue(format_path([*path, key]), code, f"{key!r} is required."))
            continue
        if error.validator == "additionalProperties":
            allowed = error.schema.get("properties", {})
            for key in error.instance:
                if key not in allowed:
                    issues.append(Issue(format_path([*path, key]), code, f"{key!r} is not an option here."))
            continue
        if error.validator == "pattern" and path and path[-1] not in ("name", "field", "control", "spans"):
            code, template = "invalid_format", "Wrong format."
        if error.validator == "enum":
            message = template.format(choices=", ".join(map(str, value)))
        else:
            message = template.format(validator_value=value)
        issues.append(Issue(format_path(path), code, message))
    return sorted(set(issues), key=lambda i: (i.path, i.code))


def validate_schema(definition: Any) -> list[Issue]:
    """Check a label schema definition: structure against the published JSON Schema, then the rules a
    JSON Schema cannot express (unique names, field compatibility, labels, hotkeys, show_if, ...)."""
    if not isinstance(definition, dict):
        return [Issue("", "wrong_type", "A label schema is a JSON object.")]
    if _too_deep(definition):
        return [Issue("", "too_deep", f"A label schema may be nested at most {MAX_NESTING} levels deep.")]
    issues = _structural_issues(definition)
    if issues:
        return issues  # the semantic rules below rely on the structure being right

    fields: dict[str, dict] = {}
    for i, field in enumerate(definition["fields"]):
        if field["name"] in fields:
            issues.append(
                Issue(f"fields[{i}].name", "duplicate_name", f"The field {field['name']!r} is defined twice.")
            )
        fields.setdefault(field["name"], field)

    controls: dict[str, dict] = {}
    order: dict[str, int] = {}
    for i, control in enumerate(definition["controls"]):
        name = control["name"]
        if name in controls:
            issues.append(
                Issue(f"controls[{i}].name", "duplicate_name", f"The control {name!r} is defined twice.")
            )
        else:
            controls[name], order[name] = control, i

    for i, control in enumerate(definition["controls"]):
        path, kind = f"controls[{i}]", CONTROLS[control["type"]]
        field = fields.get(control["field"])
        if field is None:
            issues.append(Issue(f"{path}.field", "unknown_field", f"There is no field {control['field']!r}."))
        elif kind.field_types is not None and field["type"] not in kind.field_types:
            expected = " or ".join(sorted(kind.field_types))
            message = (
                f"A {kind.type} control answers a {expected} field; {field['name']!r} is {field['type']}."
            )
            issues.append(Issue(f"{path}.field", "incompatible_field", message))
        issues += kind.check_options(control, path, controls)
        issues += _show_if_issues(control, path, i, controls, order)

    seen: dict[str, str] = {}
    for where, key in iter_hotkeys((f"controls[{i}]", c) for i, c in enumerate(definition["controls"])):
        if not key.isprintable() or key.isspace():
            issues.append(Issue(where, "invalid_hotkey", "A hotkey is one visible character."))
        elif key.lower() in seen:
            issues.append(
                Issue(
                    where, "duplicate_hotkey", f"The hotkey {key!r} is already used at {seen[key.lower()]}."
                )
            )
        else:
            seen[key.lower()] = where
    for i, field in enumerate(definition["fields"]):
        if "title" in field:
            issues += check_text_value(field["title"], f"fields[{i}].title", "title")
    return issues


def _show_if_issues(control: dict, path: str, index: int, controls: dict, order: dict) -> list[Issue]:
    rule = control.get("show_if")
    if rule is None:
        return []
    target = controls.get(rule["control"])
    if target is None or order[rule["control"]] >= index:
        return [
            Issue(
                f"{path}.show_if.control",
                "invalid_show_if",
                f"{rule['control']!r} is not an earlier control.",
            )
        ]
    allowed = CONTROLS[target["type"]].answer_values(target)
    if allowed is None:
        return []
    wanted = [rule["equals"]] if "equals" in rule else rule["in"]
    issues = []
    for value in wanted:
        if isinstance(value, bool) or (round(value, 9) if isinstance(value, float) else value) not in allowed:
            where = (
                f"{path}.show_if.equals"
                if "equals" in rule
                else f"{path}.show_if.in[{rule['in'].index(value)}]"
            )
            issues.append(
                Issue(where, "unknown_show_if_value", f"{rule['control']!r} can never answer {value!r}.")
            )
    return issues


def validate_annotation(
    definition: dict, data: dict, result: Any, *, media: dict | None = None
) -> list[Issue]:
    """Check one annotation `result` ({control name: answer}) for item `data` against a schema that
    passed validate_schema(). `media` describes the item's media file: width and height in pixels,
    duration in seconds, frame_count. Facts that are not given are not checked."""
    if not isinstance(result, dict):
        return [Issue("", "wrong_type", "An annotation result is an object: {control name: answer}.")]
    controls = definition["controls"]
    names = {control["name"] for control in controls}
    issues = [
        Issue(str(key), "unknown_control", f"The schema has no control {key!r}.")
        for key in result
        if key not in names
    ]
    sources = {field["name"]: field.get("source", field["name"]) for field in definition["fields"]}
    data = data if isinstance(data, dict) else {}
    ctx = AnswerContext(data_value=None, media=media or {}, result=result)
    visible: dict[str, dict] = {}
    for control in controls:
        name = control["name"]
        value = result.get(name)
        if not _shown(control, result, visible):
            if not is_empty(value):
                issues.append(
                    Issue(name, "hidden_answered", f"{name!r} is hidden by its show_if and must be empty.")
                )
            continue
        visible[name] = control
        if is_empty(value):
            if control.get("required"):
                issues.append(Issue(name, "missing_required", f"{name!r} is required."))
            continue
        ctx.data_value = data.get(sources[control["field"]])
        issues += CONTROLS[control["type"]].check_answer(control, value, name, ctx)
    return issues


def _shown(control: dict, result: dict, visible: dict[str, dict]) -> bool:
    """show_if is evaluated against the submitted result; a control whose controller is hidden or
    unanswered is hidden too. A list answer matches when any of its values does."""
    rule = control.get("show_if")
    if rule is None:
        return True
    target = visible.get(rule["control"])
    answer = result.get(rule["control"])
    if target is None or is_empty(answer):
        return False
    atoms = CONTROLS[target["type"]].show_if_atoms(answer)
    wanted = [rule["equals"]] if "equals" in rule else rule["in"]
    return any(value in atoms for value in wanted)
