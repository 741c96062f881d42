"""annotation.splits.algorithm: exact counts, reproducibility, stratification, groups. Pure: no database."""

from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotation.splits.algorithm import _most_common_stratum, assign_splits, split_quotas

THREE_WAY = {"train": 0.8, "validation": 0.1, "test": 0.1}


def named(result: np.ndarray, ratios: dict[str, float]) -> list[str]:
    names = list(ratios)
    return [names[index] for index in result]


def counts(result: np.ndarray, ratios: dict[str, float]) -> dict[str, int]:
    found = Counter(named(result, ratios))
    return {name: found.get(name, 0) for name in ratios}


def test_counts_are_exact_by_largest_remainder():
    result = assign_splits(np.arange(1, 11), THREE_WAY, seed=1)

    assert counts(result, THREE_WAY) == {"train": 8, "validation": 1, "test": 1}


def test_leftover_item_goes_to_the_largest_remainder():
    result = assign_splits(np.arange(1, 12), THREE_WAY, seed=1)

    assert counts(result, THREE_WAY) == {"train": 9, "validation": 1, "test": 1}  # 8.8 / 1.1 / 1.1


def test_equal_remainders_favour_the_name_that_sorts_first():
    ratios = {"train": 0.5, "test": 0.5}

    result = assign_splits(np.arange(1, 8), ratios, seed=3)

    assert counts(result, ratios) == {"train": 3, "test": 4}  # 3.5 / 3.5; "test" < "train"


def test_quotas_ignore_float_noise():
    quotas = split_quotas(np.array([100, 7, 0]), np.array([0.29, 0.71]))

    assert quotas.tolist() == [[29, 71], [2, 5], [0, 0]]  # 0.29 * 100 == 28.999999999999996 in floats


def test_remainders_carry_over_from_stratum_to_stratum():
    quotas = split_quotas(np.array([5, 5, 5, 5]), np.array([0.1, 0.8, 0.1]))  # test, train, validation

    # 0.5 / 4 / 0.5 in each stratum: the extra item alternates instead of always going to "test".
    assert quotas.tolist() == [[1, 4, 0], [0, 4, 1], [1, 4, 0], [0, 4, 1]]


def test_one_item_strata_still_follow_the_ratios_overall():
    strata = np.arange(1, 11).astype(str).astype(object)  # ten strata of one item

    result = assign_splits(np.arange(1, 11), THREE_WAY, 5, strata=strata)

    assert counts(result, THREE_WAY) == {"train": 8, "validation": 1, "test": 1}


def test_assignment_is_pinned_for_a_seed():
    ratios = {"train": 0.5, "validation": 0.25, "test": 0.25}

    result = assign_splits(np.arange(1, 13), ratios, seed=7)

    # Plain integer hashing: this must hold on every platform and numpy version.
    assert named(result, ratios) == [
        "test", "validation", "validation", "test", "validation", "train",
        "train", "train", "train", "train", "test", "train",
    ]  # fmt: skip


def test_input_order_does_not_change_the_assignment():
    ids = np.arange(100, 400)
    strata = np.array(["en", "de", None])[ids % 3]
    groups = (ids // 4).astype(str).astype(object)
    shuffled = np.random.default_rng(5).permutation(len(ids))

    first = assign_splits(ids, THREE_WAY, 11, strata=strata, groups=groups)
    second = assign_splits(ids[shuffled], THREE_WAY, 11, strata=strata[shuffled], groups=groups[shuffled])

    assert dict(zip(ids[shuffled].tolist(), second.tolist(), strict=True)) == dict(
        zip(ids.tolist(), first.tolist(), strict=True)
    )


def test_order_of_the_ratio_names_does_not_change_the_assignment():
    ids = np.arange(1, 51)
    reordered = {"test": 0.1, "validation": 0.1, "train": 0.8}

    first = named(assign_splits(ids, THREE_WAY, 4), THREE_WAY)
    second = named(assign_splits(ids, reordered, 4), reordered)

    assert first == second


def test_another_seed_gives_another_assignment():
    ids = np.arange(1, 201)

    first = assign_splits(ids, THREE_WAY, seed=1)
    second = assign_splits(ids, THREE_WAY, seed=2)

    assert first.tolist() != second.tolist()
    assert (
        counts(first, THREE_WAY) == counts(second, THREE_WAY) == {"train": 160, "validation": 20, "test": 20}
    )


def test_stratification_keeps_the_ratios_in_every_stratum_with_missing_values_as_one_stratum():
    strata = np.array(["en"] * 100 + ["de"] * 50 + [None] * 4 + [""] * 3, dtype=object)
    ids = np.arange(1, len(strata) + 1)
    ratios = {"train": 0.8, "test": 0.2}

    result = assign_splits(ids, ratios, 9, strata=strata)

    per_stratum = {
        value: counts(result[mask], ratios)
        for value, mask in [("en", strata == "en"), ("de", strata == "de"), ("missing", ids > 150)]
    }
    assert per_stratum == {
        "en": {"train": 80, "test": 20},
        "de": {"train": 40, "test": 10},
        "missing": {"train": 6, "test": 1},  # 5.6 / 1.4
    }


def test_groups_never_span_two_splits():
    ids = np.arange(1, 1001)
    groups = (ids % 97).astype(str).astype(object)

    result = assign_splits(ids, THREE_WAY, 21, groups=groups)

    splits_per_group = defaultdict(set)
    for group, split in zip(groups, result, strict=True):
        splits_per_group[group].add(int(split))
    assert {len(found) for found in splits_per_group.values()} == {1}
    largest = max(Counter(groups.tolist()).values())  # 11
    quotas = {"train": 800, "validation": 100, "test": 100}
    assert all(abs(counts(result, THREE_WAY)[name] - quotas[name]) <= largest for name in quotas)


def test_items_without_a_group_are_groups_of_their_own():
    groups = np.array([None] * 6 + [""] * 4, dtype=object)

    result = assign_splits(np.arange(1, 11), THREE_WAY, 2, groups=groups)

    assert counts(result, THREE_WAY) == {"train": 8, "validation": 1, "test": 1}


def test_a_group_takes_its_most_common_stratum_and_the_smallest_on_ties():
    # groups: 0 = (b, b, a) -> b; 1 = (b, a) -> a, the smaller; 2 = (c) -> c
    item_group = np.array([0, 0, 0, 1, 1, 2])
    item_stratum = np.array([1, 1, 0, 1, 0, 2])

    assert _most_common_stratum(item_group, item_stratum, 3).tolist() == [1, 0, 2]


def test_no_items_give_an_empty_assignment():
    assert assign_splits(np.array([], dtype=np.int64), THREE_WAY, 1).tolist() == []


def test_duplicate_ids_are_refused():
    with pytest.raises(AssertionError):
        assign_splits(np.array([1, 2, 2]), THREE_WAY, 1)


# --- Properties on random inputs ----------------------------------------------------------------------

values = st.one_of(st.none(), st.just(""), st.sampled_from(["a", "b", "c", "d"]))


def objects(column: list | None) -> np.ndarray | None:
    return None if column is None else np.array(column, dtype=object)


@st.composite
def split_inputs(draw):
    ids = draw(st.lists(st.integers(-(2**40), 2**40), min_size=0, max_size=120, unique=True))
    weights = draw(st.lists(st.integers(1, 20), min_size=1, max_size=5))
    total = sum(weights)
    ratios = {f"s{index}": weight / total for index, weight in enumerate(weights)}
    strata = draw(st.none() | st.lists(values, min_size=len(ids), max_size=len(ids)))
    groups = draw(st.none() | st.lists(values, min_size=len(ids), max_size=len(ids)))
    seed = draw(st.integers(0, 2**31 - 1))
    return np.array(ids, dtype=np.int64), ratios, seed, objects(strata), objects(groups)


def stratum_key(value) -> str:
    return "" if value is None else value


@settings(deadline=None, max_examples=300)
@given(split_inputs(), st.randoms(use_true_random=False))
def test_properties_hold_for_random_inputs(inputs, random):
    ids, ratios, seed, strata, groups = inputs

    result = assign_splits(ids, ratios, seed, strata=strata, groups=groups)

    # every id gets exactly one valid split
    assert result.shape == ids.shape
    assert all(0 <= split < len(ratios) for split in result.tolist())
    # the same set in another order gives the same assignment
    order = list(range(len(ids)))
    random.shuffle(order)
    again = assign_splits(
        ids[order],
        ratios,
        seed,
        strata=None if strata is None else strata[order],
        groups=None if groups is None else groups[order],
    )
    assert again.tolist() == result[order].tolist()

    names = list(ratios)
    by_name = sorted(range(len(names)), key=lambda index: names[index])
    if groups is not None:
        # a named group never spans two splits
        seen: dict[str, set[int]] = defaultdict(set)
        for group, split in zip(groups.tolist(), result.tolist(), strict=True):
            if group:
                seen[group].add(split)
        assert all(len(splits) == 1 for splits in seen.values())
        if strata is None and len(ids):
            # each split is off its exact quota by at most the largest group
            sizes = Counter(group if group else f"own-{index}" for index, group in enumerate(groups.tolist()))
            exact = split_quotas(np.array([len(ids)]), np.array([ratios[names[i]] for i in by_name]))[0]
            found = np.bincount(result, minlength=len(names))[by_name]
            assert np.all(np.abs(found - exact) <= max(sizes.values()))
    else:
        # without groups, every stratum's count is its quota rounded down or up ...
        keys = [""] * len(ids) if strata is None else [stratum_key(value) for value in strata.tolist()]
        for key in set(keys):
            mask = np.array([k == key for k in keys])
            found = np.bincount(result[mask], minlength=len(names))
            quota = [int(mask.sum()) * ratio for ratio in ratios.values()]
            assert all(abs(got - want) < 1 + 1e-6 for got, want in zip(found.tolist(), quota, strict=True))
        # ... and the totals stay within one item of the ratios too, exact without strata
        found = np.bincount(result, minlength=len(names))
        if strata is None:
            exact = split_quotas(np.array([len(ids)]), np.array([ratios[names[i]] for i in by_name]))[0]
            assert found[by_name].tolist() == exact.tolist()
        quota = [len(ids) * ratio for ratio in ratios.values()]
        assert all(abs(got - want) < 1 + 1e-6 for got, want in zip(found.tolist(), quota, strict=True))
