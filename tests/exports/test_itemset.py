"""exports.itemset: a release's item ids, encoded small and decoded exactly."""

import random

import pytest

from exports.itemset import decode_ids, encode_ids


def test_round_trip_sorts_and_deduplicates():
    ids = [5, 3, 3, 1_000_000_000_000, 4, 1]
    assert decode_ids(encode_ids(ids)) == [1, 3, 4, 5, 1_000_000_000_000]


def test_empty_and_none():
    assert decode_ids(encode_ids([])) == []
    assert decode_ids(None) == []


def test_a_million_mostly_consecutive_ids_take_a_few_kilobytes():
    rng = random.Random(7)
    ids = [i for i in range(1, 1_100_001) if rng.random() > 0.09]  # ~1M ids with gaps (excluded items)
    blob = encode_ids(ids)
    assert decode_ids(blob) == ids
    assert len(blob) < 400_000  # vs 8 MB raw


def test_rejects_negative_ids_and_unknown_encodings():
    with pytest.raises(ValueError):
        encode_ids([-1])
    with pytest.raises(ValueError):
        decode_ids(b"\x09abc")
