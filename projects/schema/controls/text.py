"""Text controls: spans, relations, free text and transcription.

Pure Python, no Django imports."""

from __future__ import annotations

import math

from .base import LABELS, LENGTH, MAX_TEXT_LENGTH, NAME, Control, Issue


def overlaps(intervals: list[tuple[float, float, int]]) -> list[int]:
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
            for i in overlaps(intervals):
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
