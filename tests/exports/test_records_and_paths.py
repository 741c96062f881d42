"""Record helpers, the registry's applicability rules, tallies, and names that must never become paths."""

from dataclasses import replace

import pytest

from exports.facts import ReleaseTally
from exports.formats import FORMATS, applicable_formats
from exports.formats.base import ExportFormat, safe_segment
from exports.records import ExportContext, Media

from .conftest import SCHEMA

TEXT_ONLY = {
    "version": 1,
    "fields": [{"name": "text", "type": "text"}],
    "controls": [{"name": "ner", "type": "spans", "field": "text", "labels": [{"value": "PER"}]}],
}


def test_every_registered_format_satisfies_the_protocol():
    assert " ".join(FORMATS) == "jsonl csv parquet coco yolo voc conll preference ranking asr labelstudio"
    assert all(isinstance(fmt, ExportFormat) and fmt.name == name for name, fmt in FORMATS.items())


def test_applicable_formats_follow_the_schema_controls():
    assert applicable_formats(TEXT_ONLY) == ["jsonl", "csv", "parquet", "conll", "labelstudio"]
    assert applicable_formats(SCHEMA) == list(FORMATS)


@pytest.mark.parametrize(
    ("path", "suffix"),
    [
        ("media/1.JPG", ".jpg"),
        ("https://cdn.example/a/b.png?sig=1/2", ".png"),
        ("media/evil.jpg/../../x", ""),
        ("media/.hidden", ""),
        ("media/a.tar.gz", ".gz"),
        ("media/a.p/ng", ""),
        ("media/x.verylongextension", ""),
    ],
)
def test_media_suffix_is_safe_for_file_names(path, suffix):
    assert Media(path).suffix == suffix


@pytest.mark.parametrize("segment", ["..", ".", "a/b", "", "a\\b", "-x" * 80, "é"])
def test_unsafe_segments_are_refused(segment):
    with pytest.raises(ValueError):
        safe_segment(segment)


@pytest.mark.parametrize("name", ["yolo", "voc", "coco", "conll", "asr"])
def test_hostile_external_ids_and_media_paths_never_become_file_names(write_format, records, ctx, name):
    hostile = [
        replace(r, external_id="../../../etc/passwd", media=replace(r.media, path="../../x/evil.jpg"))
        for r in records
    ]
    placed = []

    root, names, _ = write_format(name, hostile, ctx, place_media=lambda media, rel: placed.append(rel))

    every = names + placed
    assert every
    assert not any(".." in n.split("/") or "passwd" in n or "evil" in n for n in every)
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == sorted(names)


def test_a_control_name_that_is_a_path_is_refused(write_format, records, ctx):
    schema = {
        **SCHEMA,
        "controls": [{"name": "../x", "type": "spans", "field": "text", "labels": [{"value": "PER"}]}],
    }

    with pytest.raises(ValueError, match="unsafe path segment"):
        write_format("conll", records, replace(ctx, schema=schema))


def test_tally_counts_splits_labels_annotators_and_means(records):
    tally = ReleaseTally(SCHEMA)

    passed = list(tally.wrap(iter(records)))
    summary = tally.summary()

    assert passed == records
    assert summary["counts"]["records"] == 8
    assert summary["counts"]["labels"]["objects"] == {"car": 8, "person": 4}
    assert summary["counts"]["labels"]["entities"] == {"ORG": 6, "PER": 6}
    assert summary["counts"]["labels"]["preference"] == {"A": 2, "B": 4, "tie": 2}
    assert summary["counts"]["labels"]["transcript"] == {"(answered)": 6}
    assert summary["sources"] == {"reviews-2024.jsonl": 8}
    assert summary["mean_confidence"]["sentiment"] == pytest.approx(0.65)
    assert "quality" not in summary["mean_item_agreement"]  # every value was None


def test_context_finds_fields_and_controls():
    ctx = ExportContext("P", "p", SCHEMA, "v1", 1)

    assert [c["name"] for c in ctx.controls("bbox", "polygon")] == ["objects", "regions"]
    assert ctx.field_source("image") == "image"
    assert ctx.field("missing") is None
