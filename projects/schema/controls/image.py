"""Image controls: boxes, polygons, keypoints.

Pure Python, no Django imports."""

from __future__ import annotations

from typing import Any

from .base import (
    EPSILON,
    LABEL,
    LABELS,
    AnswerContext,
    Control,
    Issue,
    check_label_list,
    is_number,
    number_issue,
)


def image_size(ctx: AnswerContext) -> tuple[float, float] | None:
    width, height = ctx.media.get("width"), ctx.media.get("height")
    if is_number(width) and is_number(height):
        return width, height
    return None


def check_box(item: dict, where: str, size: tuple[float, float] | None) -> list[Issue]:
    issues: list[Issue] = []
    for key in ("x", "y", "width", "height"):
        issues += number_issue(item, key, where)
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
        size = image_size(ctx)
        for _, where, box in self.each_object(value, path, ("x", "y", "width", "height", "label"), issues):
            issues += check_box(box, where, size)
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
        size = image_size(ctx)
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
        size = image_size(ctx)
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
