"""Streaming parsers for uploads (annotation.imports.formats): format detection, JSON Lines, text and
Label Studio (CSV/TSV and JSON arrays: test_import_formats_tabular.py). Pure: no database."""

import io
import json
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotation.imports.formats import DEFAULT_CHUNK_SIZE, detect_format, parse
from annotation.imports.normalise import NUL_REASON, find_invalid_text
from annotation.imports.records import FileError, Record, RowError

MiB = 1024 * 1024
BOM = b"\xef\xbb\xbf"


def parsed(content: bytes, fmt: str, *, max_record_bytes: int = MiB, chunk_size: int = DEFAULT_CHUNK_SIZE):
    return list(parse(io.BytesIO(content), fmt, max_record_bytes=max_record_bytes, chunk_size=chunk_size))


def peak_bytes_while_parsing(stream: io.BytesIO, fmt: str, **options) -> tuple[list, int]:
    tracemalloc.start()
    try:
        results = list(parse(stream, fmt, **options))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return results, peak


# detect_format ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "fmt"),
    [
        ("items.jsonl", "jsonl"),
        ("items.ndjson", "jsonl"),
        ("Items.CSV", "csv"),
        ("items.tsv", "tsv"),
        ("notes.txt", "text"),
        ("export.v2.json", "json"),
    ],
)
def test_detects_format_from_extension(filename, fmt):
    head = b'[{"text": "a"}]' if filename.endswith(".json") else b"text\na\n"

    assert detect_format(filename, head) == fmt


def test_detects_label_studio_from_first_task_with_data_object():
    head = BOM + b'  \n[\n  {"id": 1, "data": {"text": "a"}, "annotations": []}\n]'

    assert detect_format("export.json", head) == "labelstudio"


def test_detects_label_studio_when_first_task_is_longer_than_head():
    head = b'[{"id": 1, "data": {"text": "' + b"x" * 100  # cut inside the first task

    assert detect_format("export.json", head) == "labelstudio"


def test_json_array_of_items_is_json_even_with_a_data_string():
    head = b'[{"data": "not an object", "text": "a"}]'

    assert detect_format("items.json", head) == "json"


def test_json_lines_named_json_is_jsonl():
    head = b'{"text": "a"}\n{"text": "b"}\n'

    assert detect_format("dump.json", head) == "jsonl"


def test_pretty_printed_object_stays_json_so_parsing_can_explain():
    head = b'{\n  "text": "a"\n}\n'

    assert detect_format("item.json", head) == "json"


@pytest.mark.parametrize("filename", ["items.xlsx", "items", "data.json.gz"])
def test_unknown_extension_is_a_file_error(filename):
    with pytest.raises(FileError) as error:
        detect_format(filename, b"text\n")

    assert error.value.code == "unknown_format"
    assert error.value.message == (
        f'Cannot tell the format of "{filename}". Name the file .jsonl, .ndjson, .json, .csv, .tsv or .txt.'
    )


def test_unknown_format_name_is_a_file_error():
    with pytest.raises(FileError) as error:
        parse(io.BytesIO(b""), "xml", max_record_bytes=MiB)

    assert error.value.code == "unknown_format"


# JSON Lines ------------------------------------------------------------------------------------


def test_jsonl_separates_data_from_id_meta_and_provenance():
    content = (
        b'{"text": "first", "id": 12, "meta": {"language": "en"}}\n'
        b'{"external_id": " doc-2 ", "prompt": "p", "answer": "a", "licence": "CC-BY-4.0", '
        b'"license": "ignored", "consent": "granted", "synthetic": true, "generator": "gpt-x"}\n'
    )

    records = parsed(content, "jsonl")

    assert records == [
        Record(line=1, data={"text": "first"}, meta={"language": "en"}, external_id="12"),
        Record(
            line=2,
            data={"prompt": "p", "answer": "a"},
            external_id="doc-2",
            provenance={
                "licence": "CC-BY-4.0",
                "consent": "granted",
                "synthetic": True,
                "generator": "gpt-x",
            },
        ),
    ]


def test_jsonl_object_is_the_data_as_given():
    records = parsed(b'{"text": "a", "turns": [{"role": "user", "content": "hi"}], "score": 0.5}\n', "jsonl")

    assert records == [
        Record(line=1, data={"text": "a", "turns": [{"role": "user", "content": "hi"}], "score": 0.5})
    ]


def test_jsonl_label_studio_task_shape():
    line = {
        "id": 7,
        "data": {"text": "a"},
        "meta": {"batch": 3},
        "predictions": [{"model_version": "v1", "result": []}],
        "annotations": [{"result": [{"value": {"choices": ["pos"]}}]}],
        "created_at": "2024-01-01",
    }

    records = parsed(json.dumps(line).encode() + b"\n", "jsonl")

    assert records == [
        Record(
            line=1,
            data={"text": "a"},
            meta={"batch": 3},
            external_id="7",
            predictions=[{"model_version": "v1", "result": []}],
            annotations=[{"result": [{"value": {"choices": ["pos"]}}]}],
        )
    ]


def test_jsonl_skips_blank_lines_and_counts_physical_lines():
    content = b'\n{"text": "a"}\r\n   \n\n  {"text": "b"}  \n{"text": "c"}'

    records = parsed(content, "jsonl")

    assert records == [
        Record(line=2, data={"text": "a"}),
        Record(line=5, data={"text": "b"}),
        Record(line=6, data={"text": "c"}),
    ]


def test_malformed_json_line_is_reported_and_later_lines_still_parse():
    content = b'{"text": "a"}\n{"text": "b" "c"}\n{"a": 1} {"b": 2}\n{"text": "d"}\n'

    records = parsed(content, "jsonl")

    assert records == [
        Record(line=1, data={"text": "a"}),
        RowError(line=2, field="", reason="invalid JSON: Expecting ',' delimiter at column 14"),
        RowError(line=3, field="", reason="invalid JSON: Extra data at column 10"),
        Record(line=4, data={"text": "d"}),
    ]


def test_jsonl_values_that_are_not_objects_are_row_errors():
    content = b'[1]\n"s"\nnull\ntrue\n1.5\n{}\n'

    records = parsed(content, "jsonl")

    assert records == [
        RowError(1, "", "expected a JSON object, got an array"),
        RowError(2, "", "expected a JSON object, got a string"),
        RowError(3, "", "expected a JSON object, got null"),
        RowError(4, "", "expected a JSON object, got true"),
        RowError(5, "", "expected a JSON object, got a number"),
        RowError(6, "", "the object is empty"),
    ]


def test_jsonl_reserved_fields_with_wrong_shapes_are_row_errors():
    content = (
        b'{"id": 3}\n'
        b'{"id": [1], "text": "a"}\n'
        b'{"id": true, "text": "a"}\n'
        b'{"id": 1, "external_id": "2", "text": "a"}\n'
        b'{"meta": "en", "text": "a"}\n'
        b'{"id": "' + b"x" * 256 + b'", "text": "a"}\n'
        b'{"id": 1, "external_id": "1", "meta": null, "text": "a"}\n'
        b'{"id": "", "text": "a"}\n'
    )

    records = parsed(content, "jsonl")

    assert records == [
        RowError(1, "", "the object has no data, only an id, metadata or provenance"),
        RowError(2, "id", "must be a string or an integer"),
        RowError(3, "id", "must be a string or an integer"),
        RowError(4, "id", 'differs from "external_id"; give one of them'),
        RowError(5, "meta", "must be an object"),
        RowError(6, "id", "is 256 characters; the limit is 255"),
        Record(line=7, data={"text": "a"}, external_id="1"),
        Record(line=8, data={"text": "a"}),
    ]


def test_jsonl_raw_control_character_numbers_and_nesting_beyond_json_are_row_errors():
    content = b'{"text": "a\x00b"}\n{"n": 1' + b"1" * 5000 + b'}\n{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"

    records = parsed(content, "jsonl")

    assert records == [
        RowError(1, "", "invalid JSON: Invalid control character at column 12"),
        RowError(2, "", "invalid JSON: a number has too many digits"),
        RowError(3, "", "invalid JSON: nested too deeply"),
    ]


def test_jsonl_latin1_line_is_a_row_error_and_later_lines_still_parse():
    content = '{"text": "café"}\n{"text": "ok"}\n'.encode("latin-1")

    records = parsed(content, "jsonl")

    assert records == [
        RowError(1, "", "not valid UTF-8 at byte 14 of the line"),
        Record(line=2, data={"text": "ok"}),
    ]


def test_jsonl_byte_order_mark_is_removed():
    records = parsed(BOM + b'{"text": "a"}\n', "jsonl")

    assert records == [Record(line=1, data={"text": "a"})]


def test_escaped_nul_and_lone_surrogate_parse_and_are_found_by_the_text_check():
    content = (
        b'{"text": "a\\u0000b"}\n{"text": "x", "turns": ["ok", "\\ud800"]}\n{"text": "\\ud83d\\ude00"}\n'
    )

    records = parsed(content, "jsonl")

    assert records == [
        Record(line=1, data={"text": "a\x00b"}),
        Record(line=2, data={"text": "x", "turns": ["ok", "\ud800"]}),
        Record(line=3, data={"text": "\U0001f600"}),
    ]
    assert find_invalid_text(records[0].data, "data") == ("data.text", NUL_REASON)
    assert find_invalid_text(records[1].data, "data") == (
        "data.turns[1]",
        "contains an unpaired UTF-16 surrogate (\\ud800), which cannot be stored",
    )
    assert find_invalid_text(records[2].data, "data") is None


def test_jsonl_line_of_exactly_the_limit_is_read_and_one_byte_more_is_not():
    fits = b'{"text": "' + b"x" * 8 + b'"}'  # 20 bytes
    content = fits + b"\n" + fits[:-2] + b'x"}\n' + fits

    records = parsed(content, "jsonl", max_record_bytes=20)

    assert records == [
        Record(line=1, data={"text": "x" * 8}),
        RowError(2, "", "record is 21 bytes; the limit is 20"),
        Record(line=3, data={"text": "x" * 8}),
    ]


def test_oversized_jsonl_line_is_skipped_without_holding_it():
    big = b'{"text": "' + b"x" * (10 * MiB) + b'"}'
    stream = io.BytesIO(big + b'\n{"text": "next"}\n')

    records, peak = peak_bytes_while_parsing(stream, "jsonl", max_record_bytes=MiB)

    assert records == [
        RowError(1, "", f"record is {len(big)} bytes; the limit is {MiB}"),
        Record(line=2, data={"text": "next"}),
    ]
    assert peak < 4 * MiB


RESERVED_KEYS = {"id", "external_id", "meta", "licence", "license", "consent", "synthetic", "generator"}


@given(
    st.lists(
        st.dictionaries(
            st.text(min_size=1).filter(lambda key: key not in RESERVED_KEYS), st.text(), min_size=1
        ),
        max_size=5,
    ),
    st.booleans(),
)
def test_jsonl_round_trips_dicts_of_text(items, ensure_ascii):
    content = "".join(json.dumps(item, ensure_ascii=ensure_ascii) + "\n" for item in items).encode()

    records = parsed(content, "jsonl")

    assert records == [Record(line=index + 1, data=item) for index, item in enumerate(items)]


# Text ------------------------------------------------------------------------------------------


def test_text_makes_one_item_per_non_blank_line():
    content = BOM + b"first line\r\n\n   \n  indented  \nlast without newline"

    records = parsed(content, "text")

    assert records == [
        Record(line=1, data={"text": "first line"}),
        Record(line=4, data={"text": "  indented  "}),
        Record(line=5, data={"text": "last without newline"}),
    ]


def test_text_reports_undecodable_and_oversized_lines_and_goes_on():
    content = b"ok\ncaf\xe9\n" + b"y" * 50 + b"\nafter\n"

    records = parsed(content, "text", max_record_bytes=10)

    assert records == [
        Record(line=1, data={"text": "ok"}),
        RowError(2, "", "not valid UTF-8 at byte 4 of the line"),
        RowError(3, "", "record is 50 bytes; the limit is 10"),
        Record(line=4, data={"text": "after"}),
    ]


# Label Studio ----------------------------------------------------------------------------------


def test_label_studio_tasks_become_records_with_predictions_and_annotations():
    tasks = [
        {
            "id": 101,
            "data": {"text": "I love it", "title": "review"},
            "meta": {"split": "train"},
            "predictions": [
                {"model_version": "m1", "score": 0.9, "result": [{"value": {"choices": ["pos"]}}]}
            ],
            "annotations": [{"completed_by": 3, "result": [{"value": {"choices": ["pos"]}}]}],
            "project": 5,
        },
        {"data": {"image": "s3://bucket/1.png"}},
        {"id": 103, "text": "no data object"},
        {"data": "a string"},
        {"data": {"text": "x"}, "predictions": {"not": "a list"}},
        ["not a task"],
    ]

    records = parsed(json.dumps(tasks).encode(), "labelstudio", chunk_size=16)

    assert records == [
        Record(
            line=1,
            data={"text": "I love it", "title": "review"},
            meta={"split": "train"},
            external_id="101",
            predictions=[{"model_version": "m1", "score": 0.9, "result": [{"value": {"choices": ["pos"]}}]}],
            annotations=[{"completed_by": 3, "result": [{"value": {"choices": ["pos"]}}]}],
        ),
        Record(line=2, data={"image": "s3://bucket/1.png"}),
        RowError(3, "data", 'a Label Studio task needs a "data" object'),
        RowError(4, "data", 'a Label Studio task needs a "data" object'),
        RowError(5, "predictions", "must be a list"),
        RowError(6, "", "expected a JSON object, got an array"),
    ]


def test_label_studio_file_that_is_not_an_array_is_a_file_error():
    with pytest.raises(FileError) as error:
        parsed(b'{"data": {"text": "a"}}', "labelstudio")

    assert error.value.code == "not_an_array"
    assert error.value.message == "The file must hold one JSON array ([...]) of tasks; it starts with '{'."
