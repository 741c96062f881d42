"""The embedded default (`make run`: SQLite, jobs in-process): one 100,000-line JSONL upload imported
end to end, while a second user polls the job's status and writes short transactions beside it.

Targets from issue #17: >= 20,000 items/s, and the other user never sees `database is locked`. The
worst wait of that user's writes is how long the import holds SQLite's single write lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

from bench.benchmarks.import_jsonl import _generate
from bench.support import manage, run_workload

if TYPE_CHECKING:
    from bench.run import Context

NAME = "import_embedded"
_INSERT_KEY = "INSERT INTO annotation_item ( project_id, external_id, data,"  # import_run's sql_seconds key
DESCRIPTION = "JSONL import on the embedded default (SQLite), a second user reading and writing beside it."


def run(ctx: Context) -> list[dict]:
    count = 20_000 if ctx.quick else 100_000
    path = ctx.tmp_dir / "embedded-items.jsonl"
    ctx.log(f"generating {count:,} JSONL lines")
    _generate(ctx, path, count)
    var_dir = ctx.tmp_dir / "embedded-var"
    env = ctx.subprocess_env(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=None,
        REDIS_URL=None,
        TESSERA_VAR_DIR=str(var_dir),
        BENCH_IMPORT_PII_SCAN="1",  # the scan that follows an import, while the other user still writes
    )
    manage("migrate", "--noinput", "-v", "0", python=sys.executable, repo_root=ctx.repo_root, env=env)
    stop = ctx.tmp_dir / "embedded-writer.stop"
    writer = subprocess.Popen(
        [sys.executable, "-m", "bench.workloads.embedded_writer", str(stop)],
        cwd=ctx.repo_root,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        load_before = os.getloadavg()[0]
        ctx.log("importing")
        data = run_workload("bench.workloads.import_run", str(path), repo_root=ctx.repo_root, env=env)
    finally:
        stop.touch()
        out, _ = writer.communicate(timeout=120)
    load_after = os.getloadavg()[0]
    other = json.loads(out.strip().splitlines()[-1])
    if data["status"] != "succeeded":
        raise RuntimeError(f"import did not succeed: {data['detail']}")
    rate = data["received"] / data["seconds"]
    return [
        {
            "name": f"embedded: {count:,} items, one upload",
            "value": round(rate),
            "unit": "items/s",
            "target": ">= 20000" if count == 100_000 else None,
            "notes": f"{data['seconds']:.2f} s, SQLite; load average {load_before:.2f} before the run, "
            f"{load_after:.2f} after; the write lock held by the insert alone: "
            f"{data['sql_seconds'].get(_INSERT_KEY, 0):.2f} s",
        },
        {
            "name": "embedded: personal-data scan after the import",
            "value": round(data["pii_seconds"], 2),
            "unit": "s",
            "notes": "its own job after the import (one short write transaction per 2,000 items)",
        },
        {
            "name": "embedded: another user's errors during the import",
            "value": other["error_count"],
            "unit": "errors",
            "target": "<= 0",
            "notes": "; ".join(other["errors"]) or f"{other['rounds']} status reads and writes, none failed",
        },
        {
            "name": "embedded: another user's worst write wait during the import",
            "value": round(other["worst_write_ms"]),
            "unit": "ms",
            "notes": f"worst status read {other['worst_read_ms']:.0f} ms (WAL: reads never wait); "
            "during the import and the personal-data scan after it",
        },
    ]
