"""Release build in PostgreSQL at the issue's scale (issue #7): 1,000,000 items with consensus (and one
annotation each, for lineage; 100,000 with --quick) seeded with INSERT ... SELECT, then a JSONL
release built through the real service (exports.services.release_create -> release_build, what the
Celery worker runs): records/s and the process's peak RSS growth during the build. Targets:
>= 50,000 records/s, growth < 150 MB (flat: independent of the number of items).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.support import is_postgres_url, run_workload_on_throwaway_postgres

if TYPE_CHECKING:
    from bench.run import Context

NAME = "release_build"
DESCRIPTION = "JSONL release of 1,000,000 items with consensus from PostgreSQL (records/s, RSS growth)."
DATABASE = "tessera_bench_release"


def run(ctx: Context) -> list[dict]:
    if not is_postgres_url(ctx.env.database_url):
        ctx.log("DATABASE_URL is not PostgreSQL: skipping the release build benchmark")
        return []
    conf = {"items": 100_000 if ctx.quick else 1_000_000, "annotations": True, "runs": 1 if ctx.quick else 2}
    ctx.log(f"seeding {conf['items']:,} items with consensus and building a JSONL release")
    data = run_workload_on_throwaway_postgres(
        ctx, DATABASE, "bench.workloads.release_run", conf, timeout=3600, AWS_STORAGE_BUCKET_NAME=None
    )
    full_size = conf["items"] == 1_000_000
    size = f"{data['items']:,} items, one consensus row and one annotation each"
    return [
        {
            "name": "seed items, consensus, annotations (INSERT ... SELECT)",
            "value": round(data["seed_seconds"], 1),
            "unit": "s",
            "notes": f"setup, not a target; {size}",
        },
        {
            "name": "JSONL release build (worker function, PostgreSQL)",
            "value": round(data["records_per_second"]),
            "unit": "records/s",
            "target": ">= 50000" if full_size else None,
            "notes": f"{size}; best of {len(data['builds'])}: "
            + ", ".join(f"{b['seconds']:.1f}" for b in data["builds"])
            + f" s; {data['release_bytes'] / 1e6:.0f} MB written (jsonl, croissant, datasheet, manifest)",
        },
        {
            "name": "release build peak RSS growth",
            "value": round(data["rss_growth_bytes"] / 1e6, 1),
            "unit": "MB",
            "target": "< 150" if full_size else None,
            "notes": "psutil RSS sampled every 50 ms during the build, minus the RSS before it",
        },
    ]
