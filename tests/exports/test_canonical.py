import json
import math

import pytest

from exports.canonical import canonical_bytes, canonical_dumps, canonical_line


def test_sorts_keys_without_spaces_and_keeps_unicode():
    value = {"b": [1, 2.5, None, True], "a": {"z": "Zoë", "é": "\u2028"}}

    text = canonical_dumps(value)

    assert text == '{"a":{"z":"Zoë","é":"\u2028"},"b":[1,2.5,null,true]}'
    assert canonical_bytes(value) == text.encode("utf-8")
    assert json.loads(text) == value


def test_floats_use_the_shortest_round_trip_form():
    values = [0.1, 1e-7, 1e-5, 10.0, -0.0, 1e16, 1e21, 3, 2**63]

    text = canonical_dumps(values)

    assert text == "[0.1,1e-7,0.00001,10.0,-0.0,1e+16,1e+21,3,9223372036854775808]"
    assert json.loads(text) == values


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_refuses_nan_and_infinity(bad):
    with pytest.raises(ValueError, match="not canonical JSON"):
        canonical_dumps({"x": [bad]})


def test_line_ends_with_one_newline_and_escapes_newlines_inside():
    assert canonical_line({"t": "a\nb"}) == b'{"t":"a\\nb"}\n'


def test_refuses_what_json_cannot_say_exactly():
    from dataclasses import dataclass
    from datetime import date

    @dataclass
    class Point:
        x: int

    class Label(str):
        pass

    with pytest.raises(ValueError, match="not canonical JSON"):
        canonical_dumps(2**64)
    for bad in ({1: "int key"}, Point(1), date(2026, 1, 1), Label("x"), {1, 2}):
        with pytest.raises(TypeError, match="not canonical JSON"):
            canonical_dumps({"v": bad})


def test_escapes_only_quotes_backslashes_and_control_characters():
    assert canonical_bytes('\u2028\x7f\x1f\n\t"\\/é') == '"\u2028\x7f\\u001f\\n\\t\\"\\\\/é"'.encode()
