"""A per-project trigram index that makes text search fast at a million items on PostgreSQL.

The item list's `q` keeps its meaning (every word is a substring of the lower-cased text, or the whole
query is the external id). On PostgreSQL each project gets one partial GIN index
`search_text gin_trgm_ops WHERE project_id = <project>` (pg_trgm, created by migration
annotation/0010), which serves `search_text LIKE '%word%'` for words of 3 characters or more: a rare
item is found from the index instead of reading every row of the project.

Built after the bulk load, off the import's path (an import of 1M rows would take several times longer
maintaining it row by row): the import schedules the task that runs `metadata_indexes_ensure` and this,
with `CREATE INDEX CONCURRENTLY` (writers are not blocked). Later imports into the project maintain it
incrementally (GIN fast update: new rows go to a pending list merged by autovacuum); other projects'
imports never touch it. Until the build finishes a search is a scan (correct, slower).
A big later import (a file of ANNOTATION_IMPORT_SEARCH_INDEX_DROP_BYTES or more) would pay that
maintenance row by row (a 100k import: 28-31 s instead of 8-12 s): it drops the index first
(`search_index_suspend`, DROP INDEX CONCURRENTLY) and the same task rebuilds it after the load.
SQLite: nothing (the embedded default holds far fewer items; the scan stays correct).
Turn it off with `ANNOTATION_SEARCH_INDEX=false`. See docs/DATA.md.
"""

import logging

from django.conf import settings
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

PREFIX = "item_search_"


def search_index_name(*, project_id: int) -> str:
    return f"{PREFIX}{int(project_id)}"


def search_index_exists(*, project_id: int) -> bool:
    """True when the project's index exists and is valid (PostgreSQL); False elsewhere."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'annotation_item'::regclass AND c.relname = %s",
            [search_index_name(project_id=project_id)],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def search_index_ensure(*, project_id: int) -> bool:
    """Create the project's trigram index if it is missing (or rebuild an invalid one left by an
    interrupted build). Idempotent. True when it built one."""
    if connection.vendor != "postgresql":
        return False
    name = search_index_name(project_id=project_id)
    concurrently = "" if connection.in_atomic_block else "CONCURRENTLY "
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            logger.warning("pg_trgm is not installed: no text search index for project %s", project_id)
            return False
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'annotation_item'::regclass AND c.relname = %s",
            [name],
        )
        row = cursor.fetchone()
        if row and row[0]:
            return False
        if row:
            cursor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")
        # A GIN build sorts its entries in maintenance_work_mem: 64 MB (the default) makes it spill.
        cursor.execute(
            "SELECT set_config('maintenance_work_mem', %s, false)",
            [settings.ANNOTATION_INDEX_BUILD_MEMORY],
        )
        try:
            cursor.execute(
                # The name is generated from an integer id; nothing user-provided is in the DDL.
                f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON annotation_item "
                f"USING gin (search_text gin_trgm_ops) WHERE project_id = {int(project_id)}"
            )
        finally:
            cursor.execute("RESET maintenance_work_mem")
    return True


def search_index_drop(*, project_id: int) -> None:
    """Drop the project's index (tests, benchmarks). A deleted project's index stays, empty (as the
    metadata indexes do)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {search_index_name(project_id=project_id)}")


def search_index_suspend(*, project_id: int) -> bool:
    """Drop the project's index before a big load (so the load does not maintain it row by row); the
    caller then schedules the task that rebuilds it (metadata_indexes_schedule), whatever the load's
    outcome. True when the index was there (valid or not) and a drop was attempted: the caller must
    schedule the rebuild even if this gave up (a drop interrupted midway leaves an invalid index, which
    searches ignore and search_index_ensure replaces). Outside a transaction (a worker): CONCURRENTLY,
    giving up after ANNOTATION_IMPORT_SEARCH_INDEX_DROP_WAIT rather than waiting behind another
    project's index build; the load then maintains the index (slower, correct)."""
    if connection.vendor != "postgresql":
        return False
    name = search_index_name(project_id=project_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'annotation_item'::regclass AND c.relname = %s",
            [name],
        )
        if cursor.fetchone() is None:
            return False
        if connection.in_atomic_block:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
            return True
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, false)",
            [settings.ANNOTATION_IMPORT_SEARCH_INDEX_DROP_WAIT],
        )
        try:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        except DatabaseError:
            logger.warning("project %s: search index not dropped before a big import (lock wait)", project_id)
        finally:
            cursor.execute("RESET lock_timeout")
    return True
