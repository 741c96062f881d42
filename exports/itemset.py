"""A release's item ids as bytes: sorted, delta-coded as unsigned 64-bit integers, zlib-compressed.

Item ids of a release are mostly consecutive, so the deltas are mostly 1 and a million ids compress to
a few kilobytes. Pure: no Django (tests/exports/test_itemset.py)."""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Iterable

_VERSION = b"\x01"


def encode_ids(ids: Iterable[int]) -> bytes:
    ordered = sorted(set(ids))
    deltas = array("Q")
    previous = 0
    for value in ordered:
        if value < 0:
            raise ValueError("item ids are positive")
        deltas.append(value - previous)
        previous = value
    return _VERSION + zlib.compress(deltas.tobytes(), 6)


def decode_ids(blob: bytes | memoryview | None) -> list[int]:
    if not blob:
        return []
    data = bytes(blob)
    if data[:1] != _VERSION:
        raise ValueError("unknown item-id encoding")
    deltas = array("Q")
    deltas.frombytes(zlib.decompress(data[1:]))
    out: list[int] = []
    total = 0
    for delta in deltas:
        total += delta
        out.append(total)
    return out
