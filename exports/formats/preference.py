"""Preference pairs for RLHF / DPO, from each pairwise control.

Files: ``preference/<control>/<split>.jsonl``, one canonical JSON object per line in the shape TRL's
DPOTrainer and most reward-model trainers read:

    {"prompt": ..., "chosen": ..., "rejected": ..., "strength": 1|2|3|null, "agreement": number|null,
     "confidence": number|null, "item_id": int, "chosen_id": str, "rejected_id": str}

``prompt`` is the item's text or conversation field named ``prompt``, else its first text or
conversation field (a string, or the list of messages); ``chosen``/``rejected`` are the
candidates' text (a string candidate as is, an object's ``text`` or ``content``). The consensus
choice ``A`` means the first candidate won. Ties carry no preference and are left out (they stay in
JSONL). Candidate ids (an object's ``id`` or the 0-based position) are written as strings, so the
column has one type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from exports.canonical import canonical_line
from exports.formats.base import (
    ExportFormat,
    LazyFiles,
    OpenFile,
    PlaceMedia,
    candidate_ids,
    candidate_text,
    prompt_of,
)
from exports.records import ExportContext, ExportRecord

CONTROL_TYPES = frozenset({"pairwise"})


def preference_row(record: ExportRecord, ctx: ExportContext, control: Mapping[str, Any]) -> dict | None:
    name = control["name"]
    answer = record.labels.get(name)
    candidates = record.data.get(ctx.field_source(control["field"]))
    if not isinstance(answer, dict) or answer.get("choice") not in ("A", "B"):
        return None
    if not isinstance(candidates, list) or len(candidates) != 2:
        return None
    ids = candidate_ids(candidates)
    win, lose = (0, 1) if answer["choice"] == "A" else (1, 0)
    return {
        "item_id": record.item_id,
        "prompt": prompt_of(record, ctx, control["field"]),
        "chosen": candidate_text(candidates[win]),
        "rejected": candidate_text(candidates[lose]),
        "chosen_id": str(ids[win]),
        "rejected_id": str(ids[lose]),
        "strength": answer.get("strength"),
        "agreement": record.agreement.get(name),
        "confidence": record.confidence.get(name),
    }


def write(
    records: Iterable[ExportRecord],
    ctx: ExportContext,
    open_file: OpenFile,
    place_media: PlaceMedia | None = None,
) -> list[str]:
    controls = ctx.controls("pairwise")
    with LazyFiles(open_file) as files:
        for record in records:
            for control in controls:
                row = preference_row(record, ctx, control)
                if row is not None:
                    name = f"preference/{control['name']}/{record.split_name}.jsonl"
                    files.write(name, canonical_line(row))
    return files.names()


FORMAT = ExportFormat("preference", "Preference pairs (RLHF / DPO)", write, CONTROL_TYPES)
