"""Ranking lists, from each ranking control.

Files: ``ranking/<control>/<split>.jsonl``, one canonical JSON object per line:

    {"item_id": int, "prompt": ..., "ranking": [id, ...] (best first, ids as strings),
     "candidates": [{"id": id, "text": ...}, ...] (in the item's order),
     "confidence": number|null, "agreement": number|null}

Candidate ids are an object candidate's ``id`` or its 0-based position (as in the schema), written as
strings so that every row has the same types.
"""

from __future__ import annotations

from collections.abc import Iterable

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

CONTROL_TYPES = frozenset({"ranking"})


def write(
    records: Iterable[ExportRecord],
    ctx: ExportContext,
    open_file: OpenFile,
    place_media: PlaceMedia | None = None,
) -> list[str]:
    controls = ctx.controls("ranking")
    with LazyFiles(open_file) as files:
        for record in records:
            for control in controls:
                name = control["name"]
                ranking = record.labels.get(name)
                candidates = record.data.get(ctx.field_source(control["field"]))
                if not isinstance(ranking, list) or not ranking or not isinstance(candidates, list):
                    continue
                row = {
                    "item_id": record.item_id,
                    "prompt": prompt_of(record, ctx, control["field"]),
                    "ranking": [str(cid) for cid in ranking],
                    "candidates": [
                        {"id": str(cid), "text": candidate_text(c)}
                        for cid, c in zip(candidate_ids(candidates), candidates, strict=True)
                    ],
                    "confidence": record.confidence.get(name),
                    "agreement": record.agreement.get(name),
                }
                files.write(f"ranking/{name}/{record.split_name}.jsonl", canonical_line(row))
    return files.names()


FORMAT = ExportFormat("ranking", "Ranking lists", write, CONTROL_TYPES)
