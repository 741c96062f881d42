"""annotation/pii/detectors.py and masking.py: known positives and negatives, checksums, offsets."""

import random

import pytest
from stdnum import luhn

from annotation.pii import detectors, masking
from annotation.pii.detectors import Config, detect_item, detect_text
from projects.privacy_settings import PiiConfigError, compile_custom, privacy_settings_issues

POSITIVES = [
    ("jane.doe@example.com", "EMAIL"),
    ("+1 415-555-2671", "PHONE"),
    ("(415) 555-2671", "PHONE"),
    ("+49 30 12345678", "PHONE"),
    ("4111 1111 1111 1111", "CREDIT_CARD"),
    ("5500-0000-0000-0004", "CREDIT_CARD"),
    ("DE89 3704 0044 0532 0130 00", "IBAN"),
    ("GB82WEST12345698765432", "IBAN"),
    ("192.168.0.1", "IP_ADDRESS"),
    ("2001:db8::1", "IP_ADDRESS"),
    ("123-45-6789", "US_SSN"),
    ("36574261809", "DE_TAX_ID"),
    ("2 95 10 99 126 111 93", "FR_NIR"),
    ("12345678Z", "ES_DNI"),
    ("X1234567L", "ES_NIE"),
    ("RSSMRA85T10A562S", "IT_FISCAL_CODE"),
    ("111222333", "NL_BSN"),
    ("390.533.447-05", "BR_CPF"),
    ("2341 2341 2346", "IN_AADHAAR"),
]
# One checksum digit off, or not personal data at all.
NEGATIVES = [
    "jane.doe at example dot com",
    "4111 1111 1111 1112",  # Luhn fails
    "DE89 3704 0044 0532 0130 01",  # mod-97 fails
    "999.168.0.1",  # not an address
    "36574261808",  # DE Steuer-ID check digit wrong (and not a valid phone)
    "12345678A",  # DNI letter wrong
    "RSSMRA85T10A562T",  # codice fiscale check letter wrong
    "390.533.447-06",  # CPF check digits wrong
    "2341 2341 2345",  # Verhoeff fails
    "on 2024-01-05 at 12:30:45",  # dates and times
    "version 1.2.3, order 42, 3.14159",
]


@pytest.mark.parametrize(("value", "kind"), POSITIVES)
def test_each_type_is_found_with_its_offsets(value, kind):
    text = f"Contact: {value}. Thanks"
    found = detect_text(text)
    assert [(text[s:e], t) for s, e, t, _ in found] == [(value, kind)]


@pytest.mark.parametrize("value", NEGATIVES)
def test_near_misses_are_not_found(value):
    assert detect_text(f"Note: {value} end") == []


def test_checksum_validated_types_are_high_confidence_and_formats_medium():
    by_type = {t: c for _, _, t, c in detect_text("; ".join(v for v, _ in POSITIVES))}
    assert by_type["CREDIT_CARD"] == by_type["IBAN"] == by_type["IN_AADHAAR"] == "high"
    assert by_type["EMAIL"] == by_type["PHONE"] == by_type["US_SSN"] == "medium"


def test_generated_cards_all_pass_and_their_corruptions_all_fail():
    rng = random.Random(7)
    for _ in range(200):
        body = "4" + "".join(rng.choice("0123456789") for _ in range(14))
        number = body + luhn.calc_check_digit(body)
        bad = body + str((int(luhn.calc_check_digit(body)) + 1) % 10)
        assert [t for *_, t, _ in detect_text(f"card {number}")] == ["CREDIT_CARD"]
        assert "CREDIT_CARD" not in [t for *_, t, _ in detect_text(f"card {bad}")]


def test_phone_region_is_the_projects_default():
    assert detect_text("ruf an: 030 12345678", Config(default_region="DE"))[0][2] == "PHONE"
    assert detect_text("ruf an: 030 12345678", Config(default_region="US")) == []


def test_item_fields_are_key_paths_and_offsets_are_code_points():
    data = {"text": "ünïcödé mail a@b.io", "turns": [{"content": "ip 10.0.0.1"}], "n": 3}
    found = detect_item(data)
    assert [(f.field, f.start, f.end, f.type) for f in found] == [
        ("text", 13, 19, "EMAIL"),
        ("turns.0.content", 3, 11, "IP_ADDRESS"),
    ]


def test_project_patterns_and_word_lists_are_low_confidence():
    rules = compile_custom(
        [{"name": "EMPLOYEE_ID", "pattern": r"EMP-\d{6}"}], [{"name": "CLIENT", "words": ["Acme Corp"]}]
    )
    text = "EMP-123456 works for ACME corp, not AcmeCorporation"
    found = detect_text(text, Config(custom=rules))
    assert [(text[s:e], t, c) for s, e, t, c in found] == [
        ("EMP-123456", "EMPLOYEE_ID", "low"),
        ("ACME corp", "CLIENT", "low"),
    ]


@pytest.mark.parametrize(
    ("patterns", "words", "code"),
    [
        ([{"name": "X1", "pattern": "("}], [], "invalid_pattern"),
        ([{"name": "X1", "pattern": "a*"}], [], "invalid_pattern"),  # matches empty text
        ([{"name": "lower", "pattern": "a"}], [], "invalid_pattern_name"),
        ([{"name": "EMAIL", "pattern": "a"}], [], "duplicate_pattern_name"),
        ([], [{"name": "LIST", "words": []}], "invalid_word_list"),
        ([], [{"name": "LIST", "words": ["ok", ""]}], "invalid_word_list"),
        ([{"name": f"P{i}", "pattern": "a"} for i in range(21)], [], "too_many_patterns"),
    ],
)
def test_bad_patterns_are_refused_with_a_code(patterns, words, code):
    with pytest.raises(PiiConfigError) as error:
        compile_custom(patterns, words)
    assert error.value.code == code


def test_catastrophic_pattern_is_cut_off_by_the_timeout_and_counted():
    rules = compile_custom([{"name": "SLOW", "pattern": r"(x+x+)+y"}], [])
    found = detect_text("x" * 5000, Config(custom=rules))
    assert found == [] and rules.timeouts == 1


def test_privacy_settings_issues():
    assert privacy_settings_issues({"mask_for_annotators": True, "release_policy": "mask"}) == []
    assert privacy_settings_issues({"release_policy": "shred"}) == [
        "settings.privacy.release_policy must be one of drop, mask, flag."
    ]
    assert "not a phone region" in privacy_settings_issues({"default_region": "XX"})[0]


def test_builtin_type_lists_agree():
    from projects import privacy_settings

    assert detectors.BUILTIN_TYPES == privacy_settings.BUILTIN_TYPES


# --- masking ------------------------------------------------------------------------------------------


def test_mask_and_map_offsets_back():
    text = "Mail jane@x.org or +1 415-555-2671 now"
    found = [(s, e, t) for s, e, t, _ in detect_text(text)]
    masked, spans = masking.mask_text(text, found)
    assert masked == "Mail [EMAIL] or [PHONE] now"
    # a span over "or" and one over "now" in masked coordinates land on the same words in the original
    for word in ("or", "now", "Mail"):
        m = masked.index(word)
        start, end = masking.to_original(m, spans), masking.to_original(m + len(word), spans, "end")
        assert text[start:end] == word
    # a span over a placeholder covers the whole original value
    m = masked.index("[PHONE]")
    assert text[masking.to_original(m, spans) : masking.to_original(m + 7, spans, "end")] == "+1 415-555-2671"
    # a span starting inside a placeholder snaps to the value's start
    assert masking.to_original(m + 3, spans, "start") == text.index("+1")


def test_unmask_result_maps_span_answers_only():
    data = {"body": "Mail jane@x.org now"}
    _, spans = masking.mask_text(data["body"], [(5, 15, "EMAIL")])
    definition = {
        "fields": [{"name": "body", "type": "text"}],
        "controls": [
            {"name": "ner", "type": "spans", "field": "body", "labels": []},
            {"name": "mood", "type": "single_choice", "field": "body", "labels": []},
        ],
    }
    result = {
        "ner": [{"id": "a", "start": 5, "end": 12, "label": "PER", "text": "[EMAIL]"}],
        "mood": "ok",
    }
    out = masking.unmask_result(result, data, {"body": spans}, masking.span_control_fields(definition))
    assert out == {
        "ner": [{"id": "a", "start": 5, "end": 15, "label": "PER", "text": "jane@x.org"}],
        "mood": "ok",
    }
    assert result["ner"][0]["end"] == 12  # the input is not changed


def test_mask_data_by_key_path():
    data = {"text": "a@b.io", "turns": [{"content": "call 10.0.0.1"}]}
    out = masking.mask_data(data, {"text": [(0, 6, "EMAIL")], "turns.0.content": [(5, 13, "IP_ADDRESS")]})
    assert out == {"text": "[EMAIL]", "turns": [{"content": "call [IP_ADDRESS]"}]}
    assert data["text"] == "a@b.io"


def test_remask_is_the_inverse_of_unmask_on_word_boundaries():
    text = "Mail jane@x.org or +1 415-555-2671 now"
    found = [(s, e, t) for s, e, t, _ in detect_text(text)]
    masked, spans = masking.mask_text(text, found)
    definition = {
        "fields": [{"name": "text", "type": "text"}],
        "controls": [{"name": "ner", "type": "spans", "field": "text"}],
    }
    fields = masking.span_control_fields(definition)
    stored = {
        "ner": [
            {"id": "a", "start": 5, "end": 15, "text": "jane@x.org"},
            {"id": "b", "start": 35, "end": 38, "text": "now"},
        ]
    }
    shown = masking.remask_result(stored, {"text": masked}, {"text": spans}, fields)
    assert [(masked[s["start"] : s["end"]], s["text"]) for s in shown["ner"]] == [
        ("[EMAIL]", "[EMAIL]"),
        ("now", "now"),
    ]
    back = masking.unmask_result(shown, {"text": text}, {"text": spans}, fields)
    assert back == stored
