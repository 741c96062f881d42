import pytest
from nltk.corpus.reader import ConllCorpusReader
from seqeval.metrics.sequence_labeling import get_entities

from exports.formats.conll import bio_tags

from .conftest import SPANS, TEXTS, assert_byte_identical


@pytest.fixture(autouse=True)
def nltk_may_read_tmp(monkeypatch, tmp_path):
    # nltk 3.10 only opens corpus files under its data roots: make the test directory one.
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))


def read(root, name):
    # nltk's iob_sents() reads IOB tags from the "chunk" column: map CoNLL-2003's 4th column to it.
    reader = ConllCorpusReader(str(root), [name], columntypes=("words", "pos", "ignore", "chunk"))
    sentences = reader.iob_sents()
    assert sentences[0] == []  # the -DOCSTART- block
    return sentences[1:]


def test_nltk_reads_sentences_and_seqeval_recovers_the_spans(write_format, records, ctx):
    root, names, _ = write_format("conll", records, ctx)

    assert names == [
        "conll/entities/test.conll",
        "conll/entities/train.conll",
        "conll/entities/validation.conll",
    ]
    sentences = read(root, "conll/entities/train.conll")
    assert len(sentences) == 4  # records 1000, 1001, 1004, 1005
    tokens = [word for word, _, _ in sentences[0]]
    tags = [tag for _, _, tag in sentences[0]]
    assert tokens == ["Zoë", "Adams", "joined", "Acme", "in", "May", "."]
    assert tags == ["B-PER", "I-PER", "O", "B-ORG", "O", "O", "O"]
    entities = get_entities(tags)
    assert [(label, " ".join(tokens[s : e + 1])) for label, s, e in entities] == [
        ("PER", "Zoë Adams"),
        ("ORG", "Acme"),
    ]
    second = [(w, t) for w, _, t in sentences[1]]
    assert ("Acme", "B-ORG") in second  # offsets through quotes, commas and CR/LF


def test_text_without_spans_is_all_outside(write_format, records, ctx):
    root, _, _ = write_format("conll", records, ctx)

    sentences = read(root, "conll/entities/validation.conll")

    assert {tag for sentence in sentences for _, _, tag in sentence} == {"O"}
    assert "../../etc/passwd" not in [p.name for p in root.rglob("*")]


def test_adjacent_same_label_spans_start_new_entities():
    pairs = bio_tags(TEXTS[3], SPANS[3])

    assert pairs == [
        ("Bob", "B-PER"),
        ("met", "O"),
        ("Ada", "B-PER"),
        ("at", "O"),
        ("Globex", "B-ORG"),
        (".", "O"),
    ]
    assert bio_tags(
        "New York", [{"start": 0, "end": 3, "label": "LOC"}, {"start": 4, "end": 8, "label": "LOC"}]
    ) == [
        ("New", "B-LOC"),
        ("York", "B-LOC"),
    ]


def test_overlapping_spans_keep_the_earlier_longer_one():
    text = "Bank of America"
    spans = [{"start": 8, "end": 15, "label": "LOC"}, {"start": 0, "end": 15, "label": "ORG"}]

    assert bio_tags(text, spans) == [("Bank", "B-ORG"), ("of", "I-ORG"), ("America", "I-ORG")]


def test_rebuild_is_byte_identical(write_format, records, ctx):
    assert_byte_identical(write_format, "conll", records, ctx)
