"""Bulk loading of parsed records into annotation_item, inside the caller's transaction.

Rows stream into a temporary staging table (COPY on PostgreSQL; batched executemany on SQLite
and for media imports, which query while they stage); then set-based SQL finds duplicate external
ids, keeps the first record of each content hash, and inserts everything at once; items that exist
already (same content or same external id) are skipped (PostgreSQL: deleted from staging by
anti-joins under a per-project advisory lock, then a plain INSERT; SQLite: ON CONFLICT DO NOTHING).
Memory stays flat: nothing is kept per row in Python.

SQLite has one write lock for the whole database. Staging there goes into a TEMP table (private to
the connection) outside any write transaction, so other users keep writing while a large file is
parsed; only the final insert takes the lock (`loading_transaction()` and the caller's inner atomic).
"""

import contextlib
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction

STAGING_COLUMNS = (
    "line", "external_id", "data", "meta", "content_hash", "checksum", "search_text",
    "licence", "consent", "synthetic", "generator", "predictions", "source_ref",
    "media", "media_url", "media_type", "media_bytes", "image_hash",
)  # fmt: skip
NO_MEDIA = ("", "", "", None, None)  # the media columns of an item without media

_PG_CREATE = """
CREATE TEMP TABLE import_staging (
    line bigint NOT NULL, external_id text, data jsonb NOT NULL, meta jsonb NOT NULL,
    content_hash text NOT NULL, checksum text NOT NULL, search_text text NOT NULL,
    licence text NOT NULL, consent text NOT NULL, synthetic boolean NOT NULL, generator text NOT NULL,
    predictions jsonb NOT NULL, source_ref text NOT NULL,
    media text NOT NULL, media_url text NOT NULL, media_type text NOT NULL,
    media_bytes bigint, image_hash bigint
) ON COMMIT DROP
"""
# The JSON columns are jsonb in staging: PostgreSQL parses them while COPY streams in, in its own
# process, in parallel with the Python parsing the file (on 2 cores); the INSERT then copies the parsed
# values (it used to parse 1M documents itself: ~4 s of CPU of its ~20 s, measured at 1M items).
_SQLITE_CREATE = """
CREATE TEMP TABLE import_staging (
    line integer NOT NULL, external_id text, data text NOT NULL, meta text NOT NULL,
    content_hash text NOT NULL, checksum text NOT NULL, search_text text NOT NULL,
    licence text NOT NULL, consent text NOT NULL, synthetic integer NOT NULL, generator text NOT NULL,
    predictions text NOT NULL, source_ref text NOT NULL,
    media text NOT NULL, media_url text NOT NULL, media_type text NOT NULL,
    media_bytes integer, image_hash integer
)
"""
_DUPLICATE_EXTERNAL_IDS = """
SELECT external_id, line FROM import_staging
WHERE external_id IN (
    SELECT external_id FROM import_staging
    WHERE external_id IS NOT NULL GROUP BY external_id HAVING count(*) > 1
)
ORDER BY external_id, line
"""
_PG_INSERT_COLUMNS = """
INSERT INTO annotation_item (
    project_id, external_id, data, meta, content_hash, checksum, source, source_ref, import_job_id,
    licence, consent, synthetic, generator, split, search_text, predictions, created_at,
    media, media_url, media_type, media_bytes, image_hash, target, provenance_source_id
)
SELECT %s, s.external_id, s.data, s.meta, s.content_hash, s.checksum, %s,
       s.source_ref, %s,
       s.licence, s.consent, s.synthetic, s.generator, '', s.search_text, s.predictions, now(),
       s.media, s.media_url, s.media_type, s.media_bytes, s.image_hash, %s, %s
FROM import_staging s
"""
# The fast path: a plain INSERT after the staging rows whose content or external id the project has
# already were deleted (anti-joins through the unique indexes), under a per-project advisory lock so
# two loads into one project take turns. ON CONFLICT DO NOTHING costs a speculative insertion per row
# (an extra index probe and an extra WAL record: ~10 % of the insert's CPU at 1M items, measured); it
# stays as the fallback when a writer that does not take the lock (an API item create) got in between.
_PG_INSERT = _PG_INSERT_COLUMNS
_PG_INSERT_ON_CONFLICT = _PG_INSERT_COLUMNS + "ON CONFLICT DO NOTHING\n"
_PG_PROJECT_HAS_ITEMS = "SELECT EXISTS (SELECT 1 FROM annotation_item WHERE project_id = %s)"
_PG_DROP_EXISTING_CONTENT = """
DELETE FROM import_staging s
WHERE EXISTS (
    SELECT 1 FROM annotation_item i WHERE i.project_id = %s AND i.content_hash = s.content_hash
)
"""
_PG_DROP_EXISTING_EXTERNAL_IDS = """
DELETE FROM import_staging s
WHERE s.external_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM annotation_item i WHERE i.project_id = %s AND i.external_id = s.external_id
)
"""
LOCK_NAMESPACE = 0x494D50  # pg_advisory_xact_lock(namespace, project id): one load per project at a time
# PostgreSQL, before _PG_INSERT: later records of a content hash already in the file go. Then the
# insert is a plain sequential scan of the staging table, which returns
# rows in the order COPY wrote them (file order, so ids follow lines): a temporary table is never
# scanned in parallel or synchronised, and nothing else reads or reorders it. The former join of the
# full rows to the grouped lines plus ORDER BY line hashed and sorted every column of every row
# (730 MB at 1M items: a sort spilled to disk).
_PG_DROP_REPEATED_CONTENT = """
DELETE FROM import_staging s
USING (
    SELECT content_hash, min(line) AS first_line FROM import_staging
    GROUP BY content_hash HAVING count(*) > 1
) repeated
WHERE s.content_hash = repeated.content_hash AND s.line > repeated.first_line
"""
# Only the repeated hashes (1 % of a typical file) are joined back, through a small hash table; the
# former `line NOT IN (SELECT min(line) ... GROUP BY content_hash)` probed a hashed subplan of every
# hash for every row: 3.0-3.3 s of server CPU at 1M items against 1.9-2.1 s (interleaved, load 6.5),
# and a NOT IN subplan the planner thinks too big for memory is run once per row, not hashed.
# SQLite (no DELETE ... USING): the same, before its write transaction (drop_repeated_content).
_DROP_REPEATED_CONTENT = """
DELETE FROM import_staging
WHERE line NOT IN (SELECT min(line) FROM import_staging GROUP BY content_hash)
"""
_SQLITE_INSERT = """
INSERT INTO annotation_item (
    project_id, external_id, data, meta, content_hash, checksum, source, source_ref, import_job_id,
    licence, consent, synthetic, generator, split, search_text, predictions, created_at,
    media, media_url, media_type, media_bytes, image_hash, target, provenance_source_id
)
SELECT %s, s.external_id, s.data, s.meta, s.content_hash, s.checksum, %s, s.source_ref, %s,
       s.licence, s.consent, s.synthetic, s.generator, '', s.search_text, s.predictions, %s,
       s.media, s.media_url, s.media_type, s.media_bytes, s.image_hash, %s, %s
FROM import_staging s
WHERE true
ORDER BY s.rowid
ON CONFLICT DO NOTHING
"""
# SQLite: the insert is the only statement that holds the database's write lock (every other user's
# write waits for it), so it does nothing else: later records of a content hash left staging before
# (_DROP_REPEATED_CONTENT, no lock: TEMP table), and rows are read in rowid order, which is the order
# add() wrote them (file order, so ids follow lines) and the order a table scan returns, with no sort
# (ORDER BY line sorted every column of every row in a temporary b-tree, inside the lock).
# `WHERE true` keeps SQLite's parser from reading ON CONFLICT as a join constraint.
# The page cache of the main database is raised for the load (SQLITE_CACHE_KIB): the insert updates
# the content-hash index at random places, and with the default 2 MB cache those pages are read back
# again and again (about half the insert's CPU time at 100,000 items).
SQLITE_CACHE_KIB = 65536


def loading_transaction():
    """The transaction a load runs in. PostgreSQL: one transaction for staging and insert (COPY into a
    temporary table dropped on commit). SQLite: none while staging (autocommit writes to the TEMP
    table take no lock on the database); the caller wraps insert() in its own short atomic block."""
    if connection.vendor == "postgresql":
        return transaction.atomic()
    return contextlib.nullcontext()


@dataclass(frozen=True)
class LoadResult:
    staged: int  # valid records that reached the staging table
    created: int  # new items
    duplicate_external_ids: list[tuple[str, int, int]]  # (external_id, line, first line), later occurrences


class ItemLoader:
    """Use as a context manager inside loading_transaction(): add() rows, then insert() inside
    transaction.atomic()."""

    SQLITE_BATCH = 5000

    def __init__(
        self,
        *,
        project_id: int,
        import_job_id: int | None,
        copy: bool = True,
        source: str = "upload",
        provenance_source_id: int | None = None,
    ):
        """copy=False stages with batched INSERTs instead of COPY, so the caller may run other queries
        on the connection while rows stream in (media imports look up existing files). `source` is
        Item.source of every item (bucket syncs: "bucket", with no import job). `provenance_source_id`
        is every new item's provenance source (#18): one constant of the INSERT, nothing per row."""
        self.project_id = project_id
        self.provenance_source_id = provenance_source_id
        self.import_job_id = import_job_id
        self.source = source
        self.staged = 0
        self._postgres = connection.vendor == "postgresql"
        self._use_copy = copy
        self._cursor = None
        self._copy = None
        self._copy_context = None
        self._batch: list[tuple] = []
        self._deduplicated = False
        self._cache_size: int | None = None  # SQLite: the connection's page cache before the load

    def __enter__(self) -> "ItemLoader":
        if self._postgres and not connection.in_atomic_block:
            raise RuntimeError("ItemLoader must run inside transaction.atomic() on PostgreSQL")
        self._cursor = connection.cursor()
        if self._postgres:
            # A savepoint-scoped caller (tests, nested atomics) may still hold one from an earlier load.
            self._cursor.execute("DROP TABLE IF EXISTS pg_temp.import_staging")
            self._cursor.execute(_PG_CREATE)
            if not self._use_copy:
                return self
            columns = ", ".join(STAGING_COLUMNS)
            # Rows are sent from a thread (QueuedLibpqWriter): parsing goes on while PostgreSQL, busy
            # parsing the jsonb of earlier rows, is not reading (the synchronous writer blocked there:
            # ~20 % of the parse loop's time, measured at 100k items).
            from psycopg.copy import QueuedLibpqWriter

            raw = self._cursor.cursor
            self._copy_context = raw.copy(
                f"COPY import_staging ({columns}) FROM STDIN", writer=QueuedLibpqWriter(raw)
            )
            self._copy = self._copy_context.__enter__()
        else:
            self._cursor.execute("PRAGMA main.cache_size")
            self._cache_size = self._cursor.fetchone()[0]
            self._cursor.execute(f"PRAGMA main.cache_size = -{int(SQLITE_CACHE_KIB)}")
            self._cursor.execute("DROP TABLE IF EXISTS temp.import_staging")
            self._cursor.execute(_SQLITE_CREATE)
        return self

    def add(self, row: tuple) -> None:
        """One row in STAGING_COLUMNS order (JSON columns as canonical JSON text)."""
        self.staged += 1
        if self._copy is not None:
            self._copy.write_row(row)
        else:
            self._batch.append(row)
            if len(self._batch) >= self.SQLITE_BATCH:
                self._flush()

    def _flush(self) -> None:
        if self._batch:
            placeholders = ", ".join(["%s"] * len(STAGING_COLUMNS))
            self._cursor.executemany(
                # Column names are constants of this module; values are parameters.
                f"INSERT INTO import_staging ({', '.join(STAGING_COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
                self._batch,
            )
            self._batch = []

    def _end_copy(self) -> None:
        if self._copy_context is not None:
            self._copy_context.__exit__(None, None, None)
            self._copy_context = self._copy = None

    def duplicate_external_ids(self) -> list[tuple[str, int, int]]:
        """Records that reuse an external id seen earlier in the same file: (id, line, first line)."""
        self._end_copy()
        self._flush()
        self._cursor.execute(_DUPLICATE_EXTERNAL_IDS)
        duplicates, first_line = [], {}
        for external_id, line in self._cursor.fetchall():
            if external_id in first_line:
                duplicates.append((external_id, line, first_line[external_id]))
            else:
                first_line[external_id] = line
        return duplicates

    def staged_content_hashes(self) -> list[tuple[int, str]]:
        """(line, content hash) of every staged record (for annotation.imports.blocking)."""
        self._end_copy()
        self._flush()
        self._cursor.execute("SELECT line, content_hash FROM import_staging ORDER BY line")
        return list(self._cursor.fetchall())

    def drop_lines(self, lines: list[int]) -> None:
        """Remove rejected records from staging (valid-rows mode)."""
        if self._deduplicated:  # a dropped first record would take its later duplicates with it
            raise RuntimeError("drop_lines() must come before drop_repeated_content()")
        for start in range(0, len(lines), 1000):
            chunk = lines[start : start + 1000]
            self._cursor.execute(
                f"DELETE FROM import_staging WHERE line IN ({', '.join(['%s'] * len(chunk))})",  # noqa: S608
                chunk,
            )
            self.staged -= self._cursor.rowcount

    def drop_repeated_content(self) -> None:
        """SQLite: keep only the first staged record of each content hash, before the caller opens the
        write transaction of insert() (a TEMP table: no lock on the database, so other users keep
        writing meanwhile). Once per load; `staged` still counts the dropped records (duplicates)."""
        if self._postgres or self._deduplicated:
            return
        self._end_copy()
        self._flush()
        self._cursor.execute(_DROP_REPEATED_CONTENT)
        self._deduplicated = True

    def _target(self) -> int:
        """Annotations each new item wants: the project's overlap (labeling workflow)."""
        from projects.models import Project

        return Project.objects.values_list("overlap", flat=True).get(pk=self.project_id)

    def insert(self) -> int:
        """Insert the first record of each content hash that is not in the project yet."""
        self._end_copy()
        self._flush()
        if not connection.in_atomic_block:
            raise RuntimeError("ItemLoader.insert() must run inside transaction.atomic()")
        if self._postgres:
            return self._insert_postgres()
        else:
            from django.utils import timezone

            self.drop_repeated_content()  # normally done already, before the write transaction
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            self._cursor.execute(
                _SQLITE_INSERT,
                [
                    self.project_id,
                    self.source,
                    self.import_job_id,
                    now,
                    self._target(),
                    self.provenance_source_id,
                ],
            )
        return self._cursor.rowcount

    def _insert_postgres(self) -> int:
        cursor = self._cursor
        # Room to sort and hash the staging rows in memory for this transaction only. Its commit does
        # not wait for the WAL flush: the job's row is committed right after (import_job_run's
        # _finish) with a synchronous commit, which flushes this transaction's WAL with its own.
        cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.ANNOTATION_IMPORT_WORK_MEM])
        cursor.execute("SET LOCAL synchronous_commit = off")
        # Statistics of the three columns the dedup statements plan with; the wide JSON ones would cost
        # most of the ANALYZE (~1 s at 1M items) and no statement here reads their statistics.
        cursor.execute("ANALYZE import_staging (line, external_id, content_hash)")
        cursor.execute(_PG_DROP_REPEATED_CONTENT)
        # One load into a project at a time from here to the commit, so what the anti-joins did not
        # find cannot appear before the INSERT (other projects' loads do not wait).
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, self.project_id])
        cursor.execute(_PG_PROJECT_HAS_ITEMS, [self.project_id])
        if cursor.fetchone()[0]:  # a first load into an empty project has nothing to compare with
            cursor.execute(_PG_DROP_EXISTING_CONTENT, [self.project_id])
            cursor.execute(_PG_DROP_EXISTING_EXTERNAL_IDS, [self.project_id])
        params = [self.project_id, self.source, self.import_job_id, self._target(), self.provenance_source_id]
        try:
            with transaction.atomic():  # a savepoint: a unique violation rolls back this INSERT only
                cursor.execute(_PG_INSERT, params)
        except IntegrityError:
            # A writer outside the lock (one item created through the API) added the same content or
            # external id meanwhile: the slower statement that skips conflicts row by row.
            cursor.execute(_PG_INSERT_ON_CONFLICT, params)
        created = cursor.rowcount
        if created >= settings.ANNOTATION_IMPORT_ANALYZE_ROWS:
            # Fresh statistics, or the planner guesses a big project has a hundred rows and
            # sorts all of them to show the first page of a filtered list.
            cursor.execute("ANALYZE annotation_item")
        return created

    def __exit__(self, *exc_info) -> None:
        try:
            if self._copy_context is not None:
                self._copy_context.__exit__(*exc_info)
        finally:
            if self._cursor is not None and exc_info[0] is None:
                table = "pg_temp.import_staging" if self._postgres else "temp.import_staging"
                self._cursor.execute(f"DROP TABLE IF EXISTS {table}")
            if self._cursor is not None:
                if self._cache_size is not None:  # the connection goes on serving other work: give it back
                    with contextlib.suppress(DatabaseError):  # never hide the error that ended the load
                        self._cursor.execute(f"PRAGMA main.cache_size = {int(self._cache_size)}")
                self._cursor.close()
