import numpy as np
import pytest
from django.db import connection

from core.bulk import binary_copy


def test_builds_postgres_binary_copy_bytes_exactly():
    payload = binary_copy(np.array([1, 2], dtype=np.int64), np.array([7, -1], dtype=np.int16))

    header = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
    row1 = b"\x00\x02" + b"\x00\x00\x00\x08" + (1).to_bytes(8, "big") + b"\x00\x00\x00\x02" + b"\x00\x07"
    row2 = b"\x00\x02" + b"\x00\x00\x00\x08" + (2).to_bytes(8, "big") + b"\x00\x00\x00\x02" + b"\xff\xff"
    assert payload == header + row1 + row2 + b"\xff\xff"


def test_refuses_mismatched_or_non_integer_columns():
    with pytest.raises(ValueError, match="equal length"):
        binary_copy(np.array([1], dtype=np.int64), np.array([1, 2], dtype=np.int64))
    with pytest.raises(ValueError, match="float64"):
        binary_copy(np.array([1.5]))


@pytest.mark.django_db
def test_postgres_reads_it_back():
    if connection.vendor != "postgresql":
        pytest.skip("binary COPY is PostgreSQL's")
    ids = np.array([10, 20, 30], dtype=np.int64)
    values = np.array([3, -2, 1], dtype=np.int32)

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bulk_check (id bigint, value integer)")
        with cursor.copy("COPY bulk_check (id, value) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(binary_copy(ids, values))
        cursor.execute("SELECT id, value FROM bulk_check ORDER BY id")
        rows = cursor.fetchall()
        cursor.execute("DROP TABLE bulk_check")

    assert rows == [(10, 3), (20, -2), (30, 1)]
