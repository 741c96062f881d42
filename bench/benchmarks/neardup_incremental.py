"""Near-duplicate detection scales with the change, not the project (issue #17): a project of
100,000 generated texts (20,000 with --quick), then 100 imports of 1,000 texts (20 with --quick),
each followed by near_duplicates_detect, in a throwaway PostgreSQL database
(bench/workloads/neardup_incremental.py). Reported: the first full build of the index, the
per-import detection time and items processed (first and last tenth of the imports: a flat curve
means the work follows the import's size), and the maintenance rescan over everything; load
average before and after in the notes.
"""

from __future__ import annotations

from statistics import median
from typing import TYPE_CHECKING

from bench.support import is_postgres_url, run_workload_on_throwaway_postgres

if TYPE_CHECKING:
    from bench.run import Context

NAME = "neardup_incremental"
DESCRIPTION = "Near-duplicate detection after each of 100 imports of 1,000 into a 100k project."
DATABASE = "tessera_bench_neardup_incremental"


def run(ctx: Context) -> list[dict]:
    if not is_postgres_url(ctx.env.database_url):
        ctx.log("DATABASE_URL is not PostgreSQL: skipping the incremental near-duplicate benchmark")
        return []
    conf = {"base": 20_000, "imports": 20, "size": 1_000} if ctx.quick else {
        "base": 100_000, "imports": 100, "size": 1_000
    }  # fmt: skip
    ctx.log(f"seeding {conf['base']:,} texts, then {conf['imports']} imports of {conf['size']:,}")
    data = run_workload_on_throwaway_postgres(ctx, DATABASE, "bench.workloads.neardup_incremental", conf)
    return summarise(data)


def summarise(data: dict) -> list[dict]:
    curve = data["curve"]
    tenth = max(1, len(curve) // 10)
    head, tail = curve[:tenth], curve[-tenth:]
    mean = lambda rows, key: sum(row[key] for row in rows) / len(rows)  # noqa: E731
    first_ms, last_ms = 1000 * mean(head, "seconds"), 1000 * mean(tail, "seconds")
    processed = sorted({row["indexed"] for row in curve})
    load = f"load average {data['load_before'][0]:.2f} before, {data['load_after'][0]:.2f} after"
    size = f"{data['imports']} imports of {data['size']:,} into {data['base']:,}"
    return [
        {
            "name": f"first detection, full index build ({data['base']:,} items)",
            "value": round(data["build_seconds"], 2),
            "unit": "s",
            "notes": "once per project (a project detected before the index existed: its first run), "
            f"in memory with COPY; CPU of the detecting process {data.get('build_cpu_seconds', 0):.1f} s, "
            f"peak memory +{max(0.0, data.get('build_peak_mb', 0)):.0f} MB; {load}",
        },
        {
            "name": "detection per import, median",
            "value": round(1000 * median(row["seconds"] for row in curve), 1),
            "unit": "ms",
            "notes": f"{size}; items processed per run: {processed}; "
            f"max {1000 * max(row['seconds'] for row in curve):.0f} ms; {load}",
        },
        {
            "name": "detection per import: last tenth / first tenth",
            "value": round(last_ms / first_ms, 2),
            "unit": "x",
            "target": "< 1.5",
            "notes": f"first {tenth} imports {first_ms:.0f} ms (project {head[0]['items_before']:,} items), "
            f"last {tenth} {last_ms:.0f} ms (project {tail[-1]['items_before']:,}); CPU "
            f"{1000 * mean(head, 'cpu_seconds'):.0f} -> {1000 * mean(tail, 'cpu_seconds'):.0f} ms",
        },
        {
            "name": f"full rescan (maintenance, in memory), {data['items']:,} items",
            "value": round(data["rescan_seconds"], 2),
            "unit": "s",
            "notes": f"what each import cost before the index; {data['flagged']:,} items in groups, "
            f"{data['buckets']:,} bucket rows",
        },
        {
            "name": "per-import curve (ms)",
            "value": len(curve),
            "unit": "runs",
            "notes": " ".join(f"{1000 * row['seconds']:.0f}" for row in curve),
        },
    ]
