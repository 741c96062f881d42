"""Data import: N JSONL text items (about 200 characters plus metadata, 1 % exact duplicates)
imported end to end (store, parse, validate, hash, dedup, COPY, insert, index) into PostgreSQL
in a worker-like process; PostgreSQL's raw COPY of the same lines is the floor to compare with.

Memory is the peak resident-set growth of that process during the import: it must stay flat
(independent of N). Targets from issue #17: 1,000,000 items in under 30 s, within 6x of raw
COPY (to the job finished; the post-import jobs the eager outbox runs after it are reported apart).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from bench.support import is_postgres_url, manage, run_workload, throwaway_postgres_database

if TYPE_CHECKING:
    from bench.run import Context

NAME = "import_jsonl"
DESCRIPTION = "JSONL import end to end into PostgreSQL (dedup, COPY), against raw COPY of the same rows."
WORDS = [
    "battery",
    "camera",
    "screen",
    "delivery",
    "price",
    "quality",
    "support",
    "refund",
    "update",
    "fast",
    "slow",
    "broken",
    "great",
    "poor",
    "charger",
    "sound",
    "design",
    "weight",
    "warranty",
    "excellent",
    "terrible",
    "average",
]
LANGUAGES = ["en", "fr", "de", "es", "pt"]


def _generate(ctx: Context, path, count: int) -> None:
    rng = ctx.rng
    with path.open("w", encoding="utf-8") as out:
        previous = []
        for i in range(count):
            if previous and rng.random() < 0.01:
                text = rng.choice(previous)  # an exact duplicate
            else:
                words = [rng.choice(WORDS) for _ in range(30)]
                text = f"Review {i}: " + " ".join(words)
                text = text[:200]
                if len(previous) < 1000:
                    previous.append(text)
            meta = {
                "language": rng.choice(LANGUAGES),
                "stars": rng.randint(1, 5),
                "verified": rng.random() < 0.7,
            }
            out.write(json.dumps({"text": text, "meta": meta}) + "\n")


def run(ctx: Context) -> list[dict]:
    if not is_postgres_url(ctx.env.database_url):
        ctx.log("DATABASE_URL is not PostgreSQL: skipping the import benchmark")
        return []
    count = 100_000 if ctx.quick else 1_000_000
    path = ctx.tmp_dir / "items.jsonl"
    ctx.log(f"generating {count:,} JSONL lines")
    _generate(ctx, path, count)
    with throwaway_postgres_database(ctx.env.database_url, "tessera_bench_import") as database_url:
        env = ctx.subprocess_env(
            DJANGO_SETTINGS_MODULE="config.settings.local",
            DATABASE_URL=database_url,
            REDIS_URL=None,
            TESSERA_VAR_DIR=str(ctx.tmp_dir / "var"),
        )
        manage("migrate", "--noinput", "-v", "0", python=sys.executable, repo_root=ctx.repo_root, env=env)
        ctx.log("importing")
        data = run_workload("bench.workloads.import_run", str(path), repo_root=ctx.repo_root, env=env)
    if data["status"] != "succeeded":
        raise RuntimeError(f"import did not succeed: {data['detail']}")
    seconds = data.get("import_seconds") or data["seconds"]  # to the job finished
    rate = data["created"] / seconds if seconds else 0
    received_rate = data["received"] / seconds if seconds else 0
    load = data.get("loadavg")
    ratio = seconds / data["raw_copy_seconds"] if data["raw_copy_seconds"] else None
    growth = data["rss_peak_mb"] - data["rss_baseline_mb"]
    notes = f"{data['received']:,} lines, {data['bytes'] / 1e6:.0f} MB; {data['created']:,} created, "
    notes += f"{data['duplicates']:,} duplicates skipped"
    extra = [
        {
            "name": f"item list at {count:,}: {name}",
            "value": ms,
            "unit": "ms",
            "target": "< 300",
            "notes": "median of 7, first page of 50 through annotation.items.selectors.items.item_list",
        }
        for name, ms in data["queries_ms"].items()
    ]
    if data["split_seconds"] is not None:
        extra.append(
            {
                "name": f"split {count:,} items 80/10/10",
                "value": round(data["split_seconds"], 2),
                "unit": "s",
                "notes": "first split: every item's row is rewritten",
            }
        )
    return [
        {
            "name": f"{count:,} items: import end to end",
            "value": round(seconds, 2),
            "unit": "s",
            "target": "< 30" if count == 1_000_000 else None,
            "notes": notes
            + f"; to the job finished; CPU to then: Python {data.get('import_python_cpu_seconds')} s, "
            f"PostgreSQL backend {data.get('import_server_cpu_seconds')} s; load {load}",
        },
        {
            "name": "with the post-import jobs run eagerly (queue order, personal-data scan)",
            "value": round(data["seconds"], 2),
            "unit": "s",
            "notes": "a worker runs these after the import's commit, off its path; CPU in all: Python "
            f"{data.get('python_cpu_seconds')} s, PostgreSQL backend {data.get('server_cpu_seconds')} s",
        },
        {
            "name": "import throughput",
            "value": round(received_rate),
            "unit": "items/s",
            "notes": f"{rate:,.0f} created/s; Label Studio 1.23: 5,779/s, doccano 1.8: 2,856/s (100k items)",
        },
        {
            "name": "raw COPY of the same lines (floor)",
            "value": round(data["raw_copy_seconds"], 2),
            "unit": "s",
            "notes": "COPY into an unlogged jsonb table, no hashing, dedup or indexes",
        },
        {
            "name": "import / raw COPY",
            "value": round(ratio, 2) if ratio else None,
            "unit": "x",
            "target": "<= 6",
        },
        {
            "name": "of which SQL after the COPY (dedup, insert, ANALYZE)",
            "value": round(sum(data.get("sql_seconds", {}).values()), 2),
            "unit": "s",
            "notes": "; ".join(
                f"{sql.split(' ')[0]} {sql.split(' ')[1] if ' ' in sql else ''}... {seconds} s"
                for sql, seconds in list(data.get("sql_seconds", {}).items())[:4]
            )
            + "; the rest is parsing, hashing and COPY (overlapping: Python and PostgreSQL)",
        },
        {
            "name": "peak memory growth during import",
            "value": round(growth, 1),
            "unit": "MB",
            "target": "< 150",
            "notes": f"baseline {data['rss_baseline_mb']:.0f} MB, peak {data['rss_peak_mb']:.0f} MB",
        },
        *extra,
    ]
