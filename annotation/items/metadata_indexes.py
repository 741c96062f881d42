"""Per-key expression indexes that make sorted metadata ranges fast on PostgreSQL.

A project's number and date metadata keys each get one partial btree index
`((meta -> '<key>'), id) WHERE project_id = <project>`: the exact expression the item list filters
(`meta.<key>__gte/__lte`) and sorts (`ordering=meta.<key>` / `-meta.<key>`, ties by id in the same
direction) on, so a sorted range reads its first page from the index instead of sorting every match.

Built after the bulk load, off the import's path: the import schedules `metadata_indexes_ensure` through
the outbox, and it runs `CREATE INDEX CONCURRENTLY` (writers are not blocked). Partial per project, so
other projects' imports never maintain it; later imports into the project maintain it incrementally.
SQLite: nothing (no benefit measured; the list stays correct without). See docs/DATA.md.
"""

import hashlib

from django.conf import settings
from django.db import connection

from core import task_names
from core.services import outbox_enqueue

from ..models import MetadataField

INDEXED_TYPES = ("number", "date")
PREFIX = "item_meta_"


def metadata_index_name(*, project_id: int, key: str) -> str:
    """Stable, short and safe: the key itself never appears in an identifier."""
    return f"{PREFIX}{int(project_id)}_{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _existing(cursor, project_id: int) -> dict[str, bool]:
    """Index name -> valid (an interrupted CONCURRENTLY build leaves an invalid index)."""
    cursor.execute(
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = 'annotation_item'::regclass AND c.relname LIKE %s",
        [f"{PREFIX}{int(project_id)}\\_%"],
    )
    return dict(cursor.fetchall())


def metadata_indexes_ensure(*, project_id: int) -> dict[str, list[str]]:
    """Create the indexes of the project's number/date keys that are missing, drop those of keys that
    are no longer number/date. Idempotent. Returns {"created": [...], "dropped": [...]} index names."""
    done: dict[str, list[str]] = {"created": [], "dropped": []}
    if connection.vendor != "postgresql":
        return done
    from psycopg import sql

    keys = MetadataField.objects.filter(project_id=project_id, type__in=INDEXED_TYPES).values_list(
        "name", flat=True
    )
    wanted = {metadata_index_name(project_id=project_id, key=key): key for key in keys}
    # Outside a transaction (a worker): CONCURRENTLY, so labeling and other imports keep writing.
    concurrently = "" if connection.in_atomic_block else "CONCURRENTLY "
    with connection.cursor() as cursor:
        existing = _existing(cursor, project_id)
        for name, valid in existing.items():
            if name not in wanted or not valid:
                cursor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")
                if name not in wanted:
                    done["dropped"].append(name)
        for name, key in sorted(wanted.items()):
            if existing.get(name):
                continue
            literal = sql.Literal(key).as_string(connection.connection)
            cursor.execute(
                # Identifiers are generated (prefix, ids, a hex digest); the key is a quoted literal.
                f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON annotation_item "
                f"((meta -> {literal}), id) WHERE project_id = {int(project_id)}"
            )
            done["created"].append(name)
    return done


def metadata_indexes_schedule(*, project_id: int) -> None:
    """Queue metadata_indexes_ensure (and the text search index, annotation.items.search_index) after
    the caller's commit (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return
    if not (settings.ANNOTATION_METADATA_INDEXES or settings.ANNOTATION_SEARCH_INDEX):
        return
    outbox_enqueue(task_name=task_names.ITEMS_METADATA_INDEXES_ENSURE, kwargs={"project_id": project_id})
