"""One class per control type: the JSON Schema of its options, the semantic checks of those options
and the validation of its answers. A new control is one class here plus one line in CONTROLS.

Pure Python, no Django imports. Answers are checked against a schema that already passed
validate_schema(); the checks here never trust the answer's shape.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
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


# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# Helpers


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _json_scalar(value: Any) -> bool:
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
            return [v for v in value if _json_scalar(v)]
        return [value] if _json_scalar(value) or is_number(value) else []

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


def _number_issue(item: dict, key: str, path: str) -> list[Issue]:
    if not is_number(item[key]):
        return [Issue(f"{path}.{key}", "wrong_type", f"{key!r} must be a number.")]
    return []


# ---------------------------------------------------------------------------------------------
# Choice-like controls


class SingleChoice(Control):
    type = "single_choice"
    # ordered: the labels are a scale in schema order (e.g. poor < fair < good): agreement is ordinal.
    options = {"labels": LABELS, "ordered": {"type": "boolean"}}
    required_options = ("labels",)

    def answer_values(self, control):
        return {label["value"] for label in control["labels"]}

    def check_answer(self, control, value, path, ctx):
        return self.check_label(control, value, path, ctx)


class MultipleChoice(Control):
    type = "multiple_choice"
    options = {"labels": LABELS}
    required_options = ("labels",)

    def answer_values(self, control):
        return {label["value"] for label in control["labels"]}

    def check_answer(self, control, value, path, ctx):
        issues = self.check_list(value, path)
        if issues:
            return issues
        seen = set()
        for i, item in enumerate(value):
            issues += self.check_label(control, item, f"{path}[{i}]", ctx)
            if isinstance(item, str) and item in seen:
                issues.append(Issue(f"{path}[{i}]", "duplicate_value", f"{item!r} is chosen twice."))
            seen.add(item) if isinstance(item, str) else None
        return issues


class ImageClass(MultipleChoice):
    type = "image_class"
    field_types = frozenset({"image"})
    options = {"labels": LABELS, "multiple": {"type": "boolean"}}

    def check_answer(self, control, value, path, ctx):
        if control.get("multiple"):
            return super().check_answer(control, value, path, ctx)
        return self.check_label(control, value, path, ctx)


TAXONOMY_NODE = {
    "type": "object",
    "required": ["value"],
    "additionalProperties": False,
    "properties": {
        "value": {"type": "string", "minLength": 1, "maxLength": 100},
        "description": {"type": "string", "maxLength": 2000},
        "children": {"type": "array", "items": {"$ref": "#/$defs/taxonomy_node"}},
    },
}


def _taxonomy_paths(nodes: list[dict]) -> set[tuple[str, ...]]:
    paths: set[tuple[str, ...]] = set()
    stack: list[tuple[tuple[str, ...], list[dict]]] = [((), nodes)]
    while stack:
        prefix, children = stack.pop()
        for node in children:
            path = (*prefix, node["value"])
            paths.add(path)
            if node.get("children"):
                stack.append((path, node["children"]))
    return paths


class Taxonomy(Control):
    type = "taxonomy"
    options = {
        "choices": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/taxonomy_node"}},
        "multiple": {"type": "boolean"},
    }
    required_options = ("choices",)

    def check_options(self, control, path, controls_by_name):
        issues: list[Issue] = []
        count = 0
        # Iterative walk: a hostile tree cannot exhaust the stack.
        stack: list[tuple[str, list[dict], int]] = [(f"{path}.choices", control["choices"], 1)]
        while stack:
            where, nodes, depth = stack.pop()
            if depth > MAX_TAXONOMY_DEPTH:
                issues.append(
                    Issue(where, "too_deep", f"A taxonomy may be at most {MAX_TAXONOMY_DEPTH} levels deep.")
                )
                continue
            count += len(nodes)
            issues += check_label_list(nodes, where)
            for i, node in enumerate(nodes):
                if node.get("children"):
                    stack.append((f"{where}[{i}].children", node["children"], depth + 1))
        if count > MAX_TAXONOMY_NODES:
            issues.append(
                Issue(
                    f"{path}.choices", "too_many", f"A taxonomy may have at most {MAX_TAXONOMY_NODES} nodes."
                )
            )
        return issues

    def show_if_atoms(self, value):
        # show_if on a taxonomy compares the chosen leaf value(s).
        if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            return [v[-1] for v in value if v and isinstance(v[-1], str)]
        if isinstance(value, list) and value and isinstance(value[-1], str):
            return [value[-1]]
        return []

    def _check_path(self, control, item, path, ctx):
        if not isinstance(item, list) or not item or not all(isinstance(v, str) for v in item):
            return [
                Issue(path, "wrong_type", "A taxonomy answer is a non-empty list of values from the root.")
            ]
        key = (id(control), "paths")
        paths = ctx.cache.get(key)
        if paths is None:
            paths = ctx.cache[key] = _taxonomy_paths(control["choices"])
        if tuple(item) not in paths:
            return [Issue(path, "unknown_label", f"{' / '.join(item)!r} is not a path in the taxonomy.")]
        return []

    def check_answer(self, control, value, path, ctx):
        if not control.get("multiple"):
            return self._check_path(control, value, path, ctx)
        issues = self.check_list(value, path)
        if issues:
            return issues
        seen = set()
        for i, item in enumerate(value):
            found = self._check_path(control, item, f"{path}[{i}]", ctx)
            issues += found
            if not found:
                if tuple(item) in seen:
                    issues.append(Issue(f"{path}[{i}]", "duplicate_value", "This path is chosen twice."))
                seen.add(tuple(item))
        return issues


# ---------------------------------------------------------------------------------------------
# Text controls


def _overlaps(intervals: list[tuple[float, float, int]]) -> list[int]:
    """Indexes (in the caller's list) of intervals that overlap an earlier-starting one."""
    bad = []
    furthest = -math.inf
    for start, end, index in sorted(intervals):
        if start < furthest:
            bad.append(index)
        furthest = max(furthest, end)
    return sorted(bad)


class Spans(Control):
    type = "spans"
    field_types = frozenset({"text", "rich_text"})
    options = {"labels": LABELS, "allow_overlap": {"type": "boolean"}}
    required_options = ("labels",)

    def check_answer(self, control, value, path, ctx):
        text = ctx.data_value
        if not isinstance(text, str):
            return [Issue(path, "invalid_data", "The item has no text for this control's field.")]
        issues = self.check_list(value, path)
        if issues:
            return issues
        length = len(text)  # Python str length: Unicode code points
        ids: set[str] = set()
        intervals: list[tuple[int, int, int]] = []
        seen_spans: set[tuple[int, int, str]] = set()
        for i, where, span in self.each_object(value, path, ("id", "start", "end", "label"), issues):
            span_id, start, end = span["id"], span["start"], span["end"]
            if not isinstance(span_id, str) or not span_id:
                issues.append(Issue(f"{where}.id", "wrong_type", "A span id is a non-empty string."))
            elif span_id in ids:
                issues.append(Issue(f"{where}.id", "duplicate_id", f"The id {span_id!r} is used twice."))
            else:
                ids.add(span_id)
            issues += self.check_label(control, span["label"], f"{where}.label", ctx)
            if not isinstance(start, int) or isinstance(start, bool):
                issues.append(Issue(f"{where}.start", "wrong_type", "start must be an integer."))
                continue
            if not isinstance(end, int) or isinstance(end, bool):
                issues.append(Issue(f"{where}.end", "wrong_type", "end must be an integer."))
                continue
            if start < 0 or start > length:
                issues.append(Issue(f"{where}.start", "out_of_bounds", f"start must be within 0..{length}."))
                continue
            if end > length:
                issues.append(Issue(f"{where}.end", "out_of_bounds", f"end must be at most {length}."))
                continue
            if end <= start:
                issues.append(Issue(f"{where}.end", "empty_range", "end must be greater than start."))
                continue
            if "text" in span and span["text"] != text[start:end]:
                issues.append(
                    Issue(
                        f"{where}.text",
                        "text_mismatch",
                        f"The text at {start}..{end} is {text[start:end]!r}.",
                    )
                )
            key = (start, end, span["label"])
            if key in seen_spans:
                issues.append(Issue(where, "duplicate_span", "The same span and label are given twice."))
            seen_spans.add(key)
            intervals.append((start, end, i))
        if not control.get("allow_overlap"):
            for i in _overlaps(intervals):
                issues.append(Issue(f"{path}[{i}]", "overlap", "Spans may not overlap in this control."))
        return issues


class Relations(Control):
    type = "relations"
    field_types = frozenset({"text", "rich_text"})
    options = {"spans": NAME, "labels": LABELS, "directed": {"type": "boolean"}}
    required_options = ("spans", "labels")

    def check_options(self, control, path, controls_by_name):
        issues = super().check_options(control, path, controls_by_name)
        target = controls_by_name.get(control["spans"])
        if target is None or target["type"] != "spans":
            issues.append(
                Issue(f"{path}.spans", "invalid_reference", f"{control['spans']!r} is not a spans control.")
            )
        elif target.get("field") != control.get("field"):
            issues.append(
                Issue(
                    f"{path}.field",
                    "field_mismatch",
                    "A relations control must answer its spans control's field.",
                )
            )
        return issues

    def check_answer(self, control, value, path, ctx):
        issues = self.check_list(value, path)
        if issues:
            return issues
        spans = ctx.result.get(control["spans"])
        ids = (
            {s["id"] for s in spans if isinstance(s, dict) and isinstance(s.get("id"), str)}
            if isinstance(spans, list)
            else set()
        )
        seen = set()
        for _, where, rel in self.each_object(value, path, ("from", "to", "label"), issues):
            for end in ("from", "to"):
                if rel[end] not in ids:
                    issues.append(
                        Issue(f"{where}.{end}", "unknown_span", f"No span has the id {rel[end]!r}.")
                    )
            if rel["from"] == rel["to"]:
                issues.append(Issue(where, "self_relation", "A relation must join two different spans."))
            issues += self.check_label(control, rel["label"], f"{where}.label", ctx)
            key = (str(rel["from"]), str(rel["to"]), str(rel["label"]))
            if key in seen:
                issues.append(Issue(where, "duplicate_relation", "The same relation is given twice."))
            seen.add(key)
        return issues


class _FreeText(Control):
    options = {
        "min_length": LENGTH,
        "max_length": LENGTH,
        "placeholder": {"type": "string", "maxLength": 200},
    }

    def check_options(self, control, path, controls_by_name):
        if control.get("min_length", 0) > control.get("max_length", MAX_TEXT_LENGTH):
            return [Issue(f"{path}.min_length", "invalid_range", "min_length must not exceed max_length.")]
        return []

    def check_answer(self, control, value, path, ctx):
        if not isinstance(value, str):
            return [Issue(path, "wrong_type", "Expected a string.")]
        low, high = control.get("min_length", 0), control.get("max_length", MAX_TEXT_LENGTH)
        if len(value) < low:
            return [Issue(path, "too_short", f"At least {low} characters are required.")]
        if len(value) > high:
            return [Issue(path, "too_long", f"At most {high} characters are allowed.")]
        if "\x00" in value:
            return [Issue(path, "control_character", "NUL characters are not allowed.")]
        return []


class Text(_FreeText):
    type = "text"


NO_SPEECH = {"no_speech": True}  # a transcription's answer for a clip in which nothing is said


class Transcription(_FreeText):
    """A string with something written in it, or ``{"no_speech": true}``: the clip was listened to
    and nothing is said. Whitespace alone is neither (``empty_transcription``), and ``""`` is "not
    answered" like for every control, so an empty transcript can never pass for either."""

    type = "transcription"
    field_types = frozenset({"audio"})

    def check_answer(self, control, value, path, ctx):
        if isinstance(value, dict):
            if value == NO_SPEECH:
                return []
            return [Issue(path, "wrong_type", 'Expected a string, or {"no_speech": true}.')]
        if isinstance(value, str) and not value.strip():
            return [
                Issue(
                    path,
                    "empty_transcription",
                    'Write what is said, or mark the clip as no speech ({"no_speech": true}).',
                )
            ]
        return super().check_answer(control, value, path, ctx)


# ---------------------------------------------------------------------------------------------
# Image controls


def _image_size(ctx: AnswerContext) -> tuple[float, float] | None:
    width, height = ctx.media.get("width"), ctx.media.get("height")
    if is_number(width) and is_number(height):
        return width, height
    return None


def _check_box(item: dict, where: str, size: tuple[float, float] | None) -> list[Issue]:
    issues: list[Issue] = []
    for key in ("x", "y", "width", "height"):
        issues += _number_issue(item, key, where)
    if issues:
        return issues
    x, y, w, h = item["x"], item["y"], item["width"], item["height"]
    if w <= 0 or h <= 0:
        return [
            Issue(f"{where}.{'width' if w <= 0 else 'height'}", "empty_range", "A box has a positive size.")
        ]
    if x < -EPSILON or y < -EPSILON:
        return [
            Issue(
                f"{where}.{'x' if x < -EPSILON else 'y'}", "out_of_bounds", "A box starts inside the image."
            )
        ]
    if size:
        if x + w > size[0] + EPSILON:
            issues.append(
                Issue(f"{where}.width", "out_of_bounds", f"The box ends past the image width {size[0]}.")
            )
        if y + h > size[1] + EPSILON:
            issues.append(
                Issue(f"{where}.height", "out_of_bounds", f"The box ends past the image height {size[1]}.")
            )
    return issues


def _check_point(point: Any, where: str, size: tuple[float, float] | None) -> list[Issue]:
    if not isinstance(point, list) or len(point) != 2 or not all(is_number(v) for v in point):
        return [Issue(where, "wrong_type", "A point is [x, y] with two numbers.")]
    x, y = point
    if x < -EPSILON or y < -EPSILON or (size and (x > size[0] + EPSILON or y > size[1] + EPSILON)):
        return [Issue(where, "out_of_bounds", "The point lies outside the image.")]
    return []


class BBox(Control):
    type = "bbox"
    field_types = frozenset({"image"})
    options = {"labels": LABELS}
    required_options = ("labels",)

    def check_answer(self, control, value, path, ctx):
        issues = self.check_list(value, path)
        if issues:
            return issues
        size = _image_size(ctx)
        for _, where, box in self.each_object(value, path, ("x", "y", "width", "height", "label"), issues):
            issues += _check_box(box, where, size)
            issues += self.check_label(control, box["label"], f"{where}.label", ctx)
        return issues


MAX_POLYGON_POINTS = 1000


class Polygon(Control):
    type = "polygon"
    field_types = frozenset({"image"})
    options = {"labels": LABELS}
    required_options = ("labels",)

    def check_answer(self, control, value, path, ctx):
        issues = self.check_list(value, path)
        if issues:
            return issues
        size = _image_size(ctx)
        for _, where, polygon in self.each_object(value, path, ("points", "label"), issues):
            issues += self.check_label(control, polygon["label"], f"{where}.label", ctx)
            points = polygon["points"]
            if not isinstance(points, list) or not 3 <= len(points) <= MAX_POLYGON_POINTS:
                issues.append(
                    Issue(f"{where}.points", "wrong_size", f"A polygon has 3 to {MAX_POLYGON_POINTS} points.")
                )
                continue
            point_issues = [
                issue for j, p in enumerate(points) for issue in _check_point(p, f"{where}.points[{j}]", size)
            ]
            issues += point_issues
            if point_issues:
                continue
            area = sum(
                points[j - 1][0] * points[j][1] - points[j][0] * points[j - 1][1] for j in range(len(points))
            )
            if abs(area) / 2 <= EPSILON:
                issues.append(Issue(f"{where}.points", "degenerate_polygon", "The polygon has no area."))
        return issues


KEYPOINT = {
    "type": "object",
    "required": ["value"],
    "additionalProperties": False,
    "properties": LABEL["properties"],
}


class Keypoints(Control):
    type = "keypoints"
    field_types = frozenset({"image"})
    options = {
        "keypoints": {"type": "array", "minItems": 1, "maxItems": 200, "items": KEYPOINT},
        "skeleton": {
            "type": "array",
            "maxItems": 1000,
            "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "string"}},
        },
        "labels": LABELS,
    }
    required_options = ("keypoints",)

    def check_options(self, control, path, controls_by_name):
        issues = super().check_options(control, path, controls_by_name)
        issues += check_label_list(control["keypoints"], f"{path}.keypoints", "keypoint")
        names = {k["value"] for k in control["keypoints"]}
        for i, edge in enumerate(control.get("skeleton", ())):
            for j, name in enumerate(edge):
                if name not in names:
                    issues.append(
                        Issue(
                            f"{path}.skeleton[{i}][{j}]", "unknown_keypoint", f"{name!r} is not a keypoint."
                        )
                    )
            if edge[0] == edge[1]:
                issues.append(
                    Issue(f"{path}.skeleton[{i}]", "self_edge", "An edge joins two different keypoints.")
                )
        return issues

    def hotkeys(self, control, path):
        yield from super().hotkeys(control, path)
        for i, point in enumerate(control["keypoints"]):
            if "hotkey" in point:
                yield f"{path}.keypoints[{i}].hotkey", point["hotkey"]

    def check_answer(self, control, value, path, ctx):
        issues = self.check_list(value, path)
        if issues:
            return issues
        size = _image_size(ctx)
        names = self.labels_of(control, ctx, "keypoints")
        for i, instance in enumerate(value):
            where = f"{path}[{i}]"
            found = self.check_object(
                instance, where, ("points", "label") if "labels" in control else ("points",)
            )
            if found:
                issues += found
                continue
            if "labels" in control:
                issues += self.check_label(control, instance["label"], f"{where}.label", ctx)
            points = instance["points"]
            if not isinstance(points, list) or len(points) > len(names):
                issues.append(
                    Issue(f"{where}.points", "wrong_type", "points is a list with each keypoint once.")
                )
                continue
            seen = set()
            for j, point in enumerate(points):
                at = f"{where}.points[{j}]"
                found = self.check_object(point, at, ("name", "x", "y", "visibility"))
                if found:
                    issues += found
                    continue
                name, visibility = point["name"], point["visibility"]
                if name not in names:
                    issues.append(Issue(f"{at}.name", "unknown_keypoint", f"{name!r} is not a keypoint."))
                elif name in seen:
                    issues.append(Issue(f"{at}.name", "duplicate_keypoint", f"{name!r} is given twice."))
                seen.add(name) if isinstance(name, str) else None
                if visibility not in (0, 1, 2) or isinstance(visibility, bool):
                    issues.append(Issue(f"{at}.visibility", "invalid_visibility", "visibility is 0, 1 or 2."))
                if visibility != 0:  # a point that is not labelled (0) carries no position
                    issues += _check_point([point["x"], point["y"]], at, size)
        return issues


# ---------------------------------------------------------------------------------------------
# Time-based controls


class _Segments(Control):
    options = {"labels": LABELS, "allow_overlap": {"type": "boolean"}}
    required_options = ("labels",)

    def check_answer(self, control, value, path, ctx):
        issues = self.check_list(value, path)
        if issues:
            return issues
        duration = ctx.media.get("duration")
        duration = duration if is_number(duration) else None
        intervals = []
        for i, where, segment in self.each_object(value, path, ("start", "end", "label"), issues):
            issues += self.check_label(control, segment["label"], f"{where}.label", ctx)
            bad = _number_issue(segment, "start", where) + _number_issue(segment, "end", where)
            if bad:
                issues += bad
                continue
            start, end = segment["start"], segment["end"]
            if start < 0:
                issues.append(Issue(f"{where}.start", "out_of_bounds", "start must be at least 0."))
            elif end <= start:
                issues.append(Issue(f"{where}.end", "empty_range", "end must be greater than start."))
            elif duration is not None and end > duration + EPSILON:
                issues.append(Issue(f"{where}.end", "out_of_bounds", f"end must be at most {duration} s."))
            else:
                intervals.append((start, end, i))
        if not control.get("allow_overlap"):
            for i in _overlaps(intervals):
                issues.append(Issue(f"{path}[{i}]", "overlap", "Segments may not overlap in this control."))
        return issues


class AudioSegments(_Segments):
    type = "audio_segments"
    field_types = frozenset({"audio"})


class VideoSegments(_Segments):
    type = "video_segments"
    field_types = frozenset({"video"})


class VideoBBox(Control):
    type = "video_bbox"
    field_types = frozenset({"video"})
    options = {"labels": LABELS}
    required_options = ("labels",)

    def check_answer(self, control, value, path, ctx):
        issues = self.check_list(value, path)
        if issues:
            return issues
        size = _image_size(ctx)
        frame_count = ctx.media.get("frame_count")
        frame_count = (
            frame_count if isinstance(frame_count, int) and not isinstance(frame_count, bool) else None
        )
        ids = set()
        for _, where, track in self.each_object(value, path, ("id", "label", "frames"), issues):
            if track["id"] in ids:
                issues.append(Issue(f"{where}.id", "duplicate_id", f"The id {track['id']!r} is used twice."))
            ids.add(str(track["id"]))
            issues += self.check_label(control, track["label"], f"{where}.label", ctx)
            frames = track["frames"]
            found = self.check_list(frames, f"{where}.frames")
            if found or not frames:
                issues += found or [Issue(f"{where}.frames", "wrong_size", "A track has at least one frame.")]
                continue
            seen = set()
            for j, box in enumerate(frames):
                at = f"{where}.frames[{j}]"
                found = self.check_object(box, at, ("frame", "x", "y", "width", "height"))
                if found:
                    issues += found
                    continue
                frame = box["frame"]
                if not isinstance(frame, int) or isinstance(frame, bool):
                    issues.append(Issue(f"{at}.frame", "wrong_type", "frame is an integer index."))
                    continue
                if frame < 0 or (frame_count is not None and frame >= frame_count):
                    limit = f" and below {frame_count}" if frame_count is not None else ""
                    issues.append(Issue(f"{at}.frame", "out_of_bounds", f"frame must be at least 0{limit}."))
                elif frame in seen:
                    issues.append(Issue(f"{at}.frame", "duplicate_frame", f"Frame {frame} has two boxes."))
                seen.add(frame)
                issues += _check_box(box, at, size)
        return issues


# ---------------------------------------------------------------------------------------------
# Preference and judgement controls


class Rating(Control):
    type = "rating"
    options = {
        "min": {"type": "number"},
        "max": {"type": "number"},
        "step": {"type": "number"},
        "min_label": {"type": "string", "maxLength": 100},
        "max_label": {"type": "string", "maxLength": 100},
        # Level of measurement for agreement (docs/QUALITY.md): ordinal by default (a 4 is more than a
        # 3, but the steps need not be equal); interval when the steps are equal distances.
        "level": {"enum": ["ordinal", "interval"]},
    }
    required_options = ("min", "max")

    def check_options(self, control, path, controls_by_name):
        low, high, step = control["min"], control["max"], control.get("step", 1)
        if low >= high:
            return [Issue(f"{path}.max", "invalid_range", "max must be greater than min.")]
        if step <= 0:
            return [Issue(f"{path}.step", "invalid_range", "step must be greater than 0.")]
        if (high - low) / step + 1 > MAX_RATING_STEPS + EPSILON:
            return [Issue(f"{path}.step", "too_many", f"A scale has at most {MAX_RATING_STEPS} steps.")]
        issues = []
        for key in ("min_label", "max_label"):
            if key in control:
                issues += check_text_value(control[key], f"{path}.{key}", "label")
        return issues

    def answer_values(self, control):
        low, step = control["min"], control.get("step", 1)
        count = math.floor((control["max"] - low) / step + EPSILON) + 1
        # Rounded: 0.1 + 0.2 must match a show_if value of 0.3.
        return {round(low + k * step, 9) for k in range(count)}

    def check_answer(self, control, value, path, ctx):
        if not is_number(value):
            return [Issue(path, "wrong_type", "A rating is a number.")]
        low, high, step = control["min"], control["max"], control.get("step", 1)
        if value < low or value > high:
            return [Issue(path, "out_of_bounds", f"A rating is between {low} and {high}.")]
        steps = (value - low) / step
        if abs(steps - round(steps)) > 1e-6:
            return [Issue(path, "off_grid", f"A rating is {low} plus a multiple of {step}.")]
        return []


def candidate_ids(candidates: Any) -> list | None:
    """Ids of the candidates in an item: an object's "id", otherwise its 0-based position."""
    if not isinstance(candidates, list):
        return None
    return [
        c["id"] if isinstance(c, dict) and _json_scalar(c.get("id")) else i for i, c in enumerate(candidates)
    ]


class Ranking(Control):
    type = "ranking"
    field_types = frozenset({"candidates"})

    def check_answer(self, control, value, path, ctx):
        ids = candidate_ids(ctx.data_value)
        if ids is None:
            return [
                Issue(path, "invalid_data", "The item has no list of candidates for this control's field.")
            ]
        if not isinstance(value, list) or not all(_json_scalar(v) for v in value):
            return [Issue(path, "wrong_type", "A ranking is a list of candidate ids, best first.")]
        expected, given = set(ids), set(value)
        if len(value) != len(ids) or given != expected:
            missing = sorted(map(str, expected - given))
            extra = sorted(map(str, given - expected))
            parts = [
                f"missing {', '.join(missing)}" if missing else "",
                f"unknown {', '.join(extra)}" if extra else "",
            ]
            detail = "; ".join(p for p in parts if p) or "an id is repeated"
            return [
                Issue(path, "not_a_permutation", f"A ranking lists every candidate exactly once ({detail}).")
            ]
        return []


class Pairwise(Control):
    type = "pairwise"
    field_types = frozenset({"candidates"})
    options = {"strength": {"type": "boolean"}, "allow_tie": {"type": "boolean"}}

    def answer_values(self, control):
        return {"A", "B", "tie"} if control.get("allow_tie", True) else {"A", "B"}

    def show_if_atoms(self, value):
        return [value["choice"]] if isinstance(value, dict) and isinstance(value.get("choice"), str) else []

    def check_answer(self, control, value, path, ctx):
        ids = candidate_ids(ctx.data_value)
        if ids is None or len(ids) != 2:
            return [
                Issue(path, "invalid_data", "A pairwise comparison needs exactly two candidates in the item.")
            ]
        issues = self.check_object(value, path, ("choice",))
        if issues:
            return issues
        unknown = set(value) - {"choice", "strength"}
        if unknown:
            return [
                Issue(
                    f"{path}.{sorted(unknown)[0]}",
                    "unknown_property",
                    "Only choice and strength are allowed.",
                )
            ]
        choice = value["choice"]
        if choice not in self.answer_values(control) or not isinstance(choice, str):
            allowed = " / ".join(sorted(self.answer_values(control)))
            return [Issue(f"{path}.choice", "invalid_choice", f"choice is one of {allowed}.")]
        strength = value.get("strength")
        if not control.get("strength") or choice == "tie":
            if strength is not None:
                return [
                    Issue(f"{path}.strength", "unexpected_strength", "No strength is given for this answer.")
                ]
            return []
        if strength is None:
            return [Issue(f"{path}.strength", "missing_property", "strength (1, 2 or 3) is required.")]
        if strength not in (1, 2, 3) or isinstance(strength, bool):
            return [Issue(f"{path}.strength", "out_of_bounds", "strength is 1, 2 or 3.")]
        return []


def conversation_turns(value: Any) -> list | None:
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        value = value["messages"]
    return value if isinstance(value, list) else None


class ChatTurnLabels(Control):
    type = "chat_turn_labels"
    field_types = frozenset({"conversation"})
    options = {
        "labels": LABELS,
        "multiple": {"type": "boolean"},
        "per_turn_roles": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "minLength": 1, "maxLength": 50},
        },
    }
    required_options = ("labels",)

    def show_if_atoms(self, value):
        atoms: list = []
        if isinstance(value, dict):
            for v in value.values():
                atoms += v if isinstance(v, list) else [v]
        return atoms

    def answer_values(self, control):
        return {label["value"] for label in control["labels"]}

    def check_answer(self, control, value, path, ctx):
        turns = conversation_turns(ctx.data_value)
        if turns is None:
            return [Issue(path, "invalid_data", "The item has no conversation for this control's field.")]
        if not isinstance(value, dict):
            return [Issue(path, "wrong_type", 'Expected an object: {"<turn index>": label}.')]
        roles = control.get("per_turn_roles")
        issues: list[Issue] = []
        for key, labels in value.items():
            where = f"{path}.{key}"
            index = int(key) if isinstance(key, str) and key.isdecimal() and key.isascii() else None
            if index is None or index >= len(turns) or (key != "0" and key.startswith("0")):
                issues.append(Issue(where, "unknown_turn", f"The conversation has no turn {key!r}."))
                continue
            turn = turns[index]
            role = turn.get("role") if isinstance(turn, dict) else None
            if roles is not None and role not in roles:
                issues.append(Issue(where, "role_not_labelled", f"Turns by {role!r} are not labelled here."))
                continue
            if control.get("multiple"):
                issues += MultipleChoice.check_answer(self, control, labels, where, ctx)  # type: ignore[arg-type]
            else:
                issues += self.check_label(control, labels, where, ctx)
        return issues


# ---------------------------------------------------------------------------------------------

CONTROLS: dict[str, Control] = {
    control.type: control
    for control in (
        SingleChoice(),
        MultipleChoice(),
        Taxonomy(),
        Spans(),
        Relations(),
        ImageClass(),
        BBox(),
        Polygon(),
        Keypoints(),
        AudioSegments(),
        Transcription(),
        VideoSegments(),
        VideoBBox(),
        Rating(),
        Ranking(),
        Pairwise(),
        Text(),
        ChatTurnLabels(),
    )
}


def iter_hotkeys(controls: Iterable[tuple[str, dict]]) -> Iterator[tuple[str, str]]:
    for path, control in controls:
        yield from CONTROLS[control["type"]].hotkeys(control, path)
