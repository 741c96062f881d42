"""Streaming parsers for uploads (annotation.imports.formats), CSV/TSV and JSON arrays (format
detection, JSON Lines, text and Label Studio: test_import_formats.py). Pure: no database."""

import io
import json
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotation.imports.formats import DEFAULT_CHUNK_SIZE, parse
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


# CSV and TSV -----------------------------------------------------------------------------------


def test_csv_columns_feed_data_meta_id_and_provenance():
    content = (
        b"ID,text,Meta.language,meta:source,licence,consent,synthetic,generator\n"
        b"a-1,Hello,en,web,CC0,granted,false,\n"
        b" ,World,,,,,,\n"
    )

    records = parsed(content, "csv")

    assert records == [
        Record(
            line=2,
            data={"text": "Hello"},
            meta={"language": "en", "source": "web"},
            external_id="a-1",
            provenance={"licence": "CC0", "consent": "granted", "synthetic": "false"},
        ),
        Record(line=3, data={"text": "World"}),
    ]


def test_csv_of_data_columns_only():
    content = b" prompt , answer\nWhat?,That.\n"

    records = parsed(content, "csv")

    assert records == [Record(line=2, data={"prompt": "What?", "answer": "That."})]


def test_csv_quoted_newlines_keep_physical_line_numbers():
    content = b'text,label\n"two\nlines",a\nplain,b\n\n"three\n\nlines",c\n,\nlast,d'

    records = parsed(content, "csv")

    assert records == [
        Record(line=2, data={"text": "two\nlines", "label": "a"}),
        Record(line=4, data={"text": "plain", "label": "b"}),
        Record(line=6, data={"text": "three\n\nlines", "label": "c"}),
        Record(line=10, data={"text": "last", "label": "d"}),
    ]


def test_csv_with_old_mac_line_endings_counts_lines_like_csv_does():
    content = b'text,label\r"a\rb",x\r\rc,y\r\nd,z'

    records = parsed(content, "csv")

    assert records == [
        Record(line=2, data={"text": "a\rb", "label": "x"}),
        Record(line=5, data={"text": "c", "label": "y"}),
        Record(line=6, data={"text": "d", "label": "z"}),
    ]


def test_ragged_csv_rows_are_row_errors_and_later_rows_still_parse():
    content = b"text,label\na,b,c\nd\ne,f\n"

    records = parsed(content, "csv")

    assert records == [
        RowError(2, "", "row has 3 cells; the header has 2"),
        RowError(3, "", "row has 1 cells; the header has 2"),
        Record(line=4, data={"text": "e", "label": "f"}),
    ]


def test_csv_byte_order_mark_is_removed_from_the_header():
    records = parsed(BOM + b"text\nhello\n", "csv")

    assert records == [Record(line=2, data={"text": "hello"})]


def test_csv_latin1_row_is_a_row_error_and_later_rows_still_parse():
    content = 'text,label\nok,a\n"café\nau lait",b\nfine,c\n'.encode("latin-1")

    records = parsed(content, "csv")

    assert records == [
        Record(line=2, data={"text": "ok", "label": "a"}),
        RowError(3, "", "not valid UTF-8 (line 3, byte 5)"),
        Record(line=5, data={"text": "fine", "label": "c"}),
    ]


def test_csv_latin1_header_is_a_file_error():
    with pytest.raises(FileError) as error:
        parsed("café,label\nx,y\n".encode("latin-1"), "csv")

    assert error.value.code == "encoding"
    assert error.value.message == (
        "The file is not valid UTF-8 (line 1, byte 4). Save it as UTF-8 and upload it again."
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The first line must name the columns; it is empty."),
        (b"\ntext\n", "The first line must name the columns; it is empty."),
        (b"text,,label\n", "Column 2 of the header has no name."),
        (b"text,label,text \n", 'The columns "text" and "text" say the same thing.'),
        (b"id,external_id,text\n", 'The columns "id" and "external_id" say the same thing.'),
        (b"licence,license,text\n", 'The columns "licence" and "license" say the same thing.'),
        (b"meta.lang,meta:lang,text\n", 'The columns "meta.lang" and "meta:lang" say the same thing.'),
        (b"text,meta.\n", 'Column 2 ("meta.") names no metadata key.'),
        (b"id,meta.lang,consent\n", "The header has no data columns, only ids, metadata or provenance."),
    ],
)
def test_bad_csv_headers_are_file_errors(content, message):
    with pytest.raises(FileError) as error:
        parsed(content, "csv")

    assert (error.value.code, error.value.message) == ("bad_header", message)


def test_csv_field_larger_than_the_csv_module_default_is_read():
    big = "x" * 200_000

    records = parsed(f"text\n{big}\n".encode(), "csv")

    assert records == [Record(line=2, data={"text": big})]


def test_oversized_csv_row_is_skipped_and_the_next_row_still_parses():
    content = b'text,label\n"' + b"x" * 100 + b'",a\nsmall,b\n'

    records = parsed(content, "csv", max_record_bytes=50)

    assert records == [
        RowError(2, "", "record is 104 bytes; the limit is 50"),
        Record(line=3, data={"text": "small", "label": "b"}),
    ]


def test_oversized_csv_line_is_skipped_without_holding_it():
    stream = io.BytesIO(b"text\r\n" + b"x" * (10 * MiB) + b"\r\nsmall\r\n")

    records, peak = peak_bytes_while_parsing(stream, "csv", max_record_bytes=MiB)

    assert records == [
        RowError(2, "", f"record is {10 * MiB} bytes; the limit is {MiB}"),
        Record(line=3, data={"text": "small"}),
    ]
    assert peak < 4 * MiB


def test_oversized_line_inside_a_quoted_value_is_a_file_error():
    content = b'text,label\n"starts here\n' + b"x" * 100 + b'",a\n'

    with pytest.raises(FileError) as error:
        parsed(content, "csv", max_record_bytes=50)

    assert error.value.code == "record_too_large"
    assert error.value.message == (
        "Line 3 is 103 bytes, over the limit of 50 bytes for one record, inside a quoted value; "
        "the rest of the file cannot be read reliably."
    )


def test_csv_record_outgrowing_the_limit_across_lines_is_a_file_error():
    content = b'text,label\nok,a\n"unclosed quote,b\n' + b"more,c\n" * 20

    with pytest.raises(FileError) as error:
        parsed(content, "csv", max_record_bytes=50)

    assert error.value.code == "record_too_large"
    assert error.value.message == (
        "The record starting on line 3 is longer than 50 bytes (is a quote left open?); "
        "the rest of the file cannot be read reliably."
    )


def test_tsv_splits_on_tabs_and_honours_quotes():
    content = b'id\ttext\tmeta.lang\n1\tHello, world\ten\n2\t"tab\tinside"\tde\n'

    records = parsed(content, "tsv")

    assert records == [
        Record(line=2, data={"text": "Hello, world"}, meta={"lang": "en"}, external_id="1"),
        Record(line=3, data={"text": "tab\tinside"}, meta={"lang": "de"}, external_id="2"),
    ]


# JSON arrays -----------------------------------------------------------------------------------


TRICKY_ARRAY = (
    '[\n  {"id": 1, "text": "brackets ] } [ { and \\"escaped quotes\\" and \\\\ backslash\\\\"},\n'
    '  {"text": "café 😀", "nested": [[1, [2.5e3, -0.1]], {"a": {"b": [true, false, null]}}]},\n'
    "  12345,\n"
    '  {"data": {"text": "task"}, "predictions": [{"result": []}]} ,\n'
    '  {"text": "\\u00e9\\ud83d\\ude00 \\"]\\"", "meta": {"k": "}"}}\n'
    "]\n"
).encode()

TRICKY_RECORDS = [
    Record(
        line=1, data={"text": 'brackets ] } [ { and "escaped quotes" and \\ backslash\\'}, external_id="1"
    ),
    Record(
        line=2, data={"text": "café 😀", "nested": [[1, [2500.0, -0.1]], {"a": {"b": [True, False, None]}}]}
    ),
    RowError(3, "", "expected a JSON object, got a number"),
    Record(line=4, data={"text": "task"}, predictions=[{"result": []}]),
    Record(line=5, data={"text": 'é😀 "]"'}, meta={"k": "}"}),
]


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64, DEFAULT_CHUNK_SIZE])
def test_json_array_streamed_in_any_chunk_size_gives_the_same_records(chunk_size):
    records = parsed(TRICKY_ARRAY, "json", chunk_size=chunk_size)

    assert records == TRICKY_RECORDS


def test_json_empty_array_and_byte_order_mark():
    assert parsed(BOM + b" [ ] \n", "json") == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"text": "a"}', "The file must hold one JSON array ([...]) of items; it starts with '{'."),
        (b"  \n", "The file must hold one JSON array ([...]) of items; it is empty."),
        (b'"text"', "The file must hold one JSON array ([...]) of items; it starts with '\"'."),
    ],
)
def test_json_top_level_that_is_not_an_array_is_a_file_error(content, message):
    with pytest.raises(FileError) as error:
        parsed(content, "json", chunk_size=7)

    assert (error.value.code, error.value.message) == ("not_an_array", message)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (
            b'[\n  {"text": "a"},\n  {"text" "b"},\n  {"text": "c"}\n]',
            RowError(
                2,
                "",
                "invalid JSON: Expecting ':' delimiter (line 3, column 11); "
                "the rest of the file was not read",
            ),
        ),
        (
            b'[{"text": "a"} {"text": "b"}]',
            RowError(
                2,
                "",
                "invalid JSON: expected ',' or ']' after record 1, found '{' (line 1, column 16); "
                "the rest of the file was not read",
            ),
        ),
        (
            b'[{"text": "a"}, ]',
            RowError(
                2,
                "",
                "invalid JSON: a ',' must be followed by another record, not ']' (line 1, column 17); "
                "the rest of the file was not read",
            ),
        ),
        (
            b'[{"text": "a"}, {"text": "b',
            RowError(
                2,
                "",
                "invalid JSON: the file ends inside the record (line 1, column 17); "
                "the rest of the file was not read",
            ),
        ),
        (
            b'[{"text": "a"}] x',
            RowError(
                2,
                "",
                "invalid JSON: unexpected 'x' after the end of the array (line 1, column 17); "
                "the rest of the file was not read",
            ),
        ),
    ],
)
def test_malformed_json_array_reports_the_record_and_stops(content, error):
    records = parsed(content, "json", chunk_size=5)

    assert records == [Record(line=1, data={"text": "a"}), error]


def test_json_mismatched_bracket_is_a_syntax_error_not_an_oversized_record():
    content = b'[{"text": [1, 2}, {"c": "' + b"x" * 100 + b'"}]'

    records = parsed(content, "json", max_record_bytes=30, chunk_size=7)

    assert records == [
        RowError(
            1,
            "",
            "invalid JSON: Expecting ',' delimiter (line 1, column 16); the rest of the file was not read",
        )
    ]


def test_json_latin1_is_a_file_error_with_the_byte_offset():
    content = '[{"text": "a"}, {"text": "café"}]'.encode("latin-1")

    with pytest.raises(FileError) as error:
        parsed(content, "json", chunk_size=4)

    assert error.value.code == "encoding"
    assert error.value.message == (
        "The file is not valid UTF-8 (byte offset 29). Save it as UTF-8 and upload it again."
    )


def test_json_utf8_character_split_across_chunks_is_decoded():
    content = '[{"text": "😀é"}]'.encode()

    assert parsed(content, "json", chunk_size=1) == [Record(line=1, data={"text": "😀é"})]


def test_oversized_json_element_is_skipped_and_the_next_one_read():
    content = b'[{"text": "' + b'x\\"]}' * 40 + b'"}, {"text": "next"}]'

    records = parsed(content, "json", max_record_bytes=64, chunk_size=7)

    assert records == [
        RowError(1, "", "record is 212 bytes; the limit is 64"),
        Record(line=2, data={"text": "next"}),
    ]


def test_oversized_json_element_is_skipped_without_holding_it():
    big = b'{"text": "' + b"x" * (10 * MiB) + b'"}'
    stream = io.BytesIO(b"[" + big + b', {"text": "next"}]')

    records, peak = peak_bytes_while_parsing(stream, "json", max_record_bytes=MiB)

    assert records == [
        RowError(1, "", f"record is {len(big)} bytes; the limit is {MiB}"),
        Record(line=2, data={"text": "next"}),
    ]
    assert peak < 4 * MiB


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@given(st.lists(json_values, max_size=6), st.integers(min_value=1, max_value=40), st.booleans())
def test_streamed_json_array_matches_json_loads(values, chunk_size, indent):
    content = json.dumps(values, indent=2 if indent else None, ensure_ascii=False).encode()

    records = parsed(content, "json", chunk_size=chunk_size)

    expected = parsed(content, "json", chunk_size=len(content) + 1)
    assert records == expected
    assert len(records) == len(values)
