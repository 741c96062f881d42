"""Checks, hashes and search text for imported data (annotation.imports.normalise). Pure: no database."""

import hashlib
import random
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotation.imports.normalise import (
    MAX_DEPTH,
    NUL_REASON,
    ItemDigest,
    canonical_json,
    check_text,
    checksum,
    coerce_provenance,
    content_hash,
    find_invalid_text,
    item_digest,
    normalise_text,
    search_text,
)

SURROGATE_REASON = "contains an unpaired UTF-16 surrogate (\\udc00), which cannot be stored"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# Text that PostgreSQL cannot store -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("plain", None),
        ("café 😀 \u2028", None),
        ("a\x00b", NUL_REASON),
        ("caf\udc00é", SURROGATE_REASON),
    ],
)
def test_check_text(value, reason):
    assert check_text(value) == reason


def test_finds_the_path_of_the_first_bad_string():
    data = {"text": "fine", "turns": [{"role": "user", "content": "ok"}, {"role": "bot", "content": "a\x00"}]}

    assert find_invalid_text(data, "data") == ("data.turns[1].content", NUL_REASON)


def test_bad_key_is_reported_at_its_object():
    data = {"turns": [{"ro\udc00le": "user"}]}

    assert find_invalid_text(data, "data") == ("data.turns[0]", f"has a key that {SURROGATE_REASON}")


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_invalid(number):
    assert find_invalid_text({"score": number}, "meta") == (
        "meta.score",
        "is NaN or infinite, which JSON cannot store",
    )


def test_nesting_deeper_than_the_limit_is_invalid():
    deep: list = []
    value = deep
    for _ in range(MAX_DEPTH):
        value.append([])
        value = value[0]

    assert find_invalid_text({"a": deep}, "data") == (
        "data.a" + "[0]" * (MAX_DEPTH - 1),
        f"is nested more than {MAX_DEPTH} levels deep",
    )


def test_valid_values_have_nothing_to_report():
    data = {"text": "é", "n": 1, "f": 0.5, "ok": True, "none": None, "list": [["x"]], "obj": {"k": "v"}}

    assert find_invalid_text(data, "data") is None
    assert find_invalid_text(None, "external_id") is None
    assert find_invalid_text("a\x00", "external_id") == ("external_id", NUL_REASON)


# Canonical JSON and hashes ---------------------------------------------------------------------


def test_canonical_json_sorts_keys_and_keeps_non_ascii():
    value = {"b": 1, "a": ["é", None, True, 1.5, {"z": "", "y": "\n"}]}

    assert canonical_json(value) == '{"a":["é",null,true,1.5,{"y":"\\n","z":""}],"b":1}'


def test_checksum_is_the_sha256_of_the_canonical_json():
    assert checksum({"text": "Hello", "id": 2}) == sha256('{"id":2,"text":"Hello"}')


def test_content_hash_is_the_sha256_of_the_normalised_canonical_json():
    assert content_hash({"text": "  Hello \n\t world  "}) == sha256('{"text":"Hello world"}')
    assert content_hash({"b": " x  y ", "a": ["  z"]}) == sha256('{"a":["z"],"b":"x y"}')


def test_content_hash_ignores_whitespace_but_not_case_or_key_names():
    assert content_hash({"text": "Hello  world\n"}) == content_hash({"text": "Hello world"})
    assert content_hash({"text": "Apple"}) != content_hash({"text": "apple"})
    assert content_hash({"text": "a", "label ": "x"}) != content_hash({"text": "a", "label": "x"})


def test_hashes_do_not_fail_on_lone_surrogates():
    assert (
        checksum({"text": "\ud800"})
        == hashlib.sha256('{"text":"\ud800"}'.encode("utf-8", "surrogatepass")).hexdigest()
    )
    assert content_hash({"text": "\ud800"}) == checksum({"text": "\ud800"})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=15,
)


def reordered(value, rng: random.Random):
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: reordered(item, rng) for key, item in items}
    if isinstance(value, list):
        return [reordered(item, rng) for item in value]
    return value


@given(st.dictionaries(st.text(max_size=6), json_values, max_size=6), st.randoms(use_true_random=False))
def test_canonical_json_and_checksum_ignore_key_order(data, rng):
    shuffled = reordered(data, rng)

    assert canonical_json(shuffled) == canonical_json(data)
    assert checksum(shuffled) == checksum(data)
    assert content_hash(shuffled) == content_hash(data)


words = st.lists(
    st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1), min_size=1
)
whitespace = st.text(st.sampled_from(" \t\n\r\x0b\x0c\xa0\u2003\u3000\u2028"), min_size=1, max_size=3)


@given(words, st.data())
def test_content_hash_is_invariant_under_whitespace_changes(parts, data):
    spaced = data.draw(st.sampled_from(["", " ", "\n\t"]), label="leading")
    for part in parts:
        spaced += part + data.draw(whitespace, label="gap")

    assert content_hash({"text": spaced}) == content_hash({"text": " ".join(parts)})
    assert content_hash({"text": spaced, "id": [spaced]}) == content_hash(
        {"text": " ".join(parts), "id": [" ".join(parts)]}
    )


@given(st.text())
def test_content_hash_is_invariant_under_nfc_and_nfd(text):
    nfc = unicodedata.normalize("NFC", text)
    nfd = unicodedata.normalize("NFD", text)

    assert content_hash({"text": nfd}) == content_hash({"text": nfc})
    assert content_hash({"text": nfd, "n": 1}) == content_hash({"text": nfc, "n": 1})


@given(st.text())
def test_content_hash_fast_path_matches_the_general_rule(text):
    assert content_hash({"text": text}) == sha256(canonical_json({"text": normalise_text(text)}))


def test_normalise_text():
    assert normalise_text("  Cafe\u0301 \u00a0 au\n\nlait ") == "Café au lait"


# Search text -----------------------------------------------------------------------------------


def test_search_text_puts_text_first_and_lowers_and_collapses():
    data = {"title": "A  Title", "text": "Main\nTEXT", "n": 3, "tags": ["X", {"y": "Zed"}]}

    assert search_text(data) == "main text a title x zed"


def test_search_text_is_cut_at_the_limit():
    assert search_text({"text": "Hello World"}, limit=7) == "hello w"
    assert search_text({"a": "One", "b": "Two", "c": "Three"}, limit=6) == "one tw"


def test_search_text_of_data_without_strings_is_empty():
    assert search_text({"n": 1, "ok": True}) == ""


# item_digest: all at once ----------------------------------------------------------------------


@given(
    st.one_of(
        st.builds(lambda text: {"text": text}, st.text()), st.dictionaries(st.text(max_size=6), json_values)
    )
)
def test_item_digest_equals_the_separate_functions(data):
    digest = item_digest(data, search_limit=50)

    assert digest == ItemDigest(
        data_json=canonical_json(data),
        checksum=checksum(data),
        content_hash=content_hash(data),
        search_text=search_text(data, limit=50),
    )


def test_item_digest_of_already_normal_text_reuses_the_checksum():
    digest = item_digest({"text": "Hello"})

    assert digest == ItemDigest(
        '{"text":"Hello"}', sha256('{"text":"Hello"}'), sha256('{"text":"Hello"}'), "hello"
    )


# Provenance ------------------------------------------------------------------------------------


def test_provenance_values_are_cleaned():
    raw = {"licence": " CC-BY-4.0 ", "consent": "Not required", "synthetic": "Yes", "generator": "gpt-x"}

    assert coerce_provenance(raw) == (
        {"licence": "CC-BY-4.0", "consent": "not_required", "synthetic": True, "generator": "gpt-x"},
        [],
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("granted", "granted"),
        ("WITHDRAWN", "withdrawn"),
        ("not-required", "not_required"),
        ("unknown", "unknown"),
        (True, "granted"),
        ("yes", "granted"),
        ("true", "granted"),
    ],
)
def test_consent_values(value, expected):
    assert coerce_provenance({"consent": value}) == ({"consent": expected}, [])


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (False, "false is ambiguous; say unknown, withdrawn or not_required"),
        ("no", '"no" is ambiguous; say unknown, withdrawn or not_required'),
        ("maybe", "must be one of unknown, granted, not_required, withdrawn"),
        (1, "must be one of unknown, granted, not_required, withdrawn"),
    ],
)
def test_consent_refuses_what_it_would_have_to_guess(value, reason):
    assert coerce_provenance({"consent": value}) == ({}, [("consent", reason)])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("TRUE", True),
        ("0", False),
        ("no", False),
        (" yes ", True),
    ],
)
def test_synthetic_values(value, expected):
    assert coerce_provenance({"synthetic": value}) == ({"synthetic": expected}, [])


def test_invalid_provenance_values_are_errors_per_field():
    raw = {"licence": 3, "synthetic": "maybe", "generator": "g" * 201, "colour": "red", "consent": "granted"}

    assert coerce_provenance(raw) == (
        {"consent": "granted"},
        [
            ("licence", "must be text"),
            ("synthetic", "must be true or false"),
            ("generator", "is 201 characters; the limit is 200"),
            ("colour", "is not a provenance field; use licence, consent, synthetic or generator"),
        ],
    )


def test_blank_provenance_values_count_as_not_given():
    assert coerce_provenance({"licence": "", "consent": "  ", "synthetic": None, "generator": None}) == (
        {},
        [],
    )


def test_license_spelling_is_accepted_and_licence_wins():
    assert coerce_provenance({"license": "MIT"}) == ({"licence": "MIT"}, [])
    assert coerce_provenance({"license": "MIT", "licence": "CC0"}) == ({"licence": "CC0"}, [])
    assert coerce_provenance({"licence": "x" * 101}) == (
        {},
        [("licence", "is 101 characters; the limit is 100")],
    )
