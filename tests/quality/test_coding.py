"""quality.metrics.coding: triples <-> integer codes <-> matrices. Pure: no database."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from quality.metrics.coding import (
    count_distinct,
    dense_codes,
    encode,
    from_codes,
    from_matrix,
    label_counts,
    to_matrix,
    unique_counts,
    within_item_pairs,
)


def test_encode_numbers_ids_in_sorted_order_and_keeps_the_vocabularies():
    coded = encode(["t2", "t1", "t2"], ["bob", "amy", "amy"], ["pos", "neg", "pos"])

    assert coded.item_ids.tolist() == ["t1", "t2"]
    assert coded.annotator_ids.tolist() == ["amy", "bob"]
    assert coded.label_values.tolist() == ["neg", "pos"]
    assert to_matrix(coded).tolist() == [[0, -1], [1, 1]]


def test_label_order_fixes_order_and_counts_unused_labels():
    coded = encode([1, 1], ["a", "b"], ["high", "low"], label_order=["low", "mid", "high"])

    assert coded.n_labels == 3
    assert coded.label.tolist() == [2, 0]


def test_unknown_label_and_duplicates_are_refused():
    with pytest.raises(ValueError, match="not in label_order"):
        encode([1], ["a"], ["x"], label_order=["y"])
    with pytest.raises(ValueError, match="more than one label"):
        encode([1, 1], ["a", "a"], ["x", "y"])


def test_duplicates_last_keeps_the_last_answer():
    coded = from_codes([0, 0, 1], [0, 0, 0], [1, 2, 0], duplicates="last")

    assert to_matrix(coded).tolist() == [[2], [0]]


@settings(max_examples=100, deadline=None, derandomize=True)
@given(arrays(np.int64, st.tuples(st.integers(1, 12), st.integers(1, 6)), elements=st.integers(-1, 3)))
def test_matrix_round_trip_and_counts(matrix):
    coded = from_matrix(matrix, n_labels=4)
    counts = label_counts(coded)

    assert to_matrix(coded).tolist() == matrix.tolist()
    expected = np.stack([np.bincount(row[row >= 0], minlength=4) for row in matrix])
    assert counts.dense().tolist() == expected.tolist()
    assert counts.per_item.tolist() == (matrix >= 0).sum(axis=1).tolist()


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 6), max_size=40))
def test_within_item_pairs_lists_every_pair_once(items):
    item = np.sort(np.array(items, dtype=np.int64))
    first, second = within_item_pairs(item)

    expected = {(i, j) for i in range(len(item)) for j in range(i + 1, len(item)) if item[i] == item[j]}
    assert set(zip(first.tolist(), second.tolist(), strict=True)) == expected
    assert len(first) == len(expected)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(2**40), 2**40), max_size=60)
    | st.lists(st.integers(0, 300), max_size=60)
    | st.lists(st.integers(10**9, 10**9 + 50), min_size=1, max_size=60),
    st.sampled_from([np.int64, np.int32, np.uint32]),
)
def test_dense_codes_unique_counts_and_count_distinct_equal_numpy_unique(values, dtype):
    """The lookup-table paths (small ranges: ids, unit keys) and the sorting fallback (wide ranges)
    give exactly np.unique's answers, dtypes included."""
    if dtype is not np.int64:
        values = [v for v in values if 0 <= v < 2**31]
    array = np.array(values, dtype=dtype)
    expected, inverse = np.unique(array, return_inverse=True)
    _, counts = np.unique(array, return_counts=True)

    found, found_inverse = dense_codes(array)
    keys, found_counts = unique_counts(array)

    assert found.dtype == expected.dtype and found.tolist() == expected.tolist()
    assert found_inverse.tolist() == inverse.tolist()
    assert keys.tolist() == expected.tolist() and found_counts.tolist() == counts.tolist()
    assert count_distinct(array) == len(expected)
