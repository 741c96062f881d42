"""What every control shares: limits, `Issue`, the JSON Schema fragments, the answer-check helpers,
`AnswerContext` and the `Control` base class.

Pure Python, no Django imports."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

MISSING: Any = object()  # the item's data has no value for a field


MAX_LABELS = 5000


MAX_TEXT_LENGTH = 100_000  # characters of a free-text answer (transcription, demonstration)


MAX_ITEMS = 10_000  # spans, boxes, points, segments ... in one answer


MAX_TAXONOMY_DEPTH = 6


MAX_TAXONOMY_NODES = 10_000


MAX_RATING_STEPS = 101


EPSILON = 1e-9  # tolerance for float comparisons (image borders, rating grid)


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a schema or an annotation. `code` is stable; `message` is for people."""

    path: str
    code: str
    message: str


# JSON Schema fragments shared by controls (spec.py assembles the full document).
NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"}


LABEL = {
    "type": "object",
    "required": ["value"],
    "additionalProperties": False,
    "properties": {
        "value": {"type": "string", "minLength": 1, "maxLength": 100},
        "hotkey": {"type": "string", "minLength": 1, "maxLength": 1},
        "color": {"type": "string", "pattern": "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"},
        "description": {"type": "string", "maxLength": 2000},
    },
}


LABELS = {"type": "array", "minItems": 1, "maxItems": MAX_LABELS, "items": LABEL}


LENGTH = {"type": "integer", "minimum": 0, "maximum": MAX_TEXT_LENGTH}


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def json_scalar(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def check_text_value(value: str, path: str, what: str) -> list[Issue]:
    """Label values are stored as text and always rendered escaped; markup is refused outright so that
    a schema can never carry something that looks like script (and stays readable in exports)."""
    issues = []
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
        issues.append(Issue(path, "control_character", f"The {what} {value!r} contains a control character."))
    if "<" in value or ">" in value:
        issues.append(
            Issue(
                path, "markup_in_label", f"The {what} {value!r} contains '<' or '>'; markup is not allowed."
            )
        )
    if not value.strip():
        issues.append(Issue(path, "blank_label", f"The {what} is blank."))
    return issues


def check_label_list(labels: list[dict], path: str, what: str = "label") -> list[Issue]:
    issues: list[Issue] = []
    seen: set[str] = set()
    for i, label in enumerate(labels):
        value = label["value"]
        issues += check_text_value(value, f"{path}[{i}].value", what)
        if value in seen:
            issues.append(
                Issue(f"{path}[{i}].value", f"duplicate_{what}", f"The {what} {value!r} is listed twice.")
            )
        seen.add(value)
    return issues


@dataclass
class AnswerContext:
    """What an answer is checked against: the item's value for the control's field, the media facts
    (width, height in pixels; duration in seconds; frame_count) and the whole submitted result."""

    data_value: Any
    media: dict
    result: dict
    cache: dict = field(default_factory=dict)


def _labelset(control: dict, key: str = "labels") -> frozenset[str]:
    # Cached on the control dict's identity by the caller's CompiledSchema; plain set build otherwise.
    return frozenset(label["value"] for label in control.get(key, ()))


class Control:
    """Base class. Subclasses set `type`, `field_types`, `options` and override the checks they need."""

    type: ClassVar[str]
    field_types: ClassVar[frozenset[str] | None] = None  # None: any field type
    options: ClassVar[dict[str, Any]] = {}
    required_options: ClassVar[tuple[str, ...]] = ()

    # --- schema side

    def check_options(self, control: dict, path: str, controls_by_name: dict[str, dict]) -> list[Issue]:
        if "labels" in control:
            return check_label_list(control["labels"], f"{path}.labels")
        return []

    def hotkeys(self, control: dict, path: str) -> Iterator[tuple[str, str]]:
        for i, label in enumerate(control.get("labels", ())):
            if "hotkey" in label:
                yield f"{path}.labels[{i}].hotkey", label["hotkey"]

    def answer_values(self, control: dict) -> set | None:
        """The values show_if may compare against, or None when any value is acceptable."""
        return None

    def show_if_atoms(self, value: Any) -> list:
        """The values of an answer that show_if compares (a list answer matches if any element does)."""
        if isinstance(value, list):
            return [v for v in value if json_scalar(v)]
        return [value] if json_scalar(value) or is_number(value) else []

    # --- answer side

    def check_answer(self, control: dict, value: Any, path: str, ctx: AnswerContext) -> list[Issue]:
        raise NotImplementedError

    # --- shared answer helpers

    def labels_of(self, control: dict, ctx: AnswerContext, key: str = "labels") -> frozenset[str]:
        cache_key = (id(control), key)
        labels = ctx.cache.get(cache_key)
        if labels is None:
            labels = ctx.cache[cache_key] = _labelset(control, key)
        return labels

    def check_label(self, control: dict, value: Any, path: str, ctx: AnswerContext) -> list[Issue]:
        if not isinstance(value, str):
            return [Issue(path, "wrong_type", "A label must be a string.")]
        if value not in self.labels_of(control, ctx):
            return [Issue(path, "unknown_label", f"{value!r} is not a label of {control['name']!r}.")]
        return []

    def check_list(self, value: Any, path: str) -> list[Issue]:
        if not isinstance(value, list):
            return [Issue(path, "wrong_type", "Expected a list.")]
        if len(value) > MAX_ITEMS:
            return [Issue(path, "too_many", f"At most {MAX_ITEMS} entries are allowed.")]
        return []

    def check_object(self, item: Any, path: str, required: tuple[str, ...]) -> list[Issue]:
        if not isinstance(item, dict):
            return [Issue(path, "wrong_type", "Expected an object.")]
        return [
            Issue(f"{path}.{key}", "missing_property", f"{key!r} is required.")
            for key in required
            if key not in item
        ]

    def each_object(self, value: list, path: str, required: tuple[str, ...], issues: list[Issue]):
        """Yield (index, path, entry) for every well-formed object of a list answer; the shape
        problems of the others are appended to `issues`."""
        for i, entry in enumerate(value):
            where = f"{path}[{i}]"
            found = self.check_object(entry, where, required)
            if found:
                issues += found
            else:
                yield i, where, entry


def number_issue(item: dict, key: str, path: str) -> list[Issue]:
    if not is_number(item[key]):
        return [Issue(f"{path}.{key}", "wrong_type", f"{key!r} must be a number.")]
    return []
