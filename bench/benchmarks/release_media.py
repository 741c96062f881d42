"""A release that carries its media (issue #7): 20,000 items (2,000 with --quick) with a stored 50 kB
file each on local disk and consensus, built through the real service as JSONL with media: every
file streamed into ``media/<item>.png`` and hashed while written. Reports files/s, MB/s and the
process's peak RSS growth (flat: files are streamed in 1 MiB pieces, never held whole).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.support import is_postgres_url, run_workload_on_throwaway_postgres

if TYPE_CHECKING:
    from bench.run import Context

NAME = "release_media"
DESCRIPTION = (
    "Release with media: 20,000 stored 50 kB files copied and hashed into a release (files/s, MB/s)."
)
DATABASE = "tessera_bench_release_media"


def run(ctx: Context) -> list[dict]:
    if not is_postgres_url(ctx.env.database_url):
        ctx.log("DATABASE_URL is not PostgreSQL: skipping the release media benchmark")
        return []
    conf = {
        "items": 2_000 if ctx.quick else 20_000,
        "media_bytes": 50_000,
        "annotations": False,
        "runs": 1 if ctx.quick else 2,
    }
    ctx.log(
        f"seeding {conf['items']:,} items with a {conf['media_bytes']:,}-byte file each; building with media"
    )
    data = run_workload_on_throwaway_postgres(
        ctx, DATABASE, "bench.workloads.release_run", conf, timeout=1800, AWS_STORAGE_BUCKET_NAME=None
    )
    seconds = data["build_seconds"]
    return [
        {
            "name": "release build with media (local disk)",
            "value": round(data["items"] / seconds),
            "unit": "files/s",
            "notes": f"{data['items']:,} items with a 50 kB file each, JSONL + media; "
            f"{data['media_bytes'] / 1e6 / seconds:.0f} MB/s copied and hashed; "
            f"best of {len(data['builds'])}: "
            + ", ".join(f"{b['seconds']:.1f}" for b in data["builds"])
            + " s",
        },
        {
            "name": "release build with media: peak RSS growth",
            "value": round(data["rss_growth_bytes"] / 1e6, 1),
            "unit": "MB",
            "target": "< 150",
            "notes": "psutil RSS sampled every 50 ms during the build, minus the RSS before it",
        },
    ]
