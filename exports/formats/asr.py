"""ASR manifest (NeMo / Lhotse style JSON Lines), from each transcription control.

Files: ``asr/<control>/<split>.jsonl``, one canonical JSON object per line:

    {"audio_filepath": media path in the release (or URL), "duration": seconds|null, "text": str,
     "item_id": int, "confidence": number|null, "agreement": number|null}

Only records with a media file and an answered transcription are written. A clip marked as having
no speech (the answer ``{"no_speech": true}``, docs/SCHEMA.md) is a row with ``"text": ""``: the
empty transcript, as NeMo and Lhotse read it. A transcription is never ``""`` otherwise (refused at
submit), so an empty text always means "nothing is said". Paths are relative to the release root.
"""

from __future__ import annotations

from collections.abc import Iterable

from exports.canonical import canonical_line
from exports.formats.base import ExportFormat, LazyFiles, OpenFile, PlaceMedia
from exports.records import ExportContext, ExportRecord

CONTROL_TYPES = frozenset({"transcription"})
NO_SPEECH = {"no_speech": True}


def write(
    records: Iterable[ExportRecord],
    ctx: ExportContext,
    open_file: OpenFile,
    place_media: PlaceMedia | None = None,
) -> list[str]:
    controls = [c["name"] for c in ctx.controls("transcription")]
    with LazyFiles(open_file) as files:
        for record in records:
            if record.media is None:
                continue
            for name in controls:
                text = record.labels.get(name)
                if text == NO_SPEECH:
                    text = ""
                elif not isinstance(text, str):
                    continue
                row = {
                    "audio_filepath": record.media.path,
                    "duration": record.media.duration,
                    "text": text,
                    "item_id": record.item_id,
                    "confidence": record.confidence.get(name),
                    "agreement": record.agreement.get(name),
                }
                files.write(f"asr/{name}/{record.split_name}.jsonl", canonical_line(row))
    return files.names()


FORMAT = ExportFormat("asr", "ASR manifest (audio path, duration, text)", write, CONTROL_TYPES)
