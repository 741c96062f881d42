"""The quality snapshot codec: the arrays of a recompute (coded answer tables, activity, consensus,
warm-start posteriors) to and from the bytes stored in `QualityState.snapshot` / `snapshot_delta`.

Pure (numpy only, no Django): a blob is a zlib-compressed `.npz` with a JSON `__meta__` member.
Integers are stored as offsets from their minimum in the smallest unsigned type that holds them
(`pack`), floats as float32; `decode` gives them back as int64 / float64 (`Unpacked`).
"""

from __future__ import annotations

import io
import json
import zlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from quality.engine import Table

SNAPSHOT_FORMAT = 1


def pair_key(item: np.ndarray, annotator: np.ndarray) -> np.ndarray:
    return (item.astype(np.int64) << 24) ^ annotator.astype(np.int64)


def encode(arrays: dict[str, np.ndarray], meta: dict) -> bytes:
    packed: dict[str, np.ndarray] = {}
    for key, array in arrays.items():
        packed.update(pack(key, array))
    buffer = io.BytesIO()
    meta_bytes = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    # numpy's stubs type **kwds as savez's keyword options; here they are the named arrays it stores.
    np.savez(buffer, __meta__=meta_bytes, **packed)  # type: ignore[arg-type]
    return zlib.compress(buffer.getvalue(), 1)


def decode(blob: bytes) -> dict:
    data = Unpacked(np.load(io.BytesIO(zlib.decompress(blob))))
    return {"data": data, "meta": json.loads(bytes(data["__meta__"]).decode())}


def pack(key: str, array: np.ndarray) -> dict[str, np.ndarray]:
    """Integers as offsets from their minimum in the smallest unsigned type that holds them (ids of
    one project span a small range; labels and units fit a byte); floats as float32. A million
    answers then take about 7 bytes each before compression."""
    array = np.asarray(array)
    if array.dtype.kind == "f":
        return {key: array.astype(np.float32)}
    if array.dtype.kind not in "iu" or not len(array):
        return {key: array}
    low = int(array.min())
    span = int(array.max()) - low
    for kind in (np.uint8, np.uint16, np.uint32):
        if span <= np.iinfo(kind).max:
            return {key: (array - low).astype(kind), f"{key}__base": np.array([low], dtype=np.int64)}
    return {key: array}


class Unpacked:
    """Read side of `pack`: arrays come back as int64 (or float64)."""

    def __init__(self, data):
        self.data = data

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def __getitem__(self, key: str) -> np.ndarray:
        array = self.data[key]
        if f"{key}__base" in self.data:
            return array.astype(np.int64) + int(self.data[f"{key}__base"][0])
        if array.dtype == np.float32:
            return array.astype(np.float64)
        return array


class Plain:
    """A base kept from the run that wrote it: its arrays as they were computed (float32 warm
    posteriors widened like a decoded base would be)."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = {
            key: value.astype(np.float64) if value.dtype == np.float32 else value
            for key, value in arrays.items()
        }

    def __contains__(self, key: str) -> bool:
        return key in self.arrays

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]


class Materialised:
    """Every array of a snapshot read once (npz members are otherwise re-read on every access)."""

    def __init__(self, data):
        self.arrays = {key: data[key] for key in data.data.files if not key.endswith("__base")}

    def __contains__(self, key: str) -> bool:
        return key in self.arrays

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]


def table_arrays(name: str, table: Table) -> dict[str, np.ndarray]:
    return {
        f"{name}__item": table.item,
        f"{name}__unit": table.unit,
        f"{name}__annotator": table.annotator,
        f"{name}__label": table.label,
    }


def cons_arrays(name: str, cons: tuple) -> dict[str, np.ndarray]:
    items, labels, conf = cons
    return {f"{name}__cons_item": items, f"{name}__cons_label": labels, f"{name}__cons_conf": conf}


def cons_of(data, name: str) -> tuple | None:
    if f"{name}__cons_item" not in data:
        return None
    return tuple(data[f"{name}__cons_{k}"] for k in ("item", "label", "conf"))


def overlay(base: tuple, delta: tuple) -> tuple:
    """Consensus arrays (sorted items, labels, confidences) with the delta's items replacing the base's."""
    items, labels, conf = base
    keep = ~np.isin(items, delta[0])
    merged = np.concatenate((items[keep], delta[0]))
    order = np.argsort(merged, kind="stable")
    return (
        merged[order],
        np.concatenate((labels[keep], delta[1]))[order],
        np.concatenate((conf[keep], delta[2]))[order],
    )
