"""Quality recompute in PostgreSQL at the issue's scale (issue #6): 1,000,000 annotations on 200,000
items by 50 annotators (100,000 with --quick), seeded with INSERT ... SELECT. Times the function the
Celery worker runs (quality.services.quality_compute: read every answer through a server-side
cursor, code them, alpha/Fleiss/AC1/percent, per-label and per-pair agreement, Dawid-Skene, write
200,000 consensus rows and the report, in one transaction), then one new annotation submitted
through the labeling service until the incremental recompute has stored it (debounce included).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.support import is_postgres_url, run_workload_on_throwaway_postgres

if TYPE_CHECKING:
    from bench.run import Context

NAME = "quality_recompute"
DESCRIPTION = "Full quality recompute on 1M annotations in PostgreSQL, and one annotation reflected."
DATABASE = "tessera_bench_quality"


def run(ctx: Context) -> list[dict]:
    if not is_postgres_url(ctx.env.database_url):
        ctx.log("DATABASE_URL is not PostgreSQL: skipping the quality recompute benchmark")
        return []
    conf = {"items": 20_000 if ctx.quick else 200_000, "full_runs": 1 if ctx.quick else 2}
    ctx.log(f"seeding {conf['items'] * 5:,} annotations and recomputing")
    data = run_workload_on_throwaway_postgres(ctx, DATABASE, "bench.workloads.quality_run", conf)
    full_size = conf["items"] == 200_000
    size = f"{data['annotations']:,} annotations, {data['items']:,} items, 50 annotators"
    return [
        {
            "name": "seed annotations (INSERT ... SELECT)",
            "value": round(data["seed_seconds"], 1),
            "unit": "s",
            "notes": f"setup, not a target; {size}",
        },
        {
            "name": "full quality recompute (worker function, PostgreSQL)",
            "value": round(data["full_seconds"], 2),
            "unit": "s",
            "target": "< 10" if full_size else None,
            "notes": f"{size}; best of {len(data['full_all'])}: "
            + ", ".join(f"{t:.2f}" for t in data["full_all"])
            + f" s; read, code, agreement, Dawid-Skene, consensus rows, report; alpha {data['alpha']}",
        },
        {
            "name": "one new annotation reflected (submit to stored report)",
            "value": round(data["reflected_seconds"], 2),
            "unit": "s",
            "target": "< 2" if full_size else None,
            "notes": f"includes the {data['debounce_seconds']} s debounce; the incremental recompute itself "
            f"{data['incremental_ms']} ms; snapshot {data['snapshot_bytes'] / 1e6:.1f} MB",
        },
    ]
