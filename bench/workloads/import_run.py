"""Run one import end to end in this process (as a worker would) and print measurements as JSON.

    python -m bench.workloads.import_run FILE   (DATABASE_URL points at a migrated database)

Also times PostgreSQL's raw COPY of the same lines into a bare jsonb table: the floor to compare with.
"""

import json
import os
import sys
import threading
import time

import django
import psutil


class PeakRss:
    """Samples this process's resident memory every 20 ms."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.baseline = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _query_latencies(project) -> dict[str, float]:
    """Median milliseconds of item-list queries a page or API client makes (first page of 50)."""
    import statistics

    from annotation.items.selectors.items import item_list

    last_id = project.items.order_by("-id").values_list("id", flat=True).first()
    cases = {
        "first page": {},
        "deep keyset page": {"__after": last_id - 1000},
        "search, common word": {"q": "battery"},
        "search, one item": {"q": "review 987654:"},
        "metadata equals": {"meta.language": "fr"},
        "metadata range, sorted": {"meta.stars__gte": "5", "ordering": "-meta.stars"},
    }
    result = {}
    for name, params in cases.items():
        after = params.pop("__after", None)
        timings = []
        for _ in range(7):
            started = time.perf_counter()
            items = item_list(project=project, params=params)
            if after is not None:
                items = items.filter(id__gt=after)
            list(items[:50])
            timings.append((time.perf_counter() - started) * 1000)
        result[name] = round(statistics.median(timings), 1)
    return result


def main(path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ["CORE_TASKS_IN_THREAD"] = "0"
    # Detection runs as its own job after an import; the near_duplicates benchmark measures it.
    os.environ["ANNOTATION_NEAR_DUPLICATES_AFTER_IMPORT"] = "0"
    # Likewise the metadata range indexes (a worker builds them after the import; search_1m times it).
    # Eager here, they would run inside the timed import; the list queries below run without them.
    os.environ["ANNOTATION_METADATA_INDEXES"] = "0"
    os.environ["ANNOTATION_SEARCH_INDEX"] = "0"  # the text search index too (search_1m times it)
    # And the personal-data scan: its own job after the import (BENCH_IMPORT_PII_SCAN=1 times it below).
    os.environ["ANNOTATION_PII_AFTER_IMPORT"] = "0"
    django.setup()
    from config.celery import app
    from core.services import autodiscover_tasks_once

    autodiscover_tasks_once(app)  # a worker imports its task modules at start, not inside a job
    from django.core.files.uploadedfile import TemporaryUploadedFile
    from django.db import connection
    from django.utils import timezone

    from accounts.services import user_create
    from annotation.imports.services.jobs import import_job_create, import_job_run
    from annotation.models import ImportJob
    from projects.services import organisation_create, project_create

    user = user_create(username="bench", password="bench-password-123")
    organisation = organisation_create(name="Bench", slug="bench", creator=user)
    project = project_create(organisation=organisation, actor=user, name="Import bench")
    size = os.path.getsize(path)
    # BENCH_IMPORT_PROVENANCE=1: every item attributed to a provenance source (#18), to compare.
    provenance_source_id = None
    if os.environ.get("BENCH_IMPORT_PROVENANCE") == "1":
        from annotation.provenance.services import provenance_source_create

        provenance_source_id = provenance_source_create(
            project=project, actor=user, name="bench", kind="internal", terms={"owner": "bench"}
        ).id

    upload = TemporaryUploadedFile("bench.jsonl", "application/x-ndjson", size, "utf-8")
    with open(path, "rb") as source:
        while chunk := source.read(1 << 20):
            upload.write(chunk)
    upload.seek(0)

    sql_seconds: dict[str, float] = {}

    def timed(execute, sql, params, many, context):
        """SQL statements of the import by their first words (COPY and parsing are the rest)."""
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(sql.split())[:60]
            sql_seconds[key] = sql_seconds.get(key, 0.0) + time.perf_counter() - started

    backend = None  # the server process of this connection (PostgreSQL on this host): its CPU apart
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = psutil.Process(cursor.fetchone()[0])
    try:
        backend_cpu = sum(backend.cpu_times()[:2]) if backend is not None else 0.0
    except psutil.Error:  # another user's process, or another host: no server CPU split
        backend = None
    from annotation.imports.services import jobs

    at_finish: dict[str, float] = {}
    finish = jobs._finish

    def timed_finish(*args, **kwargs):
        """CPU at the end of the load (before the job row and the eager post-import jobs)."""
        at_finish["python"] = time.process_time()
        if backend is not None:
            at_finish["server"] = sum(backend.cpu_times()[:2])
        return finish(*args, **kwargs)

    jobs._finish = timed_finish
    with PeakRss() as memory, connection.execute_wrapper(timed):
        started = time.perf_counter()
        started_at = timezone.now()
        cpu_started = time.process_time()
        # Outbox dispatch is eager and synchronous here, so create+run finish before this returns;
        # run explicitly in case the job was left queued.
        job = import_job_create(
            project=project, actor=user, upload=upload, provenance_source_id=provenance_source_id
        )
        job = import_job_run(job_id=job.id) or ImportJob.objects.get(pk=job.id)
        elapsed = time.perf_counter() - started
        # Until the job was finished (items committed, job row written); the rest of `elapsed` is the
        # post-import jobs the outbox runs eagerly here (queue order, personal-data scan), which a worker
        # runs after the commit, off the import's path.
        import_seconds = (job.finished_at - started_at).total_seconds()
        python_cpu = time.process_time() - cpu_started
        server_cpu = sum(backend.cpu_times()[:2]) - backend_cpu if backend is not None else None

    raw_seconds = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("CREATE UNLOGGED TABLE IF NOT EXISTS bench_raw_copy (doc jsonb NOT NULL)")
            cursor.execute("TRUNCATE bench_raw_copy")
            started = time.perf_counter()
            # CSV with control characters as quote/delimiter: each line arrives byte for byte.
            with (
                cursor.cursor.copy(
                    "COPY bench_raw_copy (doc) FROM STDIN "
                    "WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
                ) as copy,
                open(path, "rb") as source,
            ):
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            raw_seconds = time.perf_counter() - started
            cursor.execute("DROP TABLE bench_raw_copy")

    pii_seconds = None
    if os.environ.get("BENCH_IMPORT_PII_SCAN") == "1" and job.status == "succeeded":
        from annotation.pii.services import pii_detect

        started = time.perf_counter()
        pii_detect(project_id=project.id)
        pii_seconds = time.perf_counter() - started

    queries = _query_latencies(project) if job.status == "succeeded" else {}
    split_seconds = None
    if job.status == "succeeded":
        from annotation.splits.services import split_assign

        started = time.perf_counter()
        split_assign(
            project=project, actor=user, ratios={"train": 0.8, "validation": 0.1, "test": 0.1}, seed=7
        )
        split_seconds = time.perf_counter() - started

    print(
        json.dumps(
            {
                "queries_ms": queries,
                "split_seconds": split_seconds,
                "pii_seconds": pii_seconds,
                "status": job.status,
                "detail": job.detail,
                "received": job.received,
                "created": job.created,
                "duplicates": job.duplicates,
                "rejected": job.rejected,
                "seconds": elapsed,
                "python_cpu_seconds": round(python_cpu, 2),
                "server_cpu_seconds": round(server_cpu, 2) if server_cpu is not None else None,
                "import_seconds": import_seconds,
                "import_python_cpu_seconds": round(at_finish["python"] - cpu_started, 2)
                if at_finish
                else None,
                "import_server_cpu_seconds": round(at_finish["server"] - backend_cpu, 2)
                if "server" in at_finish
                else None,
                "loadavg": [round(x, 2) for x in os.getloadavg()],
                "sql_seconds": {
                    k: round(v, 2) for k, v in sorted(sql_seconds.items(), key=lambda kv: -kv[1])[:8]
                },
                "bytes": size,
                "rss_baseline_mb": memory.baseline / 1e6,
                "rss_peak_mb": memory.peak / 1e6,
                "raw_copy_seconds": raw_seconds,
                "vendor": connection.vendor,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
