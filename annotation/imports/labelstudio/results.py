"""Label Studio results -> Tessera answers, one result type at a time (the table in convert.py). Pure."""

from __future__ import annotations

import math
from typing import Any

EPSILON = 1e-6


# Label Studio result type -> the Tessera control types it may answer.
CONVERTS: dict[str, frozenset[str]] = {
    "choices": frozenset({"single_choice", "multiple_choice", "image_class"}),
    "taxonomy": frozenset({"taxonomy"}),
    "labels": frozenset({"spans", "audio_segments", "video_segments"}),
    "timelinelabels": frozenset({"video_segments"}),
    "rectanglelabels": frozenset({"bbox"}),
    "polygonlabels": frozenset({"polygon"}),
    "keypointlabels": frozenset({"keypoints"}),
    "textarea": frozenset({"text", "transcription"}),
    "rating": frozenset({"rating"}),
    "pairwise": frozenset({"pairwise"}),
    "ranker": frozenset({"ranking"}),
}
IMAGE_TYPES = frozenset({"rectanglelabels", "polygonlabels", "keypointlabels"})


class Problem(Exception):
    """Why one annotation or prediction cannot be converted: `where` is a path inside the task."""

    def __init__(self, where: str, reason: str):
        super().__init__(reason)
        self.where = where
        self.reason = reason


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Problem(where, "must be a number")
    return float(value)


def _clean(value: float) -> float | int:
    """Round away float noise from percent arithmetic (12.5% of 800 px is 100, not 100.00000000000001)."""
    rounded = round(value, 6)
    return int(rounded) if rounded == int(rounded) else rounded


class _Converter:
    def __init__(self, definition: dict, data: dict[str, Any]):
        self.controls = {c["name"]: c for c in definition.get("controls", ()) if isinstance(c, dict)}
        self.sources = {f["name"]: f.get("source", f["name"]) for f in definition.get("fields", ())}
        self.data = data
        self.image_size: tuple[int, int] | None = None
        given_w, given_h = data.get("width"), data.get("height")
        if _positive_int(given_w) and _positive_int(given_h):
            self.image_size = (given_w, given_h)
        self.size_conflict: tuple[str, str] | None = None

    # --- one annotation or prediction

    def result(self, regions: Any, where: str) -> dict[str, Any]:
        if regions is None:
            regions = []
        if not isinstance(regions, list):
            raise Problem(where, "result is a list of regions")
        grouped: dict[str, list[tuple[int, dict]]] = {}
        relations: list[tuple[int, dict]] = []
        for i, region in enumerate(regions):
            at = f"{where}[{i}]"
            if not isinstance(region, dict):
                raise Problem(at, "a region is an object")
            kind = region.get("type")
            if kind == "relation":
                relations.append((i, region))
                continue
            name = region.get("from_name")
            control = self.controls.get(name) if isinstance(name, str) else None
            if control is None:
                raise Problem(
                    f"{at}.from_name",
                    f"the schema has no control named {name!r} (Label Studio type {kind!r})",
                )
            allowed = CONVERTS.get(kind) if isinstance(kind, str) else None
            if allowed is None:
                raise Problem(f"{at}.type", f"Label Studio result type {kind!r} has no Tessera equivalent")
            if control["type"] not in allowed:
                raise Problem(
                    f"{at}.type",
                    f"a Label Studio {kind!r} region cannot answer {name!r}, a {control['type']} control",
                )
            if not isinstance(region.get("value"), dict):
                raise Problem(f"{at}.value", "a region has a value object")
            grouped.setdefault(name, []).append((i, region))
        answers: dict[str, Any] = {}
        for name, entries in grouped.items():
            control = self.controls[name]
            answers[name] = getattr(self, f"_{control['type']}")(control, entries, where)
        if relations:
            self._relations(answers, relations, where)
        return answers

    # --- choice-like

    def _choices(self, entries, where) -> list:
        if len(entries) > 1:
            raise Problem(f"{where}[{entries[1][0]}]", "a choices control is answered by one region")
        i, region = entries[0]
        choices = region["value"].get("choices")
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise Problem(f"{where}[{i}].value.choices", "choices is a list of labels")
        return choices

    def _single(self, entries, where) -> str:
        choices = self._choices(entries, where)
        if len(choices) != 1:
            raise Problem(f"{where}[{entries[0][0]}].value.choices", "a single choice has exactly one label")
        return choices[0]

    def _single_choice(self, control, entries, where):
        return self._single(entries, where)

    def _multiple_choice(self, control, entries, where):
        return self._choices(entries, where)

    def _image_class(self, control, entries, where):
        return self._choices(entries, where) if control.get("multiple") else self._single(entries, where)

    def _taxonomy(self, control, entries, where):
        if len(entries) > 1:
            raise Problem(f"{where}[{entries[1][0]}]", "a taxonomy is answered by one region")
        i, region = entries[0]
        paths = region["value"].get("taxonomy")
        if not isinstance(paths, list) or not all(isinstance(p, list) for p in paths):
            raise Problem(f"{where}[{i}].value.taxonomy", "taxonomy is a list of paths")
        if control.get("multiple"):
            return paths
        if len(paths) != 1:
            raise Problem(f"{where}[{i}].value.taxonomy", "this taxonomy takes exactly one path")
        return paths[0]

    def _rating(self, control, entries, where):
        i, region = self._one(entries, where)
        return _number_or_int(region["value"].get("rating"), f"{where}[{i}].value.rating")

    def _pairwise(self, control, entries, where):
        i, region = self._one(entries, where)
        selected = region["value"].get("selected")
        if selected not in ("left", "right"):
            raise Problem(f"{where}[{i}].value.selected", "selected is 'left' or 'right'")
        return {"choice": "A" if selected == "left" else "B"}

    def _ranking(self, control, entries, where):
        i, region = self._one(entries, where)
        ranker = region["value"].get("ranker")
        if isinstance(ranker, dict):
            lists = [v for v in ranker.values() if isinstance(v, list)]
            if len(ranker) != 1 or len(lists) != 1:
                raise Problem(
                    f"{where}[{i}].value.ranker",
                    "only a ranker with one list converts (buckets have no Tessera equivalent)",
                )
            ranker = lists[0]
        if not isinstance(ranker, list):
            raise Problem(f"{where}[{i}].value.ranker", "ranker is a list of ids")
        return ranker

    def _text(self, control, entries, where):
        parts: list[str] = []
        for i, region in entries:
            text = region["value"].get("text")
            if isinstance(text, str):
                text = [text]
            if not isinstance(text, list) or not all(isinstance(t, str) for t in text):
                raise Problem(f"{where}[{i}].value.text", "text is a list of strings")
            parts += text
        return "\n".join(parts)

    def _transcription(self, control, entries, where):
        return self._text(control, entries, where)

    def _one(self, entries, where):
        if len(entries) > 1:
            raise Problem(f"{where}[{entries[1][0]}]", "this control is answered by one region")
        return entries[0]

    # --- spans and segments

    def _labels_of(self, region: dict, key: str, at: str) -> list[str]:
        labels = region["value"].get(key)
        if not isinstance(labels, list) or not labels or not all(isinstance(v, str) for v in labels):
            raise Problem(f"{at}.value.{key}", f"{key} is a non-empty list of labels")
        return labels

    def _spans(self, control, entries, where):
        spans = []
        for i, region in entries:
            at = f"{where}[{i}]"
            value = region["value"]
            start, end = value.get("start"), value.get("end")
            if not (_is_int(start) and _is_int(end)):
                raise Problem(
                    f"{at}.value",
                    "a text span needs integer start and end offsets (hypertext spans with XPath "
                    "offsets do not convert)",
                )
            region_id = region.get("id")
            if not isinstance(region_id, str | int) or isinstance(region_id, bool) or region_id == "":
                raise Problem(f"{at}.id", "a region needs an id")
            labels = self._labels_of(region, "labels", at)
            start, end = self._code_points(control, value, start, end)
            for n, label in enumerate(labels):
                span = {
                    "id": str(region_id) if n == 0 else f"{region_id}:{label}",
                    "start": start,
                    "end": end,
                }
                span["label"] = label
                if isinstance(value.get("text"), str):
                    span["text"] = value["text"]
                spans.append(span)
        return spans

    def _code_points(self, control: dict, value: dict, start: int, end: int) -> tuple[int, int]:
        """Label Studio counts offsets in UTF-16 code units (JavaScript strings); Tessera counts code
        points. Offsets are moved only where the text has characters beyond the BMP (emoji)."""
        text = self.data.get(self.sources.get(control["field"], control["field"]))
        if not isinstance(text, str) or text.isascii() or all(ord(c) < 0x10000 for c in text):
            return start, end
        units = [0]
        for char in text:
            units.append(units[-1] + (2 if ord(char) >= 0x10000 else 1))
        position = {unit: index for index, unit in enumerate(units)}
        if start in position and end in position:
            moved = position[start], position[end]
            if not isinstance(value.get("text"), str) or text[moved[0] : moved[1]] == value["text"]:
                return moved
        return start, end

    def _segments(self, entries, where):
        segments = []
        for i, region in entries:
            at = f"{where}[{i}]"
            start = _number(region["value"].get("start"), f"{at}.value.start")
            end = _number(region["value"].get("end"), f"{at}.value.end")
            for label in self._labels_of(region, "labels", at):
                segments.append({"start": start, "end": end, "label": label})
        return segments

    def _audio_segments(self, control, entries, where):
        return self._segments(entries, where)

    def _video_segments(self, control, entries, where):
        timeline = [(i, r) for i, r in entries if r.get("type") == "timelinelabels"]
        segments = self._segments([(i, r) for i, r in entries if r.get("type") != "timelinelabels"], where)
        if not timeline:
            return segments
        frames, duration = self.data.get("frame_count"), self.data.get("duration")
        if not (_positive_int(frames) and isinstance(duration, int | float) and duration > 0):
            raise Problem(
                f"{where}[{timeline[0][0]}]",
                "timeline labels count frames; the item needs frame_count and duration to convert them "
                "to seconds",
            )
        fps = frames / duration
        for i, region in timeline:
            at = f"{where}[{i}]"
            ranges = region["value"].get("ranges")
            if not isinstance(ranges, list) or not ranges:
                raise Problem(f"{at}.value.ranges", "ranges is a non-empty list")
            labels = self._labels_of(region, "timelinelabels", at)
            for span in ranges:
                if (
                    not isinstance(span, dict)
                    or not _is_int(span.get("start"))
                    or not _is_int(span.get("end"))
                ):
                    raise Problem(f"{at}.value.ranges", "a range has integer start and end frames")
                for label in labels:  # Label Studio frames are 1-based and inclusive
                    segments.append(
                        {
                            "start": _clean((span["start"] - 1) / fps),
                            "end": _clean(span["end"] / fps),
                            "label": label,
                        }
                    )
        return segments

    # --- relations

    def _relations(self, answers: dict, relations: list[tuple[int, dict]], where: str) -> None:
        span_owner: dict[str, str] = {}  # span id -> spans control name
        for name, answer in answers.items():
            if self.controls[name]["type"] == "spans":
                for span in answer:
                    span_owner.setdefault(span["id"], name)
        by_spans: dict[str, list[dict]] = {}
        for control in self.controls.values():
            if control["type"] == "relations":
                by_spans.setdefault(control["spans"], []).append(control)
        for i, region in relations:
            at = f"{where}[{i}]"
            source, target = region.get("from_id"), region.get("to_id")
            owner = span_owner.get(str(source))
            if owner is None or str(target) not in span_owner:
                raise Problem(
                    at, f"the relation joins regions {source!r} and {target!r}, not both text spans"
                )
            candidates = by_spans.get(owner, [])
            if len(candidates) != 1:
                raise Problem(
                    at,
                    f"the schema has {len(candidates)} relations controls for the spans of {owner!r}; "
                    "exactly one is needed",
                )
            control = candidates[0]
            labels = region.get("labels")
            if not labels:
                if len(control["labels"]) != 1:
                    raise Problem(f"{at}.labels", "the relation has no label and the control has several")
                labels = [control["labels"][0]["value"]]
            if not isinstance(labels, list) or not all(isinstance(v, str) for v in labels):
                raise Problem(f"{at}.labels", "labels is a list of strings")
            if region.get("direction") == "left":
                source, target = target, source
            for label in labels:
                answers.setdefault(control["name"], []).append(
                    {"from": str(source), "to": str(target), "label": label}
                )

    # --- images

    def _size(self, region: dict, at: str) -> tuple[float, float]:
        width, height = region.get("original_width"), region.get("original_height")
        if _positive_int(width) and _positive_int(height):
            if self.image_size is None:
                self.image_size = (width, height)
            elif self.image_size != (width, height) and self.size_conflict is None:
                self.size_conflict = (
                    f"{at}.original_width",
                    f"the regions give the image size {width}x{height} and "
                    f"{self.image_size[0]}x{self.image_size[1]}",
                )
            return width, height
        if self.image_size is not None:
            return self.image_size
        raise Problem(
            f"{at}.original_width",
            "an image region needs original_width and original_height to convert percent to pixels",
        )

    def _percent(self, value: Any, at: str) -> float:
        number = _number(value, at)
        if number < -EPSILON or number > 100 + EPSILON:
            raise Problem(at, f"{number} is outside the image (0 to 100 percent)")
        return number

    def _bbox(self, control, entries, where):
        boxes = []
        for i, region in entries:
            at = f"{where}[{i}]"
            value = region["value"]
            if _number(value.get("rotation", 0) or 0, f"{at}.value.rotation") != 0:
                raise Problem(
                    f"{at}.value.rotation", "rotated boxes do not convert (Tessera boxes are upright)"
                )
            width, height = self._size(region, at)
            x, y = (
                self._percent(value.get("x"), f"{at}.value.x"),
                self._percent(value.get("y"), f"{at}.value.y"),
            )
            w = self._percent(value.get("width"), f"{at}.value.width")
            h = self._percent(value.get("height"), f"{at}.value.height")
            if x + w > 100 + EPSILON or y + h > 100 + EPSILON:
                raise Problem(f"{at}.value", "the box ends outside the image (over 100 percent)")
            for label in self._labels_of(region, "rectanglelabels", at):
                boxes.append(
                    {
                        "x": _clean(x * width / 100),
                        "y": _clean(y * height / 100),
                        "width": _clean(w * width / 100),
                        "height": _clean(h * height / 100),
                        "label": label,
                    }
                )
        return boxes

    def _polygon(self, control, entries, where):
        polygons = []
        for i, region in entries:
            at = f"{where}[{i}]"
            width, height = self._size(region, at)
            points = region["value"].get("points")
            if not isinstance(points, list):
                raise Problem(f"{at}.value.points", "points is a list of [x, y] in percent")
            pixels = []
            for j, point in enumerate(points):
                if not isinstance(point, list) or len(point) != 2:
                    raise Problem(f"{at}.value.points[{j}]", "a point is [x, y]")
                px = self._percent(point[0], f"{at}.value.points[{j}][0]")
                py = self._percent(point[1], f"{at}.value.points[{j}][1]")
                pixels.append([_clean(px * width / 100), _clean(py * height / 100)])
            for label in self._labels_of(region, "polygonlabels", at):
                polygons.append({"points": pixels, "label": label})
        return polygons

    def _keypoints(self, control, entries, where):
        instances: list[dict] = []
        for i, region in entries:
            at = f"{where}[{i}]"
            width, height = self._size(region, at)
            value = region["value"]
            x = self._percent(value.get("x"), f"{at}.value.x")
            y = self._percent(value.get("y"), f"{at}.value.y")
            names = self._labels_of(region, "keypointlabels", at)
            if len(names) != 1:
                raise Problem(f"{at}.value.keypointlabels", "a keypoint has one name")
            point = {"name": names[0], "x": _clean(x * width / 100), "y": _clean(y * height / 100)}
            point["visibility"] = 2
            # A new instance starts when a name repeats (Label Studio keeps points, not skeletons).
            for instance in instances:
                if all(p["name"] != names[0] for p in instance["points"]):
                    instance["points"].append(point)
                    break
            else:
                instances.append({"points": [point]})
        if "labels" in control:
            if len(control["labels"]) != 1:
                raise Problem(
                    f"{where}[{entries[0][0]}]",
                    "Label Studio keypoints carry no instance label and this control has several",
                )
            for instance in instances:
                instance["label"] = control["labels"][0]["value"]
        return instances


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: Any) -> bool:
    return _is_int(value) and value > 0


def _number_or_int(value: Any, where: str) -> float | int:
    number = _number(value, where)
    return int(number) if _is_int(value) else number
