"""Search and filters at 1,000,000 items (100,000 with --quick) in PostgreSQL: the data manager's item
filter (annotation.items.manager_selectors.item_filter, first page of 50) for a rare-item text search
and sorted metadata ranges, after an import of the same JSONL as import_jsonl and the per-key metadata
range indexes built the way the worker builds them after an import (annotation.items.metadata_indexes).
p50/p99 of 21 runs each; the load average is in the notes (the machine is shared)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from bench.benchmarks.import_jsonl import _generate
from bench.support import is_postgres_url, manage, run_workload, throwaway_postgres_database

if TYPE_CHECKING:
    from bench.run import Context

NAME = "search_1m"
DESCRIPTION = "Item filter at 1M items in PostgreSQL: rare text search and sorted metadata ranges, p50/p99."


def run(ctx: Context) -> list[dict]:
    if not is_postgres_url(ctx.env.database_url):
        ctx.log("DATABASE_URL is not PostgreSQL: skipping the search benchmark")
        return []
    count = 100_000 if ctx.quick else 1_000_000
    path = ctx.tmp_dir / "items.jsonl"
    ctx.log(f"generating {count:,} JSONL lines")
    _generate(ctx, path, count)
    with throwaway_postgres_database(ctx.env.database_url, "tessera_bench_search") as database_url:
        env = ctx.subprocess_env(
            DJANGO_SETTINGS_MODULE="config.settings.local",
            DATABASE_URL=database_url,
            REDIS_URL=None,
            TESSERA_VAR_DIR=str(ctx.tmp_dir / "var"),
        )
        manage("migrate", "--noinput", "-v", "0", python=ctx.env.python, repo_root=ctx.repo_root, env=env)
        ctx.log("importing, indexing, querying")
        load = os.getloadavg()[0]
        data = run_workload("bench.workloads.search_run", str(path), repo_root=ctx.repo_root, env=env)
    load_note = f"1-min load average {load:.1f} before, {os.getloadavg()[0]:.1f} after"
    results = [
        {
            "name": f"import {count:,} items (setup)",
            "value": round(data["import_seconds"], 2),
            "unit": "s",
            "notes": f"{data['items']:,} created; {load_note}",
        },
        {
            "name": "metadata range indexes, built after the load",
            "value": round(data["index_seconds"], 2),
            "unit": "s",
            "notes": f"{len(data['indexes'])} index(es), CREATE INDEX CONCURRENTLY, off the import's path",
        },
        {
            "name": "text search index (pg_trgm GIN), built after the load",
            "value": round(data["search_index_seconds"], 2),
            "unit": "s",
            "notes": "annotation.items.search_index: one partial index per project, CREATE INDEX "
            f"CONCURRENTLY, off the import's path; {load_note}",
        },
    ]
    for name, q in data["unindexed"].items():
        results.append(
            {
                "name": f"{name}, before the search index (scan), p50",
                "value": q["p50"],
                "unit": "ms",
                "notes": f"max {q['max']} ms, 3 runs, {q['found']} rows on the first page",
            }
        )
    for name, q in data["queries"].items():
        target = "< 50" if name.startswith(("search", "metadata range")) else None
        results.append(
            {
                "name": f"{name}, p99",
                "value": q["p99"],
                "unit": "ms",
                "target": target,
                "notes": f"p50 {q['p50']} / max {q['max']} ms, {data['repeats']} runs, {q['found']} rows on "
                f"the first page; {load_note}",
            }
        )
    return results
