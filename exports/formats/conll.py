"""CoNLL-2003 with BIO (IOB2) tags, from each spans control.

Files: ``conll/<control>/<split>.conll``. The file starts with ``-DOCSTART- -X- -X- O`` and a blank
line; then one sentence per record (blank-line separated), one token per line in CoNLL-2003's four
columns ``token -X- _ TAG`` (no part-of-speech or chunk tags: ``-X-`` and ``_`` fill them). TAG is
``B-<label>`` on a span's first token, ``I-<label>`` on the next ones, ``O`` elsewhere. The
record order is the item-id order of the JSONL file of the same split, which maps a sentence back to
its item.

Tokenisation: ``\\w+`` runs and single other non-space characters (Unicode-aware), with code-point
offsets, so the schema's span offsets apply directly. A token belongs to a span when they overlap.
CoNLL cannot hold overlapping spans: when a schema allows them, spans are taken by start (longest
first) and a span overlapping one already taken is left out. A record with no tokens is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from exports.formats.base import ExportFormat, LazyFiles, OpenFile, PlaceMedia
from exports.records import ExportContext, ExportRecord

CONTROL_TYPES = frozenset({"spans"})
TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
HEADER = b"-DOCSTART- -X- -X- O\n\n"


def tokenize(text: str) -> Iterator[tuple[str, int, int]]:
    for match in TOKEN.finditer(text):
        yield match.group(), match.start(), match.end()


def bio_tags(text: str, spans: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(token, tag) pairs for `text` and its spans (code-point offsets), IOB2."""
    chosen: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (s["start"], -s["end"], s["label"])):
        if all(span["start"] >= end or span["end"] <= start for start, end, _ in chosen):
            chosen.append((span["start"], span["end"], span["label"]))
    out = []
    index = 0
    previous: tuple[int, int, str] | None = None
    for token, start, end in tokenize(text):
        while index < len(chosen) and chosen[index][1] <= start:
            index += 1
        span = chosen[index] if index < len(chosen) and chosen[index][0] < end else None
        if span is None:
            out.append((token, "O"))
        else:
            out.append((token, ("I-" if span == previous else "B-") + span[2]))
        previous = span
    return out


def write(
    records: Iterable[ExportRecord],
    ctx: ExportContext,
    open_file: OpenFile,
    place_media: PlaceMedia | None = None,
) -> list[str]:
    controls = [(c["name"], ctx.field_source(c["field"])) for c in ctx.controls("spans")]
    with LazyFiles(open_file, header=lambda _name: HEADER) as files:
        for record in records:
            for name, source in controls:
                text = record.data.get(source)
                if not isinstance(text, str):
                    continue
                pairs = bio_tags(text, record.labels.get(name) or [])
                if pairs:
                    lines = "".join(f"{token} -X- _ {tag}\n" for token, tag in pairs) + "\n"
                    files.write(f"conll/{name}/{record.split_name}.conll", lines.encode("utf-8"))
    return files.names()


FORMAT = ExportFormat("conll", "CoNLL-2003 / BIO (spans)", write, CONTROL_TYPES)
