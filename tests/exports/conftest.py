"""A small realistic release for the format tests: one schema with every exportable control, records
with consensus answers in the docs/SCHEMA.md shapes, some hostile values, and helpers to write a
format into a directory (twice, for the byte-identity checks)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from exports.formats import FORMATS
from exports.manifest import DirectoryOutput
from exports.records import ExportContext, ExportRecord, Media, RawAnnotation, lineage_dict

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SCHEMA = {
    "version": 1,
    "fields": [
        {"name": "text", "type": "text", "source": "text"},
        {"name": "image", "type": "image", "source": "image"},
        {"name": "audio", "type": "audio", "source": "audio"},
        {"name": "prompt", "type": "text", "source": "prompt"},
        {"name": "responses", "type": "candidates", "source": "responses"},
        {"name": "drafts", "type": "candidates", "source": "drafts"},
    ],
    "controls": [
        {
            "name": "sentiment",
            "type": "single_choice",
            "field": "text",
            "labels": [{"value": "positive"}, {"value": "negative"}, {"value": "neutral"}],
        },
        {
            "name": "topics",
            "type": "multiple_choice",
            "field": "text",
            "labels": [{"value": "battery"}, {"value": "screen"}],
        },
        {
            "name": "entities",
            "type": "spans",
            "field": "text",
            "labels": [{"value": "PER"}, {"value": "ORG"}],
        },
        {
            "name": "objects",
            "type": "bbox",
            "field": "image",
            "labels": [{"value": "car"}, {"value": "person"}],
        },
        {"name": "regions", "type": "polygon", "field": "image", "labels": [{"value": "road"}]},
        {
            "name": "pose",
            "type": "keypoints",
            "field": "image",
            "labels": [{"value": "person"}],
            "keypoints": [{"value": "nose"}, {"value": "left_eye"}, {"value": "right_eye"}],
            "skeleton": [["nose", "left_eye"], ["nose", "right_eye"]],
        },
        {"name": "transcript", "type": "transcription", "field": "audio"},
        {"name": "preference", "type": "pairwise", "field": "responses", "strength": True},
        {"name": "order", "type": "ranking", "field": "drafts"},
        {"name": "quality", "type": "rating", "field": "text", "min": 1, "max": 5},
    ],
}

TEXTS = [
    "Zoë Adams joined Acme in May.",
    'He said "hi", then left,\nand Acme\r\nwas quiet.',  # quotes, commas, CR/LF
    '=HYPERLINK("http://x") ../../etc/passwd',  # a formula and a path, as plain text
    "Bob met Ada at Globex.",
]
SPANS = [
    [
        {"id": "s1", "start": 0, "end": 9, "label": "PER", "text": "Zoë Adams"},
        {"id": "s2", "start": 17, "end": 21, "label": "ORG", "text": "Acme"},
    ],
    [{"id": "s1", "start": 29, "end": 33, "label": "ORG"}],
    [],
    [
        {"id": "a", "start": 0, "end": 3, "label": "PER"},
        {"id": "b", "start": 8, "end": 11, "label": "PER"},
        {"id": "c", "start": 15, "end": 21, "label": "ORG"},
    ],
]
SPLITS = ["train", "train", "validation", "test"]


def make_record(i: int, *, split: str | None = None) -> ExportRecord:
    k = i % 4
    text = TEXTS[k]
    labels = {
        "sentiment": ["positive", "neutral", "negative", "positive"][k],
        "topics": [["battery"], [], ["battery", "screen"], ["screen"]][k],
        "entities": SPANS[k],
        "objects": [
            {"x": 10, "y": 20.5, "width": 200, "height": 120, "label": "car"},
            {"x": 400, "y": 150, "width": 40, "height": 110, "label": "person"},
        ][: 2 - (k % 2)],
        "regions": [{"points": [[0, 300], [640, 300], [640, 480], [0, 480]], "label": "road"}],
        "pose": [
            {
                "label": "person",
                "points": [
                    {"name": "nose", "x": 320, "y": 200, "visibility": 2},
                    {"name": "left_eye", "x": 330, "y": 190, "visibility": 1},
                    {"name": "right_eye", "x": 0, "y": 0, "visibility": 0},
                ],
            }
        ],
        "transcript": ["Hello, how can I help?", "Ça va, merci\nau revoir", "", 'One, two; "three"'][k],
        "preference": [
            {"choice": "B", "strength": 2},
            {"choice": "A", "strength": 1},
            {"choice": "tie"},
            {"choice": "B", "strength": 3},
        ][k],
        "order": ["r2", "r1", "r3"],
        "quality": [4, 2, 5, 3][k],
    }
    if k == 2:
        del labels["transcript"]  # not answered
    controls = sorted(labels)
    annotations = (
        RawAnnotation(
            annotation_id=10 * i + 1, annotator="ann-7f3a", result=labels, revision=1, review="accepted"
        ),
        RawAnnotation(annotation_id=10 * i + 2, annotator="ann-c01d", result=labels, revision=2, review=None),
    )
    return ExportRecord(
        item_id=1000 + i,
        external_id=f"ext-{i}" if k != 3 else None,
        split=split if split is not None else SPLITS[k],
        data={
            "text": text,
            "image": f"street/{i}.jpg",
            "audio": f"calls/{i}.wav",
            "prompt": "Summarise: " + text,
            "responses": ["A short summary.", {"id": "long", "text": 'A longer, "careful" summary.'}],
            "drafts": [
                {"id": "r1", "text": "Good."},
                {"id": "r2", "text": "Very good."},
                {"id": "r3", "text": "Bad."},
            ],
        },
        media=Media(path=f"media/{1000 + i}.jpg", width=640, height=480, duration=12.5),
        schema_version=3,
        labels=labels,
        confidence={name: round(0.5 + 0.1 * k, 2) for name in controls},
        agreement={name: (None if name == "quality" else round(0.9 - 0.1 * k, 2)) for name in controls},
        annotations=annotations,
        lineage=lineage_dict(
            source="reviews-2024.jsonl",
            checksum=f"sha256:{i:064x}",
            annotation_ids=[a.annotation_id for a in annotations],
            annotators=[a.annotator for a in annotations],
            guideline_version=2,
            schema_version=3,
            review="accepted",
            aggregation={"sentiment": "dawid_skene", "objects": "box_consensus"},
            synthetic=k == 3,
        ),
    )


def make_records(count: int = 8) -> list[ExportRecord]:
    return [make_record(i) for i in range(count)]


@pytest.fixture
def ctx() -> ExportContext:
    return ExportContext(
        project_name="Reviews <b>&</b> Photos",
        project_slug="reviews",
        schema=SCHEMA,
        release_name="v1",
        release_number=1,
        include_raw=True,
    )


@pytest.fixture
def records() -> list[ExportRecord]:
    return make_records()


WriteFn = Callable[..., tuple[Path, list[str], DirectoryOutput]]


@pytest.fixture
def write_format(tmp_path: Path) -> WriteFn:
    """write_format(name, records, ctx, sub="a", place_media=None) -> (root, names, output)."""

    def write(name, records, ctx, sub="a", place_media=None):
        root = tmp_path / sub
        root.mkdir()
        output = DirectoryOutput(root)
        names = FORMATS[name].write(iter(records), ctx, output, place_media)
        return root, names, output

    return write


def assert_byte_identical(write_format: WriteFn, name: str, records, ctx, place_media=None) -> list[str]:
    """Write `name` twice from equal records and assert the same files with the same hashes."""
    _, names_a, out_a = write_format(name, records, ctx, sub="first", place_media=place_media)
    rebuilt = [replace(record) for record in records]
    _, names_b, out_b = write_format(name, rebuilt, ctx, sub="second", place_media=place_media)
    assert names_a == names_b
    assert names_a, "the format wrote nothing"
    assert out_a.entries() == out_b.entries()
    return names_a


def assert_mlcroissant_validates(path: Path) -> None:
    """`mlcroissant validate --jsonld path` (the reference validator) passes with no warning."""
    done = subprocess.run(
        [sys.executable, "-m", "mlcroissant.scripts.validate", "--jsonld", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Done." in done.stderr
    assert "not standard" not in done.stderr
    assert "warning(s) during the validation" not in done.stderr
