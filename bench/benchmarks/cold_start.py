"""Cold start and idle memory of the ASGI server (uvicorn config.asgi:application).

Cold start: from spawning the process to the first HTTP 200 on /healthz, which needs Django set up,
the database and storage reachable (and Redis, when REDIS_URL is set). The database is migrated once
beforehand, outside the measurement. Memory: resident set of the server process right after that
first 200, and again after REQUEST_ROUNDS rounds of GET /login/ + GET /healthz (sequential).

Runs against a fresh SQLite file with embedded defaults (no Redis), the `make run` configuration;
and, when DATABASE_URL points at PostgreSQL, against a throwaway database `tessera_bench` on that
server with REDIS_URL passed through.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import TYPE_CHECKING

from bench.support import AsgiServer, is_postgres_url, manage, rss_mb, throwaway_postgres_database

if TYPE_CHECKING:
    from bench.run import Context

NAME = "cold_start"
DESCRIPTION = "ASGI server: spawn to first 200 on /healthz, and resident memory when idle and after requests."

COLD_START_TARGET = "< 3000"  # ms
RSS_TARGET = "< 150"  # MB (10**6 bytes)
REQUEST_ROUNDS = 50  # each round: GET /login/ then GET /healthz
BENCH_DATABASE = "tessera_bench"


def run(ctx: Context) -> list[dict]:
    repeats = 3 if ctx.quick else 5
    measurements = []

    sqlite_var = ctx.tmp_dir / "sqlite-var"
    env = ctx.subprocess_env(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        TESSERA_VAR_DIR=str(sqlite_var),
        DATABASE_URL=None,
        REDIS_URL=None,
        CELERY_TASK_ALWAYS_EAGER=None,
    )
    measurements += _measure(ctx, label="SQLite", env=env, var_dir=sqlite_var, repeats=repeats)

    if is_postgres_url(ctx.env.database_url):
        with throwaway_postgres_database(ctx.env.database_url, BENCH_DATABASE) as database_url:
            pg_var = ctx.tmp_dir / "postgresql-var"
            env = ctx.subprocess_env(
                DJANGO_SETTINGS_MODULE="config.settings.local",
                TESSERA_VAR_DIR=str(pg_var),
                DATABASE_URL=database_url,
                REDIS_URL=ctx.env.redis_url,
                CELERY_TASK_ALWAYS_EAGER=None,
            )
            label = "PostgreSQL + Redis" if ctx.env.redis_url else "PostgreSQL"
            measurements += _measure(ctx, label=label, env=env, var_dir=pg_var, repeats=repeats)
    else:
        ctx.log("DATABASE_URL is not PostgreSQL: skipping the PostgreSQL cold start")
    return measurements


def _measure(ctx: Context, *, label: str, env: dict[str, str], var_dir: Path, repeats: int) -> list[dict]:
    (var_dir / "media").mkdir(parents=True)
    ctx.log(f"{label}: migrating a fresh database (not timed)")
    manage("migrate", "--noinput", "-v", "0", python=ctx.env.python, repo_root=ctx.repo_root, env=env)

    timings_ms: list[float] = []
    rss_idle = rss_after = 0.0
    for attempt in range(1, repeats + 1):
        with AsgiServer(
            python=ctx.env.python, repo_root=ctx.repo_root, env=env, log_path=ctx.tmp_dir / "uvicorn.log"
        ) as server:
            timings_ms.append(server.wait_until_ok("/healthz") * 1000)
            ctx.log(f"{label}: cold start {attempt}/{repeats}: {timings_ms[-1]:.0f} ms")
            if attempt == repeats:  # memory on the last server, after its start has been timed
                rss_idle = rss_mb(server.pid)
                for _ in range(REQUEST_ROUNDS):
                    server.get_ok("/login/")
                    server.get_ok("/healthz")
                rss_after = rss_mb(server.pid)

    runs = ", ".join(f"{value:.0f}" for value in timings_ms)
    return [
        {
            "name": f"{label}: cold start, median",
            "value": round(statistics.median(timings_ms), 1),
            "unit": "ms",
            "target": COLD_START_TARGET,
            "notes": f"spawn to first 200 on /healthz; {repeats} runs: {runs} ms",
        },
        {
            "name": f"{label}: cold start, max",
            "value": round(max(timings_ms), 1),
            "unit": "ms",
            "target": COLD_START_TARGET,
        },
        {
            "name": f"{label}: RSS after startup",
            "value": round(rss_idle, 1),
            "unit": "MB",
            "target": RSS_TARGET,
            "notes": "right after the first 200",
        },
        {
            "name": f"{label}: RSS after {REQUEST_ROUNDS}x (/login/ + /healthz)",
            "value": round(rss_after, 1),
            "unit": "MB",
            "target": RSS_TARGET,
            "notes": f"{2 * REQUEST_ROUNDS} sequential GETs",
        },
    ]
