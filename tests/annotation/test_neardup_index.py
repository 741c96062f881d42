"""annotation.neardup.index (pure): bucket packing, the image pigeonhole tables, cross lookups."""

from itertools import combinations

import numpy as np
import pytest

from annotation.neardup import algorithm, index


def test_buckets_keep_kind_table_and_key_apart():
    buckets = index.pack(index.TEXT_KIND, np.array([0, 15]), np.array([0xFFFFFFFF, 7], dtype=np.uint32))
    assert buckets.tolist() == [(1 << 48) | 0xFFFFFFFF, (1 << 48) | (15 << 32) | 7]
    image = index.pack(index.IMAGE_KIND, 0, np.array([0xFFFFFFFF], dtype=np.uint32))
    assert set(buckets.tolist()).isdisjoint(image.tolist())
    assert (buckets > 0).all()


def test_text_buckets_share_one_exactly_when_a_band_agrees():
    random = np.random.RandomState(3)
    signatures = random.randint(0, 2**32, (50, algorithm.NUM_PERM), dtype=np.uint64).astype(np.uint32)
    signatures[1] = signatures[0]
    signatures[1, 8:] += 1  # only band 0 agrees
    buckets = index.text_buckets(signatures, bands=16, rows=8)
    assert buckets.shape == (50, 16)
    keys = algorithm.lsh_band_keys(signatures, bands=16, rows=8)
    shared = {(i, j) for i, j in combinations(range(50), 2) if np.intersect1d(buckets[i], buckets[j]).size}
    assert shared == {(i, j) for i, j in combinations(range(50), 2) if (keys[i] == keys[j]).any()}
    assert (0, 1) in shared


@pytest.mark.parametrize("distance", [0, 3, 6])
def test_every_pair_of_hashes_within_the_distance_shares_an_image_bucket(distance):
    random = np.random.RandomState(distance)
    base = random.randint(-(2**63), 2**63 - 1, 300, dtype=np.int64)
    near = base.view(np.uint64).copy()
    for row in range(len(near)):
        for bit in random.choice(64, random.randint(0, distance + 1), replace=False):
            near[row] ^= np.uint64(1) << np.uint64(bit)
    first = index.image_buckets(base, max_distance=distance)
    second = index.image_buckets(near.view(np.int64), max_distance=distance)
    assert first.shape[1] == len(index.image_table_masks(distance)) == (distance + 2) * (distance + 1) // 2
    for row in range(len(base)):
        bits = int(np.bitwise_count(base.view(np.uint64)[row] ^ near[row]))
        shares = bool(np.intersect1d(first[row], second[row]).size)
        if bits <= distance:
            assert shares
    # Unrelated random hashes rarely share a bucket (each table keys on about 16 bits at k = 6).
    if distance == 6:
        unrelated = index.image_buckets(base[::-1].copy(), max_distance=distance)
        sharing = sum(bool(np.intersect1d(first[r], unrelated[r]).size) for r in range(len(base)))
        assert sharing < 30


def test_cross_pairs_match_a_brute_force_join():
    random = np.random.RandomState(5)
    new = random.randint(0, 40, (30, 4)).astype(np.int64)
    old_buckets = random.randint(0, 40, 200).astype(np.int64)
    old_items = random.randint(1000, 1100, 200).astype(np.int64)
    rows, items = index.cross_pairs(new, old_buckets, old_items)
    expected = {
        (row, int(item))
        for row in range(len(new))
        for bucket, item in zip(old_buckets, old_items, strict=True)
        if bucket in new[row]
    }
    assert set(zip(rows.tolist(), items.tolist(), strict=True)) == expected
    assert len(rows) == len(expected)  # each pair once


def test_cross_pairs_of_nothing_are_empty():
    rows, items = index.cross_pairs(np.zeros((0, 16), dtype=np.int64), np.array([1]), np.array([2]))
    assert rows.size == items.size == 0
    rows, items = index.cross_pairs(np.ones((3, 16), dtype=np.int64), np.zeros(0), np.zeros(0))
    assert rows.size == items.size == 0
