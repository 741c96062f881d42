import csv
import io
import json

from exports.formats.csv import columns

from .conftest import assert_byte_identical


def read_rows(path):
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_stdlib_reader_gets_every_value_back_exactly(write_format, records, ctx):
    root, names, _ = write_format("csv", records, ctx)

    assert names == ["csv/test.csv", "csv/train.csv", "csv/validation.csv"]
    rows = read_rows(root / "csv/train.csv")
    assert [int(r["item_id"]) for r in rows] == [1000, 1001, 1004, 1005]
    tricky = rows[1]  # quotes, commas, CR/LF in the text and in the transcript
    assert json.loads(tricky["data"])["text"] == 'He said "hi", then left,\nand Acme\r\nwas quiet.'
    assert tricky["label.transcript"] == "Ça va, merci\nau revoir"
    assert tricky["label.sentiment"] == "neutral"
    assert json.loads(tricky["label.topics"]) == []
    assert json.loads(tricky["label.objects"]) == records[1].labels["objects"]
    assert tricky["label.quality"] == "2"
    assert tricky["agreement.quality"] == ""
    assert float(tricky["confidence.sentiment"]) == 0.6
    assert list(rows[0]) == columns(ctx)


def test_formula_and_path_like_text_stay_plain_cells(write_format, records, ctx):
    root, _, _ = write_format("csv", records, ctx)

    row = read_rows(root / "csv/validation.csv")[0]
    assert json.loads(row["data"])["text"] == '=HYPERLINK("http://x") ../../etc/passwd'
    assert "label.transcript" in row and row["label.transcript"] == ""  # not answered: empty
    assert sorted(p.name for p in (root / "csv").iterdir()) == ["test.csv", "train.csv", "validation.csv"]


def test_rfc4180_line_ends_and_header(write_format, records, ctx):
    root, _, _ = write_format("csv", records, ctx)

    raw = (root / "csv/test.csv").read_bytes()
    assert raw.startswith(b"item_id,external_id,split,media,label.sentiment,")
    assert raw.endswith(b"\r\n")
    assert len(list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))) == 3  # header + 2 rows


def test_rebuild_is_byte_identical(write_format, records, ctx):
    assert_byte_identical(write_format, "csv", records, ctx)
