"""Near-duplicate detection, images: dHash and the Hamming search (rules 8 and 9 of
neardup/algorithm.py). Pure numpy (and Pillow for `dhash`): no Django, no I/O."""

from __future__ import annotations

from itertools import combinations
from math import comb, log2

import numpy as np

from .algorithm import (
    _M64,
    IMAGE_MAX_DISTANCE,
    MAX_IMAGE_DISTANCE,
    PAIRWISE_LIMIT,
    WINDOW,
    Group,
    bucket_pairs,
    connected_components,
    groups_from_labels,
    unique_pairs,
)


def dhash(image) -> int:
    """64-bit difference hash of a Pillow image as an unsigned int (rule 8; equals imagehash.dhash)."""
    from PIL import Image

    small = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    pixels = np.asarray(small, dtype=np.int16)
    bits = pixels[:, 1:] > pixels[:, :-1]
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def to_signed64(value: int) -> int:
    """An unsigned 64-bit hash as the signed integer PostgreSQL's bigint stores (same bits)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned64(value: int) -> int:
    return value & _M64


def hamming_distance(first: int, second: int) -> int:
    return ((first ^ second) & _M64).bit_count()


def _block_masks(blocks: int) -> list[int]:
    """Masks of `blocks` contiguous blocks covering 64 bits, sizes differing by at most one."""
    sizes = [64 // blocks + (1 if index < 64 % blocks else 0) for index in range(blocks)]
    masks, start = [], 0
    for size in sizes:
        masks.append(((1 << size) - 1) << start)
        start += size
    return masks


def hamming_blocks(size: int, max_distance: int) -> int:
    """How many blocks to split the hashes into for `size` hashes and distance `max_distance`.

    Each of the comb(m, k) tables costs a sort (n log n) plus the pairs of its buckets; with
    uniformly spread hashes a table keyed on b bits makes about n**2 / 2**(b + 1) pairs. The m with
    the lowest estimated cost wins; for k=6: 7 blocks up to ~20,000 hashes, then 8 (28 tables keyed
    on 16 bits) up to a few million, then 9.
    """
    if max_distance == 0:
        return 1
    best, chosen = float("inf"), max_distance + 1
    for blocks in range(max_distance + 1, min(64, max_distance + 8) + 1):
        sizes = sorted(mask.bit_count() for mask in _block_masks(blocks))
        key_bits = sum(sizes[: blocks - max_distance])
        tables = comb(blocks, max_distance)
        cost = tables * (size * log2(size + 2) + 4 * size * size / 2 ** (key_bits + 1))
        if cost < best:
            best, chosen = cost, blocks
    return chosen


def hamming_pairs(
    hashes: np.ndarray, *, max_distance: int = IMAGE_MAX_DISTANCE, window: int = WINDOW
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low, high, distance) of the pairs of 64-bit hashes within `max_distance` bits (rule 9).

    `hashes` may be int64 (as stored) or uint64: only the bits count. Not O(n**2): one sort per
    table, and bucket pairs bounded by `window` per item.
    """
    if not 0 <= max_distance <= MAX_IMAGE_DISTANCE:
        raise ValueError(f"max_distance must be between 0 and {MAX_IMAGE_DISTANCE}")
    values = np.ascontiguousarray(hashes).view(np.uint64) if len(hashes) else np.zeros(0, np.uint64)
    size = len(values)
    empty = np.zeros(0, dtype=np.int64)
    if size < 2:
        return empty, empty, empty
    # Sorted by the whole hash first: a stable sort by a table's key then keeps equal hashes
    # adjacent inside each bucket, so identical images always pair even in huge buckets.
    by_hash = np.argsort(values, kind="stable")
    sorted_values = values[by_hash]
    blocks = hamming_blocks(size, max_distance)
    masks = _block_masks(blocks)
    lows, highs = [], []
    for chosen in combinations(range(blocks), blocks - max_distance):
        mask = np.uint64(sum(masks[index] for index in chosen))
        keys = sorted_values & mask
        order = np.argsort(keys, kind="stable")
        first, second = bucket_pairs(keys[order], by_hash[order], window=window)
        close = np.bitwise_count(values[first] ^ values[second]) <= max_distance
        lows.append(first[close])
        highs.append(second[close])
    low, high = unique_pairs(np.concatenate(lows), np.concatenate(highs), size)
    distance = np.bitwise_count(values[low] ^ values[high]).astype(np.int64)
    return low, high, distance


def image_group_similarity(hashes: np.ndarray) -> float:
    """1 - (largest Hamming distance between two of `hashes`) / 64, over the same pairs as
    text_group_similarity."""
    values = np.ascontiguousarray(hashes).view(np.uint64)
    head = values[:PAIRWISE_LIMIT]
    largest = 0
    for index in range(1, len(values)):
        distances = np.bitwise_count(head[: min(index, PAIRWISE_LIMIT)] ^ values[index])
        largest = max(largest, int(distances.max()))
    return 1.0 - largest / 64


def group_image_hashes(
    hashes: np.ndarray, *, max_distance: int = IMAGE_MAX_DISTANCE, window: int = WINDOW
) -> list[Group]:
    """Groups of near-duplicate images (indices into `hashes`) by dHash distance."""
    low, high, _ = hamming_pairs(hashes, max_distance=max_distance, window=window)
    labels = connected_components(len(hashes), low, high)
    return [
        Group(members=members, similarity=image_group_similarity(np.asarray(hashes)[members]))
        for members in groups_from_labels(labels)
    ]
