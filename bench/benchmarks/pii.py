"""Personal-data detectors (annotation/pii/detectors.py), in a child process of its own
(bench/workloads/pii_run.py):

- precision and recall per type on generated sentences: for each of the 14 built-in types, N planted
  values with valid checksums (made with python-stdnum's own check-digit functions) and N near misses
  (the same format with a check digit off, an IP octet over 255, an SSN area 9xx, an email without @),
  plus 5N sentences with dates, times, prices, order numbers and versions but no personal data. A true
  positive is the planted value found with its exact offsets and type; anything else found is a false
  positive of the type it was reported as.
- throughput: 1,000,000 items (100,000 with --quick) of about 300 characters each (5% carry a
  planted value) scanned with `detect_item`, as the detection job does (without the database);
  items/s, MB/s and the peak resident-set growth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.support import run_workload

if TYPE_CHECKING:
    from bench.run import Context

NAME = "pii"
DESCRIPTION = "Personal-data detectors: precision/recall per type on generated data; 1,000,000 items scanned."


def run(ctx: Context) -> list[dict]:
    items = 100_000 if ctx.quick else 1_000_000
    per_type = 200 if ctx.quick else 1_000
    ctx.log(f"pii: {per_type} positives and negatives per type, then {items:,} items scanned")
    out = run_workload(
        "bench.workloads.pii_run",
        str(items),
        str(per_type),
        str(ctx.seed),
        repo_root=ctx.repo_root,
        env=ctx.subprocess_env(),
        timeout=1800,
    )
    results = []
    for kind, row in out["accuracy"].items():
        notes = f"tp {row['tp']}, fp {row['fp']}, fn {row['fn']} of {per_type} planted"
        results.append(
            {
                "name": f"{kind} precision",
                "value": round(row["precision"], 4),
                "unit": "ratio",
                "target": ">= 0.9",
                "notes": notes,
            }
        )
        results.append(
            {"name": f"{kind} recall", "value": round(row["recall"], 4), "unit": "ratio", "target": ">= 0.9"}
        )
    scan = out["throughput"]
    results += [
        {
            "name": f"{scan['items']:,} items scanned",
            "value": round(scan["items"] / scan["seconds"]),
            "unit": "items/s",
            "target": ">= 10000",
            "notes": f"{scan['seconds']:.1f} s, {scan['chars'] / 1e6 / scan['seconds']:.1f} M characters/s, "
            f"{scan['findings']:,} findings; one process, one core",
        },
        {
            "name": "peak memory growth while scanning",
            "value": round(scan["rss_growth_mb"], 1),
            "unit": "MB",
            "target": "< 150",
        },
    ]
    return results
