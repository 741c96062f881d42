"""Answers and items as people read them (the item page; release diffs through exports.display): label
names, spans as their text and label, boxes as label and coordinates, and an item's external id.
Pure Python, no Django.

`answer_text(control, answer, data)` is one line of text for one control's answer (`control` is the
control's schema definition or None when the schema no longer has it; `data` the item's data, for
the text of spans). `item_key(external_id, checksum, item_id)` is what names an item to people.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.canonical import canonical_dumps

from .keys import item_key  # noqa: F401  (one definition: exports.display and the item pages re-export it)

MAX_SPAN_TEXT = 60
MAX_SHOWN = 20  # parts of one answer (spans, boxes ...) before "… and N more"


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _clip(text: str, limit: int = MAX_SPAN_TEXT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _joined(parts: list[str], sep: str = "; ") -> str:
    if len(parts) > MAX_SHOWN:
        return sep.join(parts[:MAX_SHOWN]) + f"{sep}… and {len(parts) - MAX_SHOWN} more"
    return sep.join(parts) if parts else "(none)"


def _field_text(control: Mapping[str, Any], schema_fields: list, data: Mapping[str, Any]) -> str | None:
    name = control.get("field")
    source = next((f.get("source") or name for f in schema_fields if f.get("name") == name), name)
    value = data.get(source) if isinstance(data, Mapping) else None
    return value if isinstance(value, str) else None


def answer_text(
    control: Mapping[str, Any] | None,
    answer: Any,
    data: Mapping[str, Any] | None = None,
    schema_fields: list | None = None,
) -> str:
    """One control's answer as one line of text (see the module docstring)."""
    if answer is None:
        return "(not answered)"
    kind = (control or {}).get("type")
    try:
        return _text(kind, control or {}, answer, data or {}, schema_fields or [])
    except (TypeError, ValueError, KeyError, AttributeError, IndexError):
        return canonical_dumps(answer)  # a shape this version does not know: exact, if not pretty


def _text(kind, control, answer, data, schema_fields) -> str:
    if isinstance(answer, str) and kind not in ("ranking",):
        return answer if answer else '""'
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    if isinstance(answer, int | float):
        return _number(answer)
    if kind == "transcription" and answer == {"no_speech": True}:
        return "(no speech)"
    if kind == "pairwise":
        choice = answer["choice"]
        strength = answer.get("strength")
        return choice if strength is None else f"{choice} (strength {strength})"
    if kind == "taxonomy":
        paths = answer if answer and isinstance(answer[0], list) else [answer]
        return _joined([" > ".join(map(str, path)) for path in paths])
    if kind == "spans":
        text = _field_text(control, schema_fields, data)
        parts = []
        for span in answer:
            quoted = span.get("text")
            if quoted is None and text is not None:
                quoted = text[span["start"] : span["end"]]
            where = f"“{_clip(quoted)}”" if quoted is not None else f"{span['start']}-{span['end']}"
            parts.append(f"{where} {span['label']}")
        return _joined(parts)
    if kind == "relations":
        return _joined([f"{r['from']} → {r['to']} {r['label']}" for r in answer])
    if kind == "bbox":
        return _joined(
            [
                f"{b['label']} (x {_number(b['x'])}, y {_number(b['y'])}, "
                f"w {_number(b['width'])}, h {_number(b['height'])})"
                for b in answer
            ]
        )
    if kind == "polygon":
        return _joined([f"{p['label']} ({len(p['points'])} points)" for p in answer])
    if kind == "keypoints":
        parts = []
        for instance in answer:
            shown = sum(1 for p in instance["points"] if p.get("visibility", 2))
            parts.append(f"{instance.get('label') or 'instance'} ({shown} points)")
        return _joined(parts)
    if kind in ("audio_segments", "video_segments"):
        return _joined([f"{s['label']} {_number(s['start'])}-{_number(s['end'])} s" for s in answer])
    if kind == "video_bbox":
        return _joined([f"{t['label']} track {t['id']} ({len(t['frames'])} frames)" for t in answer])
    if kind == "ranking":
        return " > ".join(map(str, answer))
    if kind == "chat_turn_labels":
        parts = []
        for turn, label in sorted(answer.items(), key=lambda kv: int(kv[0]) if kv[0].isdecimal() else 0):
            shown = ", ".join(map(str, label)) if isinstance(label, list) else str(label)
            parts.append(f"turn {turn}: {shown}")
        return _joined(parts)
    if isinstance(answer, list) and all(isinstance(v, str | int | float) for v in answer):
        return ", ".join(map(str, answer)) if answer else "(none)"  # multiple choice, image classes
    return canonical_dumps(answer)


def labels_text(
    schema: Mapping[str, Any], labels: Mapping[str, Any], data: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Every control's answer of a record as text, by control name."""
    controls = {c.get("name"): c for c in schema.get("controls", [])}
    fields = list(schema.get("fields", []))
    return {name: answer_text(controls.get(name), answer, data, fields) for name, answer in labels.items()}
