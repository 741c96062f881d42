import json

import pytest

from exports.canonical import canonical_dumps
from exports.formats import FORMATS, applicable_formats
from exports.manifest import DirectoryOutput
from exports.records import ExportRecord

from .conftest import SCHEMA, assert_byte_identical


def test_writes_one_canonical_line_per_record_per_split_in_item_order(write_format, records, ctx):
    root, names, _ = write_format("jsonl", records, ctx)

    assert names == ["jsonl/test.jsonl", "jsonl/train.jsonl", "jsonl/validation.jsonl"]
    lines = (root / "jsonl/train.jsonl").read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""
    rows = [json.loads(line) for line in lines[:-1]]
    assert [row["item_id"] for row in rows] == [1000, 1001, 1004, 1005]
    assert all(canonical_dumps(row) == line for row, line in zip(rows, lines, strict=False))
    first = rows[0]
    assert first["labels"] == records[0].labels
    assert first["confidence"]["sentiment"] == 0.5
    assert first["agreement"]["quality"] is None
    assert first["media"] == {
        "path": "media/1000.jpg",
        "width": 640,
        "height": 480,
        "duration": 12.5,
        "frame_count": None,
    }
    assert first["lineage"]["annotators"] == ["ann-7f3a", "ann-c01d"]
    assert [a["annotator"] for a in first["annotations"]] == ["ann-7f3a", "ann-c01d"]
    assert first["annotations"][0]["review"] == "accepted"


def test_raw_annotations_only_when_asked(write_format, records, ctx):
    from dataclasses import replace

    root, _, _ = write_format("jsonl", records, replace(ctx, include_raw=False))

    row = json.loads((root / "jsonl/test.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert "annotations" not in row


def test_unsplit_records_go_to_unsplit_file(write_format, records, ctx):
    from dataclasses import replace

    _, names, _ = write_format("jsonl", [replace(r, split=None) for r in records], ctx)

    assert names == ["jsonl/unsplit.jsonl"]


def test_a_split_name_that_is_a_path_is_refused(tmp_path, records, ctx):
    from dataclasses import replace

    hostile = [replace(records[0], split="../../etc")]

    with pytest.raises(ValueError, match="unsafe path segment"):
        FORMATS["jsonl"].write(iter(hostile), ctx, DirectoryOutput(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_rebuild_is_byte_identical(write_format, records, ctx):
    assert_byte_identical(write_format, "jsonl", records, ctx)


def test_nan_metrics_are_refused_when_the_record_is_built(records):
    from dataclasses import replace

    with pytest.raises(ValueError, match="use None, not NaN"):
        replace(records[0], confidence={"sentiment": float("nan")})
    with pytest.raises(ValueError, match="use None, not NaN"):
        replace(records[0], agreement={"sentiment": float("inf")})


def test_nan_inside_data_is_refused_rather_than_written(write_format, records, ctx):
    from dataclasses import replace

    bad = [replace(records[0], data={"score": float("nan")})]

    with pytest.raises(ValueError, match="not canonical JSON"):
        write_format("jsonl", bad, ctx)


def test_registry_lists_every_format_and_which_apply():
    assert set(FORMATS) >= {"jsonl", "csv", "parquet"}
    assert "jsonl" in applicable_formats(SCHEMA)
    assert all(isinstance(r, type) for r in [ExportRecord])
