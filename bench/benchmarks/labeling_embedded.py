"""One annotator labeling on the embedded default (`make run`: SQLite, jobs in a thread of the web
process), over HTTP: closed loop of next item -> submit, first with the quality recompute disabled
(QUALITY_ENQUEUE=0, the floor), then with it on, as `make run` has it. Issue #17: the recomputes
share the web process, so they must coalesce (how many jobs and passes per submissions) and yield to
the requests (next-item p99 < 30 ms while they run).
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

from bench.support import AsgiServer, manage, run_workload

if TYPE_CHECKING:
    from bench.run import Context

NAME = "labeling_embedded"
DESCRIPTION = "make run (SQLite): one annotator over HTTP with and without quality recomputes."


def _pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1) if ordered else 0.0


def _combined_step(client, project_id: int, tally, held: dict) -> bool:
    """One annotation with submit-and-next: the submit's response carries the next lease."""
    import time
    import uuid

    from bench.workloads import labeling_clients as clients

    if held.get("assignment") is None:
        status, body = client.post(f"/api/projects/{project_id}/queue/next/")
        if status != 200:
            tally.errors[f"next HTTP {status}"] += 1
            return False
        held["assignment"] = body.get("assignment")
        if held["assignment"] is None:
            return False
    started = time.perf_counter()
    status, body = client.post(
        f"/api/projects/{project_id}/assignments/{held['assignment']['id']}/submit/?next=1",
        {"result": clients.RESULT, "idempotency_key": uuid.uuid4().hex},
    )
    if status not in (200, 201):
        tally.errors[f"submit HTTP {status}:{body.get('code', '')}"] += 1
        return False
    tally.submit_ms.append((time.perf_counter() - started) * 1000)
    tally.submits_total += 1
    held["assignment"] = body["next"]["assignment"]
    return held["assignment"] is not None


def _one_run(
    ctx: Context, *, label: str, items: int, warmup: int, enqueue: bool, combined: bool = False
) -> dict:
    from bench.workloads import labeling_clients as clients

    var_dir = ctx.tmp_dir / f"var-{label}"
    env = ctx.subprocess_env(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=None,
        REDIS_URL=None,
        TESSERA_VAR_DIR=str(var_dir),
        QUALITY_ENQUEUE="1" if enqueue else "0",
    )
    manage("migrate", "--noinput", "-v", "0", python=sys.executable, repo_root=ctx.repo_root, env=env)
    seeded = run_workload(
        "bench.workloads.labeling_embedded_run", "setup", str(items), repo_root=ctx.repo_root, env=env
    )
    server_env = {**env, "CORE_TASKS_IN_THREAD": "1"}
    tally = clients._Tally()
    load_before = os.getloadavg()[0]
    with AsgiServer(
        python=sys.executable, repo_root=ctx.repo_root, env=server_env, log_path=ctx.tmp_dir / f"{label}.log"
    ) as server:
        server.wait_until_ok()
        client = clients.ApiClient(server.port, seeded["token"])
        wall = time.perf_counter()
        try:
            if combined:
                held: dict = {}
                while _combined_step(client, seeded["project"], tally, held):
                    pass
            else:
                while clients.http_step(client, seeded["project"], tally, deadline=None):
                    pass
        finally:
            client.close()
        wall = time.perf_counter() - wall
    load_after = os.getloadavg()[0]
    counts = run_workload(
        "bench.workloads.labeling_embedded_run",
        "counts",
        str(seeded["project"]),
        repo_root=ctx.repo_root,
        env=env,
    )
    next_ms = tally.next_ms[warmup:]
    return {
        "next": {share: _pct(next_ms, share) for share in (0.5, 0.95, 0.99)},
        "submit_p99": _pct(tally.submit_ms[warmup:], 0.99),
        "submits": tally.submits_total,
        "per_second": round(tally.submits_total / wall, 1) if wall else 0.0,
        "errors": dict(tally.errors),
        "load": (load_before, load_after),
        **counts,
    }


def run(ctx: Context) -> list[dict]:
    items = 300 if ctx.quick else 1_500
    warmup = 20
    ctx.log(f"{items:,} items, one annotator, recomputes off")
    off = _one_run(ctx, label="off", items=items, warmup=warmup, enqueue=False)
    ctx.log(f"{items:,} items, one annotator, recomputes on")
    on = _one_run(ctx, label="on", items=items, warmup=warmup, enqueue=True)
    ctx.log(f"{items:,} items, one annotator, recomputes on, submit-and-next")
    both = _one_run(ctx, label="combined", items=items, warmup=warmup, enqueue=True, combined=True)

    def notes(part: dict) -> str:
        return (
            f"p50 {part['next'][0.5]} / p95 {part['next'][0.95]} / p99 {part['next'][0.99]} ms over "
            f"{part['submits']:,} next+submit pairs (after {warmup} warm-up); "
            f"submit p99 {part['submit_p99']} ms; "
            f"errors {part['errors'] or 'none'}; over-served {part['over_served']}, repeated "
            f"{part['repeated']}; load {part['load'][0]:.2f} before, {part['load'][1]:.2f} after"
        )

    return [
        {
            "name": "embedded: next item p99, one annotator, recomputes off",
            "value": off["next"][0.99],
            "unit": "ms",
            "notes": notes(off),
        },
        {
            "name": "embedded: next item p99, one annotator, recomputes on",
            "value": on["next"][0.99],
            "unit": "ms",
            "target": "< 30",
            "notes": notes(on),
        },
        {
            "name": "embedded: quality recompute jobs per 100 submits",
            "value": round(100 * on["jobs"] / max(on["submits"], 1), 2),
            "unit": "jobs",
            "notes": f"{on['jobs']} jobs and {on['runs']} passes (QualityRun rows, at most 200 kept) for "
            f"{on['submits']:,} submits ({on['generation']} changes scheduled)",
        },
        {
            "name": "embedded: annotations/s, one annotator, next + submit (two requests)",
            "value": on["per_second"],
            "unit": "annotations/s",
            "notes": "recomputes on; closed loop, no think time",
        },
        {
            "name": "embedded: annotations/s, one annotator, submit-and-next (one request)",
            "value": both["per_second"],
            "unit": "annotations/s",
            "notes": f"recomputes on; submit ?next=1; submit p99 {both['submit_p99']} ms; errors "
            f"{both['errors'] or 'none'}; over-served {both['over_served']}, repeated {both['repeated']}",
        },
        {
            "name": "embedded: invariant violations",
            "value": sum(part["over_served"] + part["repeated"] for part in (off, on, both)),
            "unit": "rows",
            "target": "<= 0",
            "notes": "items with more annotations than their target, and repeated (item, annotator) pairs",
        },
    ]
