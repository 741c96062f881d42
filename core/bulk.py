"""PostgreSQL bulk helpers: binary COPY payloads built by numpy in one go, no per-row Python."""

import numpy as np

_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_TRAILER = (-1).to_bytes(2, "big", signed=True)
_SIZES = {np.dtype(np.int16): (2, ">i2"), np.dtype(np.int32): (4, ">i4"), np.dtype(np.int64): (8, ">i8")}


def binary_copy(*columns: np.ndarray) -> bytes:
    """PostgreSQL's binary COPY format for rows of integer columns (smallint, integer, bigint by the
    arrays' dtypes), e.g. `COPY t (id, value) FROM STDIN (FORMAT BINARY)` with binary_copy(ids, values)."""
    if not columns or len({len(column) for column in columns}) != 1:
        raise ValueError("binary_copy needs one or more columns of equal length")
    fields = [("fields", ">i2")]
    for index, column in enumerate(columns):
        if column.dtype not in _SIZES:
            raise ValueError(f"column {index} has dtype {column.dtype}; use int16, int32 or int64")
        fields += [(f"size{index}", ">i4"), (f"value{index}", _SIZES[column.dtype][1])]
    rows = np.empty(len(columns[0]), dtype=np.dtype(fields))
    rows["fields"] = len(columns)
    for index, column in enumerate(columns):
        rows[f"size{index}"] = _SIZES[column.dtype][0]
        rows[f"value{index}"] = column
    return _HEADER + rows.tobytes() + _TRAILER
