"""Placeholders for personal data, and the offset map back to the original text. Pure.

    masked, spans = mask_text("mail jane@x.org now", [(5, 15, "EMAIL")])
    masked == "mail [EMAIL] now"; spans == [(5, 12, 5, 15)]   # (masked start, end, original start, end)
    to_original(13, spans) == 16      # a position after the placeholder shifts by the length change
    to_original(7, spans, side="start") == 5; to_original(7, spans, side="end") == 15

How annotations on masked text map back: the annotator's client works on the masked string; when an
annotation is submitted, every character offset (`start`, `end` of a span answer) is translated with
`to_original`: positions outside placeholders shift by the summed length differences of the
placeholders before them; a start inside a placeholder snaps to the start of the original value and an
end inside one snaps to its end, so a span that covers `[EMAIL]` covers the whole address. The
`text` of such a span is re-read from the original. docs/GOVERNANCE.md#personal-data.
"""

from bisect import bisect_right
from collections.abc import Iterable
from copy import deepcopy
from typing import Any


def placeholder(kind: str) -> str:
    return f"[{kind}]"


def mask_text(
    text: str, findings: Iterable[tuple[int, int, str]]
) -> tuple[str, list[tuple[int, int, int, int]]]:
    """`text` with each (start, end, type) replaced by `[TYPE]`; overlapping findings are merged into
    the first. Returns the masked text and the spans (masked start, masked end, original start, end)."""
    parts: list[str] = []
    spans: list[tuple[int, int, int, int]] = []
    cursor = 0
    length = 0
    for start, end, kind in sorted(findings):
        start, end = max(start, cursor), min(end, len(text))
        if end <= start:
            continue
        parts.append(text[cursor:start])
        length += start - cursor
        token = placeholder(kind)
        spans.append((length, length + len(token), start, end))
        parts.append(token)
        length += len(token)
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts), spans


def to_original(offset: int, spans: list[tuple[int, int, int, int]], side: str = "start") -> int:
    """A character offset in the masked text as an offset in the original text (see module doc)."""
    index = bisect_right([span[0] for span in spans], offset) - 1
    if index < 0:
        return offset
    m_start, m_end, o_start, o_end = spans[index]
    if offset >= m_end:
        return o_end + (offset - m_end)
    if offset == m_start:
        return o_start
    return o_start if side == "start" else o_end


def to_masked(offset: int, spans: list[tuple[int, int, int, int]], side: str = "start") -> int:
    """An offset in the original text as an offset in the masked text: the inverse of to_original
    (a position inside a masked value snaps to its placeholder's start or end)."""
    index = bisect_right([span[2] for span in spans], offset) - 1
    if index < 0:
        return offset
    m_start, m_end, o_start, o_end = spans[index]
    if offset >= o_end:
        return m_end + (offset - o_end)
    if offset == o_start:
        return m_start
    return m_start if side == "start" else m_end


def remask_result(
    result: Any,
    masked_data: Any,
    spans_by_field: dict[str, list[tuple[int, int, int, int]]],
    control_fields: dict[str, str],
) -> Any:
    """A stored annotation result (original offsets) in the masked text's offsets, with each span's
    `text` re-read from the masked data (mask_data's output): what a masked release gets."""
    texts = (
        {key: value for key, value in masked_data.items() if isinstance(value, str)}
        if isinstance(masked_data, dict)
        else {}
    )
    return _map_spans(result, spans_by_field, control_fields, to_masked, texts)


def mask_data(data: Any, findings_by_field: dict[str, list[tuple[int, int, str]]]) -> Any:
    """A copy of an item's data with the findings' values replaced by placeholders, field by field
    (`field` is the key path from detectors.iter_strings)."""
    if not findings_by_field:
        return data
    data = deepcopy(data)
    for path, findings in findings_by_field.items():
        keys: list[Any] = path.split(".") if path else []
        if not keys:
            if isinstance(data, str):
                data = mask_text(data, findings)[0]
            continue
        parent = data
        try:
            for key in keys[:-1]:
                parent = parent[int(key)] if isinstance(parent, list) else parent[key]
            last: Any = int(keys[-1]) if isinstance(parent, list) else keys[-1]
            if isinstance(parent[last], str):
                parent[last] = mask_text(parent[last], findings)[0]
        except (KeyError, IndexError, ValueError, TypeError):
            continue  # the data does not have this path (never for stored findings of the same item)
    return data


def span_control_fields(definition: Any) -> dict[str, str]:
    """{control name: data key} for a label schema's `spans` controls (character offsets into text)."""
    if not isinstance(definition, dict):
        return {}
    sources = {f.get("name"): f.get("source", f.get("name")) for f in definition.get("fields") or []}
    return {
        control["name"]: sources.get(control.get("field"), control.get("field"))
        for control in definition.get("controls") or []
        if control.get("type") == "spans"
    }


def unmask_result(
    result: Any,
    data: Any,
    spans_by_field: dict[str, list[tuple[int, int, int, int]]],
    control_fields: dict[str, str],
) -> Any:
    """An annotation result made on masked text, with its span answers' offsets mapped back to the
    original text (`control_fields` from span_control_fields). A span's `text`, when given, is re-read
    from the original. Other answers are returned unchanged; the input is not modified."""
    originals = (
        {key: value for key, value in data.items() if isinstance(value, str)}
        if isinstance(data, dict)
        else {}
    )
    return _map_spans(result, spans_by_field, control_fields, to_original, originals)


def _map_spans(result, spans_by_field, control_fields, move, texts) -> Any:
    if not spans_by_field or not isinstance(result, dict):
        return result
    out = dict(result)
    for name, key in control_fields.items():
        spans = spans_by_field.get(key)
        answer = result.get(name)
        if not spans or not isinstance(answer, list):
            continue
        text = texts.get(key)
        mapped = []
        for span in answer:
            if isinstance(span, dict) and _is_int(span.get("start")) and _is_int(span.get("end")):
                span = dict(span)
                span["start"] = move(span["start"], spans, "start")
                span["end"] = move(span["end"], spans, "end")
                if "text" in span and isinstance(text, str):
                    span["text"] = text[span["start"] : span["end"]]
            mapped.append(span)
        out[name] = mapped
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
