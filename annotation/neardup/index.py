"""Near-duplicate index keys and lookups (pure numpy: no Django, no I/O).

Detection stores, per indexed item, the buckets it falls in (annotation.models.NearDuplicateBucket,
indexed on (project, bucket)); a later run computes only the new items' buckets, looks up the stored
items sharing one, and verifies those candidates. docs/NEAR_DUPLICATES.md has the rules.

A bucket is one signed 64-bit integer: kind (bits 48-62), band or table number (bits 32-47), 32-bit
key (bits 0-31).

- Text: kind 1, one bucket per LSH band of the MinHash signature (algorithm.lsh_band_keys): two
  texts are candidates when they agree on every row of some band, exactly as in the full scan.
- Images: kind 2, pigeonhole over the 64-bit dHash. Split it into k + 2 contiguous blocks (k the
  largest Hamming distance); two hashes within k bits differ in at most k blocks, so they agree on at
  least 2: one table per pair of blocks (28 for k = 6, keyed on about 16 bits) finds every pair
  within k bits. The 32-bit key is the mixed value of the two blocks.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from .algorithm import _fmix64, lsh_band_keys
from .images import _block_masks

TEXT_KIND = 1
IMAGE_KIND = 2
_KIND_SHIFT = np.int64(48)
_TABLE_SHIFT = np.int64(32)


def pack(kind: int, tables: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Buckets (int64) of 32-bit `keys` in the numbered `tables` (broadcast) of `kind`."""
    return (
        (np.int64(kind) << _KIND_SHIFT)
        | (np.asarray(tables, dtype=np.int64) << _TABLE_SHIFT)
        | np.asarray(keys, dtype=np.uint32).astype(np.int64)
    )


def text_buckets(signatures: np.ndarray, *, bands: int, rows: int) -> np.ndarray:
    """The buckets of each signature's bands (n x bands, int64)."""
    keys = lsh_band_keys(signatures, bands=bands, rows=rows)
    return pack(TEXT_KIND, np.arange(bands)[None, :], keys)


def image_table_masks(max_distance: int) -> list[int]:
    """One 64-bit mask per table: every pair of the max_distance + 2 blocks."""
    masks = _block_masks(max_distance + 2)
    return [masks[first] | masks[second] for first, second in combinations(range(len(masks)), 2)]


def image_buckets(hashes: np.ndarray, *, max_distance: int) -> np.ndarray:
    """The buckets of each 64-bit hash (int64 as stored, or uint64) in every table (n x tables)."""
    values = np.ascontiguousarray(hashes).view(np.uint64) if len(hashes) else np.zeros(0, np.uint64)
    masks = image_table_masks(max_distance)
    out = np.empty((len(values), len(masks)), dtype=np.int64)
    for table, mask in enumerate(masks):
        keys = (_fmix64((values & np.uint64(mask)) + np.uint64(table)) >> np.uint64(32)).astype(np.uint32)
        out[:, table] = pack(IMAGE_KIND, table, keys)
    return out


def cross_pairs(
    new_buckets: np.ndarray, old_buckets: np.ndarray, old_items: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(row of `new_buckets`, old item id) for every stored (bucket, item) that shares a bucket with a
    new row, each pair once. `new_buckets` is n x tables; `old_buckets` and `old_items` are the
    stored rows found for those buckets."""
    empty = np.zeros(0, dtype=np.int64)
    if new_buckets.size == 0 or len(old_buckets) == 0:
        return empty, empty
    flat = new_buckets.ravel()
    rows = np.repeat(np.arange(new_buckets.shape[0], dtype=np.int64), new_buckets.shape[1])
    order = np.argsort(flat, kind="stable")
    flat, rows = flat[order], rows[order]
    old_buckets = np.asarray(old_buckets, dtype=np.int64)
    old_items = np.asarray(old_items, dtype=np.int64)
    starts = np.searchsorted(flat, old_buckets, side="left")
    counts = np.searchsorted(flat, old_buckets, side="right") - starts
    if counts.sum() == 0:
        return empty, empty
    repeated = np.repeat(np.arange(len(old_buckets)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    new_rows = rows[np.repeat(starts, counts) + offsets]
    old = old_items[repeated]
    code = np.unique(np.stack([new_rows, old], axis=1), axis=0)
    return code[:, 0], code[:, 1]
