"""The quality snapshot codec (quality.snapshot_codec): pure, no database."""

import numpy as np
import pytest

from quality import snapshot_codec as codec
from quality.engine import Table


def test_a_snapshot_round_trips_with_its_meta_and_widened_types():
    arrays = {
        "act_item": np.array([1_000_000, 1_000_005, 1_000_300], dtype=np.int64),
        "act_annotator": np.array([7, 7, 9], dtype=np.int64),
        "act_ms": np.array([0, 2_500, 70_000], dtype=np.int64),
        "c__warm_post": np.array([[0.25, 0.75]], dtype=np.float32),
        "c__label": np.array([-1, 0, 2], dtype=np.int32),
        "empty": np.zeros(0, dtype=np.int64),
    }
    meta = {"format": codec.SNAPSHOT_FORMAT, "controls": {"c": {"labels": ["a", "b", "c"], "units": []}}}
    decoded = codec.decode(codec.encode(arrays, meta))
    assert decoded["meta"] == meta
    data = decoded["data"]
    for key, array in arrays.items():
        assert key in data
        assert np.array_equal(data[key], array)
    assert data["act_item"].dtype == np.int64 and data["c__label"].dtype == np.int64
    assert data["c__warm_post"].dtype == np.float64
    assert "missing" not in data


@pytest.mark.parametrize(
    ("values", "stored"),
    [([5, 6, 300], np.uint16), ([3, 3, 3], np.uint8), ([0, 2**20], np.uint32), ([0, 2**40], np.int64)],
)
def test_integers_are_packed_as_offsets_in_the_smallest_type(values, stored):
    packed = codec.pack("k", np.array(values, dtype=np.int64))
    assert packed["k"].dtype == stored
    if stored != np.int64:
        assert packed["k__base"].tolist() == [min(values)]
        assert (packed["k"].astype(np.int64) + min(values)).tolist() == values
    else:
        assert "k__base" not in packed


def test_floats_are_stored_as_float32_and_other_arrays_as_they_are():
    assert codec.pack("f", np.array([0.5]))["f"].dtype == np.float32
    texts = np.array(["a", "b"])
    assert codec.pack("t", texts) == {"t": texts}


def test_a_materialised_snapshot_holds_every_array_without_the_offset_members():
    blob = codec.encode({"x": np.array([10, 11], dtype=np.int64)}, {"format": 1})
    materialised = codec.Materialised(codec.decode(blob)["data"])
    assert set(materialised.arrays) == {"__meta__", "x"}
    assert materialised["x"].tolist() == [10, 11] and "x__base" not in materialised


def test_a_plain_base_reads_like_a_decoded_one():
    plain = codec.Plain({"p": np.array([0.5], dtype=np.float32), "i": np.array([1], dtype=np.int64)})
    assert plain["p"].dtype == np.float64 and plain["i"].dtype == np.int64 and "p" in plain


def test_table_and_consensus_arrays_are_named_by_control():
    table = Table(
        np.array([1, 2]),
        np.array([0, 0], np.int32),
        np.array([5, 6]),
        np.array([1, 0], np.int32),
        ["x", "y"],
        [],
    )
    assert set(codec.table_arrays("c", table)) == {"c__item", "c__unit", "c__annotator", "c__label"}
    cons = (np.array([1, 2]), np.array([0, 1]), np.array([0.9, 0.8]))
    stored = codec.cons_arrays("c", cons)
    assert all(np.array_equal(a, b) for a, b in zip(codec.cons_of(stored, "c"), cons, strict=True))
    assert codec.cons_of(stored, "other") is None


def test_a_delta_overlays_the_base_consensus_by_item():
    base = (np.array([1, 3, 5]), np.array([0, 0, 0]), np.array([0.1, 0.3, 0.5]))
    delta = (np.array([4, 3]), np.array([1, 1]), np.array([0.4, 0.33]))
    items, labels, conf = codec.overlay(base, delta)
    assert items.tolist() == [1, 3, 4, 5]
    assert labels.tolist() == [0, 1, 1, 0]
    assert conf.tolist() == [0.1, 0.33, 0.4, 0.5]


def test_pair_keys_distinguish_item_and_annotator():
    keys = codec.pair_key(np.array([1, 1, 2]), np.array([1, 2, 1]))
    assert len(set(keys.tolist())) == 3


def test_the_codec_is_pure():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(codec))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.split(".")[0] in ("django", "rest_framework") for name in imported)
