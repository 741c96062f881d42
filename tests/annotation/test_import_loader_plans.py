"""The embedded default's import statements stay set-based: their SQLite query plans, read directly.

`make run` imports on SQLite. A join of the staging table to a grouped subquery without an index made
SQLite scan the staging table once per group (10,000 lines in 42 s, quadratic). These tests read the
planner's own answer with EXPLAIN QUERY PLAN on the real statements, so a rewrite that brings a nested
scan back fails here instead of on a newcomer's first large upload (the speed is measured in
`make bench`, never in a timed test).
"""

import sqlite3

import pytest

from annotation.imports import loader

ITEM_TABLE = """
CREATE TABLE annotation_item (
    id integer PRIMARY KEY, project_id integer NOT NULL, external_id text, data text, meta text,
    content_hash text, checksum text, source text, source_ref text, import_job_id integer,
    licence text, consent text, synthetic integer, generator text, split text, search_text text,
    predictions text, created_at text, media text, media_url text, media_type text,
    media_bytes integer, image_hash integer, target integer, provenance_source_id integer,
    UNIQUE (project_id, content_hash), UNIQUE (project_id, external_id)
)
"""


@pytest.fixture
def database():
    connection = sqlite3.connect(":memory:")
    connection.execute(ITEM_TABLE)
    connection.execute(loader._SQLITE_CREATE)
    yield connection
    connection.close()


def _plan(connection, statement: str, parameters: int) -> list[tuple[int, int, str]]:
    rows = connection.execute("EXPLAIN QUERY PLAN " + statement.replace("%s", "?"), [1] * parameters)
    return [(node, parent, detail) for node, parent, _, detail in rows]


def _nested_scans(plan: list[tuple[int, int, str]]) -> list[str]:
    """Full scans that run inside another scan's loop: the shape that made imports quadratic."""
    top_level_scans = [detail for _, parent, detail in plan if parent == 0 and detail.startswith("SCAN")]
    return top_level_scans[1:]


def test_insert_scans_the_staging_table_once_and_sorts_nothing(database):
    """The insert holds SQLite's write lock: one scan of staging in rowid (file) order, no sort."""
    plan = _plan(database, loader._SQLITE_INSERT, 6)

    assert _nested_scans(plan) == [], plan
    assert not any("TEMP B-TREE" in detail for _, _, detail in plan), plan


def test_dropping_repeated_content_scans_the_staging_table_once(database):
    plan = _plan(database, loader._DROP_REPEATED_CONTENT, 0)

    assert _nested_scans(plan) == [], plan
    # The first line of each content hash is found through a list built once (an ephemeral index).
    assert any("LIST SUBQUERY" in detail for _, _, detail in plan), plan


def test_duplicate_external_ids_scans_the_staging_table_once(database):
    plan = _plan(database, loader._DUPLICATE_EXTERNAL_IDS, 0)

    assert _nested_scans(plan) == [], plan


def test_the_old_join_is_caught(database):
    """The check above recognises the statement that was quadratic (kept here as the counter-example)."""
    quadratic = (
        "SELECT s.line FROM import_staging s "
        "JOIN (SELECT min(line) AS line FROM import_staging GROUP BY content_hash) first_of_content "
        "USING (line)"
    )

    assert _nested_scans(_plan(database, quadratic, 0)), "the counter-example no longer reproduces"


def test_insert_keeps_the_first_line_of_each_content(database):
    rows = [
        (1, "a", "h1"),
        (2, "b", "h2"),
        (3, None, "h1"),  # same content as line 1: skipped
        (4, "c", "h3"),
    ]
    columns = ", ".join(loader.STAGING_COLUMNS)
    for line, external_id, content_hash in rows:
        values = dict.fromkeys(loader.STAGING_COLUMNS, "")
        values.update(line=line, external_id=external_id, content_hash=content_hash, synthetic=0)
        values.update(media_bytes=None, image_hash=None)
        database.execute(
            f"INSERT INTO import_staging ({columns}) VALUES ({', '.join('?' * len(values))})",  # noqa: S608
            [values[c] for c in loader.STAGING_COLUMNS],
        )

    database.execute(loader._DROP_REPEATED_CONTENT)  # before the write transaction
    database.execute(loader._SQLITE_INSERT.replace("%s", "?"), [7, "upload", 1, "2026-01-01", 1, None])

    stored = database.execute("SELECT external_id, content_hash FROM annotation_item ORDER BY id")
    assert stored.fetchall() == [
        ("a", "h1"),
        ("b", "h2"),
        ("c", "h3"),
    ]
