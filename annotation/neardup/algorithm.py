"""Near-duplicate detection, text and groups. Pure numpy: no Django, no I/O (images: neardup/images.py).

Text: MinHash signatures over character 5-grams, LSH banding for candidate pairs, candidates kept
when their estimated Jaccard similarity reaches the threshold. Images: 64-bit difference hashes
(dHash) and a multi-index search for pairs within a Hamming distance. Both: verified pairs become
groups by union-find (connected components). docs/NEAR_DUPLICATES.md explains the choices and
the numbers; tests/annotation/test_neardup_algorithm.py checks every step against datasketch and
imagehash.

Everything per item is vectorised over a batch; Python loops run per permutation, per band, per
hash table or per window step, never per item or per shingle.

1. **Normalisation** (`normalise_for_shingles`). Lower-cased; every run of separators becomes one
   space, with none at either end. Separators are the code points in SEPARATOR_RANGES: ASCII
   other than letters and digits, Latin-1 punctuation (U+0080-U+00BF), General and Supplemental
   Punctuation, CJK punctuation and fullwidth ASCII punctuation. Other characters (letters of every
   script, digits, emoji) are kept as they are.
2. **Shingles** (`shingles`). The set of 5-character windows of the normalised text; a text of 1-4
   characters is one shingle; an empty text has none. Characters, not words: one changed word in a
   short review changes a few of ~200 shingles instead of 3 of ~30 word triples, and texts without
   spaces (Chinese, Japanese, Thai) work the same way.
3. **Shingle hash** (`shingle_hash`). A polynomial over the code points modulo 2**64 (the window
   padded with U+0000 to 5), mixed by the MurmurHash3 64-bit finalizer, top 32 bits.
4. **MinHash** (`minhash_signatures`). datasketch's "affine32" permutation family: the 32-bit
   shingle hash is pre-mixed by the MurmurHash3 32-bit finalizer, then permutation k maps it to
   a_k * h + b_k mod 2**32 (a_k odd: a bijection); the signature is the minimum over the shingles,
   per permutation. a and b are drawn exactly as datasketch 2.x draws them (numpy's legacy
   RandomState(seed)), so a signature here equals datasketch.MinHash(num_perm, seed,
   hashfunc=<our shingle hash>) bit for bit. An empty text's signature is all EMPTY.
5. **LSH** (`lsh_params`, `lsh_band_keys`, `lsh_candidate_pairs`). b bands of r rows; two texts
   are candidates when all r values of one band agree. (b, r) minimise the same weighted areas as
   datasketch's MinHashLSH, with more weight on false negatives (a missed duplicate is never seen;
   a false candidate costs one comparison): 128 permutations at 0.8 give b=16, r=8.
6. **Buckets** (`bucket_pairs`). Items with the same key are paired with the next WINDOW items of
   the bucket in sorted order: every pair in buckets of up to WINDOW + 1 items, a bounded number
   (n * WINDOW) in larger ones, so a template repeated 100,000 times does not make 5 billion pairs.
7. **Verification** (`jaccard_estimates`). The share of equal signature values; kept when >=
   the threshold.
8. **dHash** (`dhash`). Grayscale, resized to 9x8 with Lanczos, one bit per horizontal neighbour
   pair (left < right), row-major, first bit most significant: imagehash.dhash's convention.
9. **Hamming search** (`hamming_pairs`). Generalised pigeonhole: split the 64 bits into m blocks;
   two hashes within distance k differ in at most k blocks, so they agree exactly on some m - k
   blocks. One sorted table per choice of m - k blocks finds those pairs; m is chosen per input
   size by a cost model (`hamming_blocks`). Each candidate is verified with a popcount.
10. **Groups** (`connected_components`, `groups_from_labels`). Vectorised union-find: hook each
    root to the smallest root it shares an edge with, compress paths by pointer jumping, repeat.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SHINGLE_SIZE = 5
NUM_PERM = 128
PERMUTATION_SEED = 1
TEXT_THRESHOLD = 0.8  # estimated Jaccard similarity of the shingle sets
LSH_FALSE_NEGATIVE_WEIGHT = 0.95  # of the (false positive, false negative) weights that choose b and r
IMAGE_MAX_DISTANCE = 6  # bits of 64 that may differ
MAX_IMAGE_DISTANCE = 16  # beyond this the multi-index search degenerates (and dHash means little)
WINDOW = 64  # partners per item in one bucket
PAIRWISE_LIMIT = 256  # a group's similarity compares all pairs among its first PAIRWISE_LIMIT members
EMPTY = np.uint32(0xFFFFFFFF)  # every value of an empty text's signature

SEPARATOR_RANGES = (
    (0x0000, 0x002F),
    (0x003A, 0x0040),
    (0x005B, 0x0060),
    (0x007B, 0x00BF),
    (0x2000, 0x206F),
    (0x2E00, 0x2E7F),
    (0x3000, 0x303F),
    (0xFE30, 0xFE4F),
    (0xFEFF, 0xFEFF),
    (0xFF01, 0xFF0F),
    (0xFF1A, 0xFF20),
    (0xFF3B, 0xFF40),
    (0xFF5B, 0xFF65),
)
_BOUNDS = [edge for low, high in SEPARATOR_RANGES for edge in (low, high + 1)]
_SPACE = 0x20
_PAD = SHINGLE_SIZE - 1

_M64 = (1 << 64) - 1
_POLY = 0x9E3779B97F4A7C15  # odd multiplier of the shingle and band polynomials
_POLY64 = np.uint64(_POLY)
_FMIX64 = (33, 0xFF51AFD7ED558CCD, 33, 0xC4CEB9FE1A85EC53, 33)
_FMIX32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)
_CHUNK_SHINGLES = 32_768  # shingles per MinHash step: the working arrays stay in the CPU cache
_VERIFY_CHUNK = 65_536  # pairs compared at once
_TEXT_BATCH = 2_048  # texts shingled at once


@dataclass(frozen=True)
class Group:
    members: np.ndarray  # indices into the input, ascending
    similarity: float  # the lowest estimated similarity between two members (0..1)


# --- Text: normalisation and shingles (reference implementations in plain Python) --------------------


def _is_separator(code_point: int) -> bool:
    return bisect_right(_BOUNDS, code_point) % 2 == 1


def normalise_for_shingles(text: str) -> str:
    """Lower-cased, separator runs as one space, stripped (rule 1). The vectorised path does the same."""
    spaced = "".join(" " if _is_separator(ord(char)) else char for char in text.lower())
    return " ".join(part for part in spaced.split(" ") if part)


def shingles(text: str) -> set[str]:
    """The shingle set of `text` (rule 2)."""
    normal = normalise_for_shingles(text)
    if len(normal) < SHINGLE_SIZE:
        return {normal} if normal else set()
    return {normal[i : i + SHINGLE_SIZE] for i in range(len(normal) - SHINGLE_SIZE + 1)}


def _fmix64_int(value: int) -> int:
    s1, m1, s2, m2, s3 = _FMIX64
    value ^= value >> s1
    value = (value * m1) & _M64
    value ^= value >> s2
    value = (value * m2) & _M64
    return value ^ (value >> s3)


def shingle_hash(shingle: str) -> int:
    """The 32-bit hash of one shingle (rule 3), as a Python int."""
    value = 0
    for char in shingle.ljust(SHINGLE_SIZE, "\x00"):
        value = (value * _POLY + ord(char)) & _M64
    return _fmix64_int(value) >> 32


# --- Text: vectorised shingle hashes and MinHash -----------------------------------------------------


def _fmix64(values: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = (np.uint64(number) for number in _FMIX64)
    values = values ^ (values >> s1)
    values = values * m1
    values = values ^ (values >> s2)
    values = values * m2
    return values ^ (values >> s3)


def _fmix32(values: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = (np.uint32(number) for number in _FMIX32)
    values = values ^ (values >> s1)
    values = values * m1
    values = values ^ (values >> s2)
    values = values * m2
    return values ^ (values >> s3)


def _separator_table() -> np.ndarray:
    """Separator flag per code point of the Basic Multilingual Plane, plus one False for the rest."""
    table = np.zeros(0x10001, dtype=bool)
    for low, high in SEPARATOR_RANGES:
        table[low : high + 1] = True
    return table


_SEPARATOR_TABLE = _separator_table()


def _normalised_code_points(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(code points of every normalised text, concatenated; length of each): rule 1, vectorised."""
    lowered = [text.lower() for text in texts]
    lengths = np.fromiter(map(len, lowered), dtype=np.int64, count=len(lowered))
    code_points = np.frombuffer("".join(lowered).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if code_points.size == 0:
        return np.zeros(0, dtype=np.uint32), np.zeros(len(texts), dtype=np.int64)
    separator = _SEPARATOR_TABLE[np.minimum(code_points, 0x10000)]
    nonempty = lengths > 0
    starts = (np.cumsum(lengths) - lengths)[nonempty]
    # Drop a separator that follows a separator or starts its text: runs become one space, and
    # no text starts with one.
    after_separator = np.empty_like(separator)
    after_separator[0] = True
    after_separator[1:] = separator[:-1]
    after_separator[starts] = True
    keep = ~(separator & after_separator)
    normal = np.where(separator, np.uint32(_SPACE), code_points)[keep]
    kept = np.zeros(len(texts), dtype=np.int64)
    kept[nonempty] = np.add.reduceat(keep, starts, dtype=np.int64)
    # A text may still end with the one space left of a trailing run: drop it.
    last = (np.cumsum(kept) - 1)[kept > 0]
    trailing = last[normal[last] == _SPACE]
    if trailing.size:
        normal = np.delete(normal, trailing)
        kept[np.searchsorted(np.cumsum(kept), trailing, side="right")] -= 1
    return normal, kept


def text_shingle_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(32-bit hashes of every text's shingles, concatenated text by text; shingles per text).

    The same values as {shingle_hash(s) for s in shingles(text)} for each text, but a window that
    occurs twice in a text is hashed twice (MinHash takes the minimum, so repeats change nothing).
    """
    normal, lengths = _normalised_code_points(texts)
    counts = np.where(lengths > 0, np.maximum(lengths - _PAD, 1), 0)
    if normal.size == 0:
        return np.zeros(0, dtype=np.uint32), counts
    # Window values at every position (the last windows run into zeros appended at the end).
    padded = np.zeros(normal.size + _PAD, dtype=np.uint64)
    padded[: normal.size] = normal
    value = padded[: normal.size].copy()
    for offset in range(1, SHINGLE_SIZE):
        value *= _POLY64
        value += padded[offset : offset + normal.size]
    starts = np.cumsum(lengths) - lengths
    # Windows of long texts start anywhere but in their last _PAD characters
    long = lengths >= SHINGLE_SIZE
    # (and a short text has one window, at its start, computed below).
    short = np.flatnonzero((lengths > 0) & ~long)
    opens = np.concatenate([starts[long] + lengths[long] - _PAD, starts[short]])
    closes = np.concatenate([starts[long] + lengths[long], starts[short] + lengths[short]])
    size = normal.size + 1
    depth = np.cumsum(np.bincount(opens, minlength=size) - np.bincount(closes, minlength=size))
    valid = depth[:-1] == 0
    # A short text is one window: its characters, then zeros instead of the next text's.
    if short.size:
        columns = np.arange(SHINGLE_SIZE)
        inside = columns < lengths[short, None]
        chars = np.where(inside, padded[np.minimum(starts[short, None] + columns, padded.size - 1)], 0)
        short_value = np.zeros(short.size, dtype=np.uint64)
        for column in range(SHINGLE_SIZE):
            short_value = short_value * _POLY64 + chars[:, column]
        value[starts[short]] = short_value
        valid[starts[short]] = True
    return (_fmix64(value[valid]) >> np.uint64(32)).astype(np.uint32), counts


@lru_cache(maxsize=8)
def permutations(num_perm: int = NUM_PERM, seed: int = PERMUTATION_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of the affine permutations h -> a*h + b mod 2**32, drawn as datasketch 2.x draws them."""
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.flags.writeable = b.flags.writeable = False
    return a, b


def minhash_from_hashes(
    hashes: np.ndarray, counts: np.ndarray, *, num_perm: int = NUM_PERM, seed: int = PERMUTATION_SEED
) -> np.ndarray:
    """Signatures (len(counts) x num_perm, uint32) of sets given as concatenated 32-bit hashes."""
    a, b = permutations(num_perm, seed)
    total = len(counts)
    nonempty = np.flatnonzero(counts)
    signatures = np.full((num_perm, total), EMPTY, dtype=np.uint32)
    if nonempty.size == 0:
        return np.ascontiguousarray(signatures.T)
    mixed = _fmix32(np.asarray(hashes, dtype=np.uint32))
    ends = np.cumsum(counts)[nonempty]
    starts = ends - counts[nonempty]
    values = np.empty((num_perm, nonempty.size), dtype=np.uint32)
    first = 0
    while first < nonempty.size:
        # Documents first..last-1 hold about _CHUNK_SHINGLES shingles (at least one document).
        last = max(int(np.searchsorted(ends, starts[first] + _CHUNK_SHINGLES, side="right")), first + 1)
        low, high = starts[first], ends[last - 1]
        segment = mixed[low:high]
        local_starts = starts[first:last] - low
        scratch = np.empty_like(segment)
        for k in range(num_perm):
            np.multiply(segment, a[k], out=scratch)
            scratch += b[k]
            values[k, first:last] = np.minimum.reduceat(scratch, local_starts)
        first = last
    signatures[:, nonempty] = values
    return np.ascontiguousarray(signatures.T)


def minhash_signatures(
    texts: list[str], *, num_perm: int = NUM_PERM, seed: int = PERMUTATION_SEED
) -> np.ndarray:
    """MinHash signatures of `texts` (len(texts) x num_perm, uint32); see rules 1-4.

    Works through the texts _TEXT_BATCH at a time: the per-character working arrays (several
    8-byte values per character) stay a few megabytes whatever the input's size.
    """
    signatures = np.empty((len(texts), num_perm), dtype=np.uint32)
    for start in range(0, len(texts), _TEXT_BATCH):
        hashes, counts = text_shingle_hashes(texts[start : start + _TEXT_BATCH])
        signatures[start : start + len(counts)] = minhash_from_hashes(
            hashes, counts, num_perm=num_perm, seed=seed
        )
    return signatures


def jaccard_estimates(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Row-wise share of equal values of two signature arrays of the same shape (float64)."""
    if len(first) == 0:
        return np.zeros(0, dtype=np.float64)
    out = np.empty(len(first), dtype=np.float64)
    for start in range(0, len(first), _VERIFY_CHUNK):
        stop = start + _VERIFY_CHUNK
        out[start:stop] = np.count_nonzero(first[start:stop] == second[start:stop], axis=1)
    return out / first.shape[1]


# --- Text: LSH -----------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def lsh_params(
    threshold: float = TEXT_THRESHOLD,
    num_perm: int = NUM_PERM,
    false_negative_weight: float = LSH_FALSE_NEGATIVE_WEIGHT,
) -> tuple[int, int]:
    """(bands, rows) minimising fp_weight * P(candidate | J < t) + fn_weight * P(missed | J >= t),
    integrated over J: datasketch's MinHashLSH objective, integrated numerically (no scipy)."""
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be between 0 and 1")
    grid_low = np.linspace(0.0, threshold, 2001)
    grid_high = np.linspace(threshold, 1.0, 2001)
    best, params = float("inf"), (0, 0)
    for bands in range(2, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            false_positive = np.trapezoid(1 - (1 - grid_low**rows) ** bands, grid_low)
            false_negative = np.trapezoid((1 - grid_high**rows) ** bands, grid_high)
            error = (1 - false_negative_weight) * false_positive + false_negative_weight * false_negative
            if error < best:
                best, params = error, (bands, rows)
    return params


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """The LSH S-curve: the chance that two sets of Jaccard similarity `similarity` share a band."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def lsh_band_keys(signatures: np.ndarray, *, bands: int, rows: int) -> np.ndarray:
    """One 32-bit key per band and row of `signatures` (n x bands, uint32).

    Equal bands give equal keys; different bands collide with probability 2**-32 (a false
    candidate, removed by verification), which halves the memory of 64-bit keys.
    """
    if bands * rows > signatures.shape[1]:
        raise ValueError(f"{bands} bands of {rows} rows need {bands * rows} permutations")
    keys = np.empty((len(signatures), bands), dtype=np.uint32)
    for band in range(bands):
        value = np.full(len(signatures), band, dtype=np.uint64)
        for column in range(band * rows, (band + 1) * rows):
            value *= _POLY64
            value += signatures[:, column]
        keys[:, band] = _fmix64(value) >> np.uint64(32)
    return keys


def bucket_pairs(sorted_keys: np.ndarray, order: np.ndarray, *, window: int = WINDOW):
    """Pairs (order[i], order[j]) with equal keys and 0 < j - i <= window, from keys sorted ascending
    (`order[i]` is the input index of `sorted_keys[i]`). Cost is proportional to the pairs made."""
    size = len(sorted_keys)
    firsts, seconds = [], []
    active = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
    step = 1
    while active.size and step <= window:
        firsts.append(order[active])
        seconds.append(order[active + step])
        step += 1
        active = active[active + step < size]
        active = active[sorted_keys[active] == sorted_keys[active + step]]
    if not firsts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(firsts).astype(np.int64), np.concatenate(seconds).astype(np.int64)


def unique_pairs(first: np.ndarray, second: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct unordered pairs (low < high) of indices below `size`, sorted; self-pairs dropped."""
    low = np.minimum(first, second).astype(np.int64)
    high = np.maximum(first, second).astype(np.int64)
    distinct = low != high
    code = np.unique(low[distinct] * np.int64(size) + high[distinct])
    return code // size, code % size


def lsh_candidate_pairs(band_keys: np.ndarray, *, window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pairs (low < high) of rows that share the key of at least one band."""
    firsts, seconds = [], []
    for band in range(band_keys.shape[1]):
        keys = band_keys[:, band]
        order = np.argsort(keys, kind="stable")
        first, second = bucket_pairs(keys[order], order, window=window)
        firsts.append(first)
        seconds.append(second)
    if not firsts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return unique_pairs(np.concatenate(firsts), np.concatenate(seconds), len(band_keys))


def text_pairs(
    signatures: np.ndarray,
    *,
    threshold: float = TEXT_THRESHOLD,
    bands: int | None = None,
    rows: int | None = None,
    window: int = WINDOW,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low, high, estimated similarity) of the candidate pairs whose estimate reaches `threshold`.
    Empty signatures (empty texts) pair with nothing."""
    if bands is None or rows is None:
        bands, rows = lsh_params(threshold, signatures.shape[1])
    nonempty = np.flatnonzero(~(signatures == EMPTY).all(axis=1))
    keys = lsh_band_keys(signatures[nonempty], bands=bands, rows=rows)
    low, high = lsh_candidate_pairs(keys, window=window)
    low, high = nonempty[low], nonempty[high]
    similarity = jaccard_estimates(signatures[low], signatures[high])
    keep = similarity >= threshold - 1e-9
    return low[keep], high[keep], similarity[keep]


# --- Groups --------------------------------------------------------------------------------------------


def connected_components(size: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Component label of each of `size` nodes: the smallest node of its component (union-find).

    Vectorised: each round hooks every root to the smallest root it shares an edge with (roots
    only ever point lower, so there are no cycles), then compresses paths by pointer jumping until
    every node points at its root. Few rounds in practice; each is O(edges + nodes).
    """
    parent = np.arange(size, dtype=np.int64)
    first = np.asarray(first, dtype=np.int64)
    second = np.asarray(second, dtype=np.int64)
    while first.size:
        root_a, root_b = parent[first], parent[second]
        apart = root_a != root_b
        if not apart.any():
            break
        low = np.minimum(root_a[apart], root_b[apart])
        high = np.maximum(root_a[apart], root_b[apart])
        np.minimum.at(parent, high, low)
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
        first, second = first[apart], second[apart]  # edges inside one component stay there
    return parent


def groups_from_labels(labels: np.ndarray) -> list[np.ndarray]:
    """Members (ascending) of every label shared by two or more nodes, ordered by first member."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    boundaries = np.flatnonzero(np.diff(sorted_labels)) + 1
    groups = [members for members in np.split(order, boundaries) if members.size > 1]
    groups.sort(key=lambda members: int(members[0]))
    return groups


def text_group_similarity(signatures: np.ndarray) -> float:
    """Lowest estimated Jaccard similarity between two of the given signatures (rows), over all pairs
    among the first PAIRWISE_LIMIT rows and the pairs of each later row with those."""
    head = signatures[:PAIRWISE_LIMIT]
    lowest = 1.0
    for index in range(1, len(signatures)):
        others = head[: min(index, PAIRWISE_LIMIT)]
        equal = np.count_nonzero(others == signatures[index], axis=1)
        lowest = min(lowest, float(equal.min()) / signatures.shape[1])
    return lowest


def group_texts(
    texts: list[str],
    *,
    threshold: float = TEXT_THRESHOLD,
    num_perm: int = NUM_PERM,
    seed: int = PERMUTATION_SEED,
    window: int = WINDOW,
) -> list[Group]:
    """Groups of near-duplicate texts (indices into `texts`): the whole text pipeline in one call."""
    signatures = minhash_signatures(texts, num_perm=num_perm, seed=seed)
    low, high, _ = text_pairs(signatures, threshold=threshold, window=window)
    labels = connected_components(len(texts), low, high)
    return [
        Group(members=members, similarity=text_group_similarity(signatures[members]))
        for members in groups_from_labels(labels)
    ]
