"""Assign items to named splits (train/validation/test, folds, ...). Pure numpy: no Django, no I/O.

`assign_splits` is the whole algorithm; `split_quotas` is its counting rule, exposed for tests and
for callers that want to preview counts. Everything per item is vectorised (a few sorts of the
input: a million items take well under a second); only the rounding in `split_quotas` loops, once
per stratum.

The rules, in the order they apply:

1. **Reproducible.** The result depends only on the *set* of (id, stratum, group) triples, the ratios
   and the seed, never on the order of the input or of `ratios`' keys (JSON objects, and PostgreSQL's
   jsonb in particular, do not keep key order). Splits are laid out in name order internally; the
   returned indices still refer to the names in the order given.
2. **Shuffled by a keyed hash, not a generator.** Each group (an ungrouped item is a group of one)
   gets the key SplitMix64(SplitMix64(seed) + smallest id in the group). Plain integer arithmetic, so
   the same seed gives the same split on every platform and numpy version, and an item's place in
   the shuffled order does not depend on which other items exist.
3. **Exact counts by the largest-remainder method.** For n items, split k gets floor(n * r_k) items;
   the items left over go one each to the splits with the largest fractional parts n * r_k - floor,
   ties to the name that sorts first. 10 items at 0.8/0.1/0.1 give 8/1/1; 7 items at
   {"train": 0.5, "test": 0.5} give test 4, train 3 ("test" sorts before "train"). Quotas are
   rounded to millionths of an item first, so float noise (0.29 * 100 = 28.999999999999996) cannot
   move an item, and the arithmetic after that is integer.
4. **Stratified.** With `strata`, every stratum gets its own quotas n_s * r_k, each rounded down or
   up, so the ratios hold within every stratum to less than one item per split. Which splits round
   up is rule 3 with the remainders *carried* from stratum to stratum (strata in text order of their
   values): a split that rounded up in one stratum has a smaller claim in the next. Plain
   per-stratum largest remainder would let the same split win every time (0.8/0.1/0.1 over strata of
   5 items: test would get an item from every stratum and validation none; 1-item strata would all go
   to train); with the carry the totals over all strata also stay within one item of n * r_k. A
   missing stratum value (None or "") is a stratum of its own.
5. **Grouped.** With `groups`, a group never spans two splits. Within a stratum, groups are taken in
   key order (rule 2) and laid end to end; the item quotas (rules 3, 4) are laid end to end too, and a
   group goes to the split whose quota holds its middle item. So the splits are filled greedily by
   *items*, not by number of groups, and each boundary is off by at most half a group: counts are
   approximate, exact when all groups have one item. A small split can receive no group at all
   when groups are large compared to it. A missing group value (None or "") makes the item a group of
   its own.
6. **Grouped and stratified.** A group's stratum is the most common stratum among its items; ties go
   to the smallest value in text order, with a missing value smaller than any other.
"""

import re

import numpy as np

SPLIT_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,50}")
MAX_SPLITS = 20  # names in one operation: train/validation/test up to 20-fold cross-validation
RATIO_TOLERANCE = 1e-9  # how far the ratios' sum may be from 1

_QUOTA_UNIT = 1_000_000  # quotas are rounded to millionths of an item
_MASK64 = (1 << 64) - 1


def assign_splits(
    ids: np.ndarray,
    ratios: dict[str, float],
    seed: int,
    strata: np.ndarray | None = None,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """For each of `ids` (unique integers), the index in `ratios` (names in the order given) of its split.

    `strata` and `groups`, when given, hold one value per id (text, numbers or None). The callers
    validate `ratios`; here a broken precondition is an AssertionError.
    """
    ids = np.asarray(ids)
    n = len(ids)
    names = list(ratios)
    values = np.array([ratios[name] for name in names], dtype=np.float64)
    assert 1 <= len(names) <= MAX_SPLITS and bool(np.all(values > 0))
    assert abs(float(values.sum()) - 1.0) <= RATIO_TOLERANCE
    assert ids.ndim == 1 and (n == 0 or np.issubdtype(ids.dtype, np.integer))
    for column in (strata, groups):
        assert column is None or len(column) == n
    if n == 0:
        return np.zeros(0, dtype=np.int64)

    by_id = np.argsort(ids, kind="stable")
    sorted_ids = ids[by_id].astype(np.int64)
    assert bool(np.all(sorted_ids[1:] != sorted_ids[:-1])), "ids must be unique"

    # Lay splits out in name order (rule 1); map back to the caller's order at the end.
    name_order = np.array(sorted(range(len(names)), key=lambda i: names[i]), dtype=np.int64)
    ordered_ratios = values[name_order] / values.sum()

    item_stratum = _codes(None if strata is None else np.asarray(strata, dtype=object)[by_id], n)[0]
    if groups is None:
        item_group = np.arange(n, dtype=np.int64)
        group_stratum = item_stratum
        group_size = np.ones(n, dtype=np.int64)
        group_first = np.arange(n, dtype=np.int64)
    else:
        item_group = _group_codes(np.asarray(groups, dtype=object)[by_id])
        group_size = np.bincount(item_group)
        # Items are sorted by id, so a group's first item is its smallest id.
        _, group_first = np.unique(item_group, return_index=True)
        group_stratum = _most_common_stratum(item_group, item_stratum, len(group_size))

    key = _splitmix64(
        _splitmix64(np.array([seed & _MASK64], dtype=np.uint64)) + sorted_ids[group_first].astype(np.uint64)
    )
    # Strata one after another, each shuffled by key (ties, 2**-64 likely, by smallest id).
    walk = np.lexsort((group_first, key, group_stratum))
    walk_stratum = group_stratum[walk]
    walk_size = group_size[walk]

    stratum_total = np.bincount(walk_stratum, weights=walk_size).astype(np.int64)
    quotas = split_quotas(stratum_total, ordered_ratios)  # (strata, splits)
    stratum_start = np.cumsum(stratum_total) - stratum_total
    # Cumulative quota boundaries of every (stratum, split), end to end: nondecreasing.
    bounds = (stratum_start[:, None] + np.cumsum(quotas, axis=1)).ravel()
    before = np.cumsum(walk_size) - walk_size  # items laid out before this group
    middle_x2 = 2 * before + walk_size  # twice the position of the group's middle: stays integer
    flat = np.searchsorted(2 * bounds, middle_x2, side="right")
    split_in_name_order = flat - walk_stratum * len(names)

    group_split = np.empty(len(group_size), dtype=np.int64)
    group_split[walk] = name_order[split_in_name_order]
    result = np.empty(n, dtype=np.int64)
    result[by_id] = group_split[item_group]
    return result


def split_quotas(totals: np.ndarray, ratios: np.ndarray) -> np.ndarray:
    """Integer counts, one row per stratum total: largest remainder with carry (module docstring, rules 3-4).

    Each row sums to its total and each count is its quota rounded down or up. Quotas are counted in
    millionths as integers, so the result is the same on every platform. The loop runs only over
    rows whose quotas are not all whole numbers: one pass of a few list operations per stratum.
    """
    totals = np.asarray(totals, dtype=np.int64)
    ratios = np.asarray(ratios, dtype=np.float64)
    exact = np.rint(totals[:, None] * ratios[None, :] * _QUOTA_UNIT).astype(np.int64)  # millionths
    counts, remainder = np.divmod(exact, _QUOTA_UNIT)
    missing = totals - counts.sum(axis=1)
    splits = range(len(ratios))
    carry = [0] * len(ratios)  # per split: quota so far minus items given so far, in millionths
    rows, columns = [], []
    for row in np.flatnonzero(missing > 0).tolist():
        # Rows with nothing missing have no remainder (quotas whole to a millionth): the carry stays as is.
        left = remainder[row].tolist()
        deficit = [owed + part for owed, part in zip(carry, left, strict=True)]
        eligible = sorted((k for k in splits if left[k] > 0), key=lambda k: (-deficit[k], k))
        for k in eligible[: missing[row]]:
            deficit[k] -= _QUOTA_UNIT
            rows.append(row)
            columns.append(k)
        carry = deficit
    counts[rows, columns] += 1
    return counts


def _is_missing(values: np.ndarray) -> np.ndarray:
    return (values == None) | (values == "")  # noqa: E711 (elementwise on an object array)


def _codes(values: np.ndarray | None, n: int) -> tuple[np.ndarray, int]:
    """Integer codes in text order of the values, missing values first (code 0 when any are missing)."""
    if values is None:
        return np.zeros(n, dtype=np.int64), 1
    missing = _is_missing(values)
    codes = np.zeros(n, dtype=np.int64)
    present = ~missing
    uniques, inverse = np.unique(values[present].astype(str), return_inverse=True)
    offset = 1 if missing.any() else 0
    codes[present] = inverse.ravel() + offset
    return codes, len(uniques) + offset


def _group_codes(values: np.ndarray) -> np.ndarray:
    """One code per group value; every item with a missing value gets a code of its own."""
    codes, count = _codes(values, len(values))
    missing = _is_missing(values)
    if missing.any():
        # _codes gave the missing values 0: renumber present groups from 0, then one code per missing item.
        codes[~missing] -= 1
        count -= 1
        codes[missing] = count + np.arange(int(missing.sum()))
    return codes


def _most_common_stratum(item_group: np.ndarray, item_stratum: np.ndarray, group_count: int) -> np.ndarray:
    strata = int(item_stratum.max()) + 1
    pairs, pair_count = np.unique(item_group * strata + item_stratum, return_counts=True)
    pair_group, pair_stratum = np.divmod(pairs, strata)
    # pairs come sorted by (group, stratum); a stable sort by (group, -count) keeps the smaller
    # stratum first among equal counts, so the first row of each group is its answer.
    order = np.lexsort((-pair_count, pair_group))
    first = np.r_[True, pair_group[order][1:] != pair_group[order][:-1]]
    result = np.empty(group_count, dtype=np.int64)
    result[pair_group[order][first]] = pair_stratum[order][first]
    return result


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (Steele, Lea and Flood 2014), elementwise on uint64 with wrap-around."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))
