"""The labeling workflow under load, on a throwaway PostgreSQL database; prints one JSON line.

    python -m bench.workloads.labeling_run '<json config>'   (DATABASE_URL: a migrated database)

Seeds one project with N items (INSERT ... SELECT generate_series, then ANALYZE), then, on that one
database: one annotator in a closed loop (service level, then over HTTP: next -> submit, and
submit-and-next in one round trip), 50 annotators at once, 8 clients at once (service level, and over
HTTP both ways), and 50 annotators emptying a small overlap-2 project.
Afterwards SQL checks that no item has more annotations than its target and no (item, annotator)
pair repeats. Client processes are spawned (bench/workloads/labeling_clients.py); every thread has
its own database or HTTP connection.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import django
import psutil

from bench.support import LOOPBACK, free_port, http_get
from bench.workloads import labeling_clients as clients

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = {
    "version": 1,
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        {
            "name": "sentiment",
            "type": "single_choice",
            "field": "text",
            "required": True,
            "labels": [{"value": "yes"}, {"value": "no"}],
        }
    ],
}

# Every column the import loader fills (annotation/imports/loader.py); the rest have database defaults.
SEED_SQL = """
INSERT INTO annotation_item (
    project_id, data, meta, content_hash, checksum, source, source_ref, licence, consent, synthetic,
    generator, split, search_text, predictions, created_at, target
)
SELECT %(project)s, jsonb_build_object('text', t.text),
       jsonb_build_object('language', (ARRAY['en', 'fr', 'de', 'es', 'pt'])[1 + g %% 5], 'stars', 1 + g %% 5),
       lpad(to_hex(%(offset)s + g), 64, '0'), md5('checksum' || g) || md5('sum' || g),
       'upload', 'bench.jsonl:' || g, '', 'unknown', false, '', '', lower(t.text), '[]'::jsonb, now(),
       %(target)s
FROM generate_series(1, %(count)s) AS g
CROSS JOIN LATERAL (
    SELECT 'Review ' || g || ': the '
        || (ARRAY['battery', 'camera', 'screen', 'delivery', 'price', 'charger', 'sound'])[1 + g %% 7]
        || ' was ' || (ARRAY['great', 'poor', 'fast', 'slow', 'broken', 'average'])[1 + (g / 7) %% 6]
        || ' and the ' || (ARRAY['support', 'refund', 'update', 'design', 'warranty'])[1 + (g / 42) %% 5]
        || ' ' || (ARRAY['excellent', 'terrible', 'fine', 'late', 'missing'])[1 + (g / 210) %% 5] || '.'
        AS text
) AS t
"""


STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"    [{time.monotonic() - STARTED:5.0f} s] {message}", file=sys.stderr, flush=True)


def summary(values: list[float]) -> dict:
    """p50/p95/p99/max in ms (nearest rank), and the count."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return round(ordered[max(0, math.ceil(p * len(ordered)) - 1)], 2)

    return {
        "n": len(ordered),
        "p50": rank(0.50),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "max": round(ordered[-1], 2),
        "mean": round(sum(ordered) / len(ordered), 2),
    }


# --- setup ------------------------------------------------------------------------------------------------
def setup(conf: dict) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from accounts.services import api_token_create
    from projects.models import OrganisationMembership, ProjectMembership
    from projects.services import organisation_create, project_create, schema_version_create

    User = get_user_model()
    manager = User.objects.create(username="bench-manager", password="!")  # unusable: no hashing cost
    organisation = organisation_create(name="Bench", slug="bench", creator=manager)
    big = project_create(organisation=organisation, actor=manager, name="Labeling bench", overlap=1)
    small = project_create(organisation=organisation, actor=manager, name="Overlap 2", overlap=2)
    for project in (big, small):
        schema_version_create(project=project, actor=manager, definition=SCHEMA)

    annotators = User.objects.bulk_create(
        [User(username=f"annotator{i:02d}", password="!") for i in range(conf["annotators"])]
    )
    OrganisationMembership.objects.bulk_create(
        [OrganisationMembership(organisation=organisation, user=user, role="member") for user in annotators]
    )
    ProjectMembership.objects.bulk_create(
        [
            ProjectMembership(project=project, user=user, role=ProjectMembership.Role.ANNOTATOR)
            for project in (big, small)
            for user in annotators
        ]
    )
    tokens = [api_token_create(user=user, name="bench")[1] for user in annotators[: conf["http_clients"]]]

    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Sequential content hashes: appending to the unique index is much faster than random inserts.
        cursor.execute(SEED_SQL, {"project": big.id, "count": conf["items"], "target": 1, "offset": 0})
        cursor.execute(
            SEED_SQL,
            {"project": small.id, "count": conf["overlap2_items"], "target": 2, "offset": conf["items"]},
        )
    seed_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE annotation_item")
    analyze_seconds = time.perf_counter() - started
    log(f"seeded {conf['items']:,} + {conf['overlap2_items']:,} items in {seed_seconds:.1f} s")
    return {
        "big": big.id,
        "small": small.id,
        "annotator_ids": [user.id for user in annotators],
        "tokens": tokens,
        "seed_seconds": seed_seconds,
        "analyze_seconds": analyze_seconds,
    }


# --- one annotator -----------------------------------------------------------------------------------------
def single_service(project_id: int, user_id: int, *, warmup: int, count: int) -> dict:
    """Closed loop in this process: time next_item_for_annotator (its transaction included)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from annotation.workflow.services.claim import next_item_for_annotator
    from annotation.workflow.services.submit import annotation_submit
    from projects.models import Project

    project = Project.objects.get(pk=project_id)
    user = get_user_model().objects.get(pk=user_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = psutil.Process(cursor.fetchone()[0])
    next_ms, submit_ms = [], []
    started_all = time.perf_counter()
    cpu_client = cpu_server = 0.0
    for step in range(warmup + count):
        started = time.perf_counter()
        outcome = next_item_for_annotator(project=project, annotator=user)
        middle = time.perf_counter()
        if outcome.assignment is None:
            raise RuntimeError(f"queue empty for one annotator after {step} items: {outcome.reason}")
        annotation_submit(
            project=project,
            annotator=user,
            assignment_id=outcome.assignment.id,
            result=clients.RESULT,
            idempotency_key=uuid.uuid4().hex,
        )
        ended = time.perf_counter()
        if step == warmup - 1:
            started_all = ended
            cpu_client, cpu_server = time.process_time(), sum(backend.cpu_times()[:2])
        if step >= warmup:
            next_ms.append((middle - started) * 1000)
            submit_ms.append((ended - middle) * 1000)
    seconds = time.perf_counter() - started_all
    cpu_client = time.process_time() - cpu_client
    cpu_server = sum(backend.cpu_times()[:2]) - cpu_server
    return {
        "next": summary(next_ms),
        "submit": summary(submit_ms),
        "rate": count / seconds,
        # CPU seconds per next+submit pair: this Python process, and its PostgreSQL backend
        "cpu_client_ms": cpu_client / count * 1000,
        "cpu_server_ms": cpu_server / count * 1000,
    }


class Uvicorn:
    """`uvicorn config.asgi:application` on a free loopback port with `workers` processes."""

    def __init__(self, *, workers: int, env: dict[str, str], log_path: Path) -> None:
        self.workers, self.env, self.log_path = workers, env, log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Uvicorn:
        command = [
            sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", LOOPBACK,
            "--port", str(self.port), "--workers", str(self.workers), "--no-server-header",
            "--no-access-log", "--log-level", "warning", "--lifespan", "off",
        ]  # fmt: skip
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if http_get(self.port, "/healthz", timeout=2)[0] == 200:
                    # every worker has to be up: a few more answers spread over them
                    for _ in range(4 * self.workers):
                        http_get(self.port, "/healthz", timeout=5)
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.__exit__()
        raise TimeoutError(f"uvicorn did not answer /healthz:\n{self.log_path.read_text()[-3000:]}")

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _backends(database_pids: set[int]) -> dict[int, psutil.Process]:
    """The PostgreSQL backends of this database other than this process's own (the web server's)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        found = {row[0] for row in cursor.fetchall()} | database_pids
    processes = {}
    for pid in found:
        with contextlib.suppress(psutil.Error):  # ended since: its CPU time is not counted
            processes[pid] = psutil.Process(pid)
    return processes


def _cpu(processes: dict[int, psutil.Process]) -> dict[int, float]:
    times = {}
    for pid, process in processes.items():
        with contextlib.suppress(psutil.Error):
            times[pid] = sum(process.cpu_times()[:2])
    return times


def single_http(
    project_id: int, token: str, server: Uvicorn, *, warmup: int, count: int, combined: bool = False
) -> dict:
    """One annotator over HTTP: next -> submit (two round trips per annotation) or, with `combined`,
    submit-and-next (one). CPU per annotation of the server (uvicorn + Django) and of its PostgreSQL
    backends (pool connections seen before or after the loop)."""
    tally = clients._Tally()
    client = clients.ApiClient(server.port, token)
    process = psutil.Process(server.process.pid)
    held: dict = {}

    def step(tally: clients._Tally) -> bool:
        if combined:
            return clients.http_step_and_next(client, project_id, tally, held, deadline=None)
        return clients.http_step(client, project_id, tally, deadline=None)

    try:
        for _ in range(warmup):
            step(tally)
        tally = clients._Tally()
        backends = _backends(set())
        cpu_backends = _cpu(backends)
        cpu_server = sum(process.cpu_times()[:2])
        started = time.perf_counter()
        for _ in range(count):
            if not step(tally):
                raise RuntimeError("queue empty over HTTP")
        seconds = time.perf_counter() - started
        cpu_server = sum(process.cpu_times()[:2]) - cpu_server
        after = _cpu(_backends(set(backends)))
        cpu_database = sum(after[pid] - cpu_backends.get(pid, 0.0) for pid in after)
    finally:
        client.close()
    if tally.errors:
        raise RuntimeError(f"HTTP errors: {dict(tally.errors)}")
    requests = len(tally.next_ms) + len(tally.submit_ms)
    return {
        "next": summary(tally.next_ms),
        "submit": summary(tally.submit_ms),
        "rate": count / seconds,
        "requests_per_annotation": requests / count,
        "cpu_app_ms": cpu_server / count * 1000,  # uvicorn + Django per annotation
        "cpu_db_ms": cpu_database / count * 1000,  # its PostgreSQL backends per annotation
        "load": os.getloadavg()[0],
    }


# --- many clients -------------------------------------------------------------------------------------------
def run_clients(
    *,
    mode: str,
    project_id: int,
    groups: list[list[dict]],
    duration: float,
    until_empty: bool = False,
    port: int | None = None,
    think: float = 0.0,
    combined: bool = False,
) -> dict:
    """One spawned process per group, one thread per client in it; all released by one barrier."""
    context = multiprocessing.get_context("spawn")
    threads = sum(len(group) for group in groups)
    barrier = context.Barrier(threads + 1)
    results = context.Queue()
    processes = [
        context.Process(
            target=clients.client_process,
            args=(
                {
                    "mode": mode,
                    "project_id": project_id,
                    "clients": group,
                    "duration": duration,
                    "until_empty": until_empty,
                    "port": port,
                    "think": think,
                    "combined": combined,
                },
                barrier,
                results,
            ),
            daemon=True,
        )
        for group in groups
    ]
    for process in processes:
        process.start()
    try:
        barrier.wait(timeout=300)
        started = time.monotonic()
        cpu_before = psutil.cpu_times()
        collected = [results.get(timeout=duration + 300) for _ in processes]
        elapsed = time.monotonic() - started
        cpu_after = psutil.cpu_times()
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
                process.join(timeout=10)
    failures = [failure for item in collected for failure in item["failures"]]
    if failures:
        raise RuntimeError(f"{len(failures)} client threads failed: {failures[:3]}")
    outcomes = [outcome for item in collected for outcome in item["outcomes"]]
    errors: Counter[str] = Counter()
    for outcome in outcomes:
        errors.update(outcome["errors"])
    submits = sum(o["submits"] for o in outcomes)
    total = sum(o["submits_total"] for o in outcomes)
    return {
        "clients": threads,
        "processes": len(groups),
        "duration": duration,
        "elapsed": elapsed,
        "next": summary([v for o in outcomes for v in o["next_ms"]]),
        "submit": summary([v for o in outcomes for v in o["submit_ms"]]),
        "submits": submits,
        "submits_total": total,
        "rate": submits / duration
        if not until_empty
        else sum(o["submits_total"] for o in outcomes) / elapsed,
        "empty": sum(o["empty"] for o in outcomes),
        "resumed": sum(o["resumed"] for o in outcomes),
        "errors": dict(errors),
        "cpu_busy": cpu_busy(cpu_before, cpu_after),
        # all cores' busy time (clients, server, PostgreSQL, anything else) per annotation
        "cpu_per_annotation_ms": cpu_spent(cpu_before, cpu_after) / total * 1000 if total else None,
        "load": os.getloadavg()[0],
    }


def cpu_busy(before, after) -> float:
    """Share of all cores' time that was not idle (iowait counts as idle) between two snapshots."""
    total = sum(after) - sum(before)
    idle = (after.idle - before.idle) + (getattr(after, "iowait", 0) - getattr(before, "iowait", 0))
    return round(100 * (1 - idle / total), 1) if total > 0 else 0.0


def cpu_spent(before, after) -> float:
    """Seconds of non-idle CPU time over all cores between two snapshots (iowait counts as idle)."""
    idle = (after.idle - before.idle) + (getattr(after, "iowait", 0) - getattr(before, "iowait", 0))
    return (sum(after) - sum(before)) - idle


def split(clients_: list[dict], processes: int) -> list[list[dict]]:
    return [clients_[i::processes] for i in range(processes) if clients_[i::processes]]


# --- checks and plans ---------------------------------------------------------------------------------------
def checks(project_ids: list[int]) -> dict:
    from django.db import connection

    queries = {
        "over_annotated": """
            SELECT count(*) FROM (
                SELECT a.item_id FROM annotation_annotation a JOIN annotation_item i ON i.id = a.item_id
                WHERE NOT a.is_gold AND i.project_id = %(p)s GROUP BY a.item_id, i.target
                HAVING count(*) > i.target) x""",
        "repeated_item_annotator_annotations": """
            SELECT count(*) FROM (SELECT item_id, annotator_id FROM annotation_annotation
                WHERE project_id = %(p)s GROUP BY 1, 2 HAVING count(*) > 1) x""",
        "repeated_item_annotator_assignments": """
            SELECT count(*) FROM (SELECT item_id, annotator_id FROM annotation_assignment
                WHERE project_id = %(p)s GROUP BY 1, 2 HAVING count(*) > 1) x""",
        "counter_mismatch": """
            SELECT count(*) FROM annotation_item i
            LEFT JOIN (SELECT item_id, count(*) AS n FROM annotation_annotation
                       WHERE NOT is_gold AND project_id = %(p)s GROUP BY item_id) a ON a.item_id = i.id
            WHERE i.project_id = %(p)s AND i.done <> coalesce(a.n, 0)""",
        "annotations": "SELECT count(*) FROM annotation_annotation WHERE project_id = %(p)s",
        "live_leases": """
            SELECT count(*) FROM annotation_assignment WHERE project_id = %(p)s AND status = 'leased'""",
        "items_below_target": """
            SELECT count(*) FROM annotation_item WHERE project_id = %(p)s AND done < target""",
    }
    result = {}
    with connection.cursor() as cursor:
        for project_id in project_ids:
            found = {}
            for name, sql in queries.items():
                cursor.execute(sql, {"p": project_id})
                found[name] = cursor.fetchone()[0]
            result[str(project_id)] = found
    return result


def explain_claim(project_id: int, user_id: int) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the claim statement, rolled back; plus its median of 20 runs."""
    from django.db import connection, transaction

    from annotation.workflow.services import claim

    params = {"project": project_id, "user": user_id, "pools": ["", "@bench"]}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + claim._CLAIM_FULL, params)
        plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    timings = []
    for _ in range(20):
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(claim._CLAIM_FULL, params)
            cursor.fetchone()
            timings.append((time.perf_counter() - started) * 1000)
            transaction.set_rollback(True)
    return {"plan": plan, "statement": summary(timings)}


AHEAD_SQL = """
UPDATE annotation_item SET done = 1
WHERE project_id = %(project)s AND id IN (
    SELECT id FROM annotation_item WHERE project_id = %(project)s ORDER BY id LIMIT %(ahead)s
);
INSERT INTO annotation_assignment (
    project_id, item_id, annotator_id, status, is_gold, leased_at, submitted_at, skip_reason, active_ms
)
SELECT project_id, id, %(user)s, 'submitted', false, now(), now(), '', 0
FROM annotation_item WHERE project_id = %(project)s AND done = 1;
"""


def far_ahead(conf: dict, user_id: int) -> dict:
    """One annotator who already did the first `ahead` items of an overlap-2 project that nobody else
    has touched: those items stay open (they want a second annotator), so a scan from the front of the
    queue would walk all of them on every call. The queue cursor lets the scan start after them."""
    from django.db import connection

    from projects.models import Organisation, ProjectMembership
    from projects.services import project_create, schema_version_create

    organisation = Organisation.objects.get(slug="bench")
    manager = organisation.memberships.get(role="admin").user
    project = project_create(organisation=organisation, actor=manager, name="Far ahead", overlap=2)
    schema_version_create(project=project, actor=manager, definition=SCHEMA)
    ProjectMembership.objects.create(project=project, user_id=user_id, role=ProjectMembership.Role.ANNOTATOR)
    count = conf["ahead"] + conf["ahead_calls"] + 100
    with connection.cursor() as cursor:
        cursor.execute(SEED_SQL, {"project": project.id, "count": count, "target": 2, "offset": 10**9})
        cursor.execute(AHEAD_SQL, {"project": project.id, "ahead": conf["ahead"], "user": user_id})
        cursor.execute("ANALYZE annotation_item; ANALYZE annotation_assignment")
    from django.contrib.auth import get_user_model

    from annotation.workflow.services.claim import next_item_for_annotator
    from annotation.workflow.services.submit import annotation_submit

    # The first call has no cursor yet: a full scan over everything they did. Timed on its own.
    user = get_user_model().objects.get(pk=user_id)
    started = time.perf_counter()
    outcome = next_item_for_annotator(project=project, annotator=user)
    first_ms = (time.perf_counter() - started) * 1000
    annotation_submit(
        project=project, annotator=user, assignment_id=outcome.assignment.id, result=clients.RESULT
    )
    part = single_service(project.id, user_id, warmup=0, count=conf["ahead_calls"])
    return {"project": project.id, "first_ms": round(first_ms, 1), **part}


def main(raw_conf: str) -> None:
    conf = json.loads(raw_conf)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("the labeling workload needs PostgreSQL")
    out: dict = {"conf": conf, "load_before": os.getloadavg()[0]}
    state = setup(conf)
    out["seed_seconds"], out["analyze_seconds"] = state["seed_seconds"], state["analyze_seconds"]
    big, small, users, tokens = state["big"], state["small"], state["annotator_ids"], state["tokens"]
    out["explain_fresh"] = explain_claim(big, users[-1])

    log(f"one annotator, service level: {conf['single']} next+submit")
    out["single_service"] = single_service(big, users[0], warmup=conf["warmup"], count=conf["single"])

    env = dict(os.environ)
    env["DB_POOL"] = "true"  # psycopg's connection pool, as docker-compose runs the web server
    log_path = Path(conf["tmp_dir"]) / "uvicorn.log"
    for max_age in conf["http_conn_max_age"]:
        env["DB_CONN_MAX_AGE"] = str(max_age)
        with Uvicorn(workers=1, env=env, log_path=log_path) as server:
            log(f"one annotator over HTTP (DB_CONN_MAX_AGE={max_age}): {conf['single_http']} next+submit")
            out[f"single_http_{max_age}"] = single_http(
                big, tokens[0], server, warmup=conf["warmup"], count=conf["single_http"]
            )
            log(f"one annotator over HTTP, submit-and-next: {conf['single_http']} annotations")
            out[f"single_http_combined_{max_age}"] = single_http(
                big, tokens[0], server, warmup=conf["warmup"], count=conf["single_http"], combined=True
            )

    crowd = [{"user_id": user_id} for user_id in users]
    log(f"{len(crowd)} annotators, service level, {conf['crowd_seconds']} s")
    out["crowd"] = run_clients(
        mode="service",
        project_id=big,
        groups=split(crowd, conf["crowd_processes"]),
        duration=conf["crowd_seconds"],
    )
    think = conf["think_seconds"]
    log(f"{len(crowd)} annotators with {think} s think time, service level, {conf['crowd_seconds']} s")
    out["crowd_think"] = run_clients(
        mode="service",
        project_id=big,
        groups=split(crowd, conf["crowd_processes"]),
        duration=conf["crowd_seconds"],
        think=think,
    )
    eight = [{"user_id": user_id} for user_id in users[: conf["http_clients"]]]
    log(f"{len(eight)} clients, service level, {conf['clients_seconds']} s")
    out["eight_service"] = run_clients(
        mode="service", project_id=big, groups=split(eight, len(eight)), duration=conf["clients_seconds"]
    )
    env["DB_CONN_MAX_AGE"] = str(conf["http_conn_max_age"][-1])
    with Uvicorn(workers=conf["http_workers"], env=env, log_path=log_path) as server:
        workers, seconds = conf["http_workers"], conf["clients_seconds"]
        log(f"{len(tokens)} clients over HTTP ({workers} uvicorn workers), {seconds} s")
        out["eight_http"] = run_clients(
            mode="http",
            project_id=big,
            groups=split([{"token": token} for token in tokens], 2),
            duration=conf["clients_seconds"],
            port=server.port,
        )
        log(f"{len(tokens)} clients over HTTP, submit-and-next ({workers} uvicorn workers), {seconds} s")
        out["eight_http_combined"] = run_clients(
            mode="http",
            project_id=big,
            groups=split([{"token": token} for token in tokens], 2),
            duration=conf["clients_seconds"],
            port=server.port,
            combined=True,
        )
    log(f"one annotator {conf['ahead']:,} items ahead at overlap 2: {conf['ahead_calls']} next+submit")
    out["ahead"] = far_ahead(conf, users[1])
    log(f"{len(crowd)} annotators emptying {conf['overlap2_items']:,} items at overlap 2")
    out["overlap2"] = run_clients(
        mode="service",
        project_id=small,
        groups=split(crowd, conf["crowd_processes"]),
        duration=conf["overlap2_cap_seconds"],
        until_empty=True,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_dead_tup, n_live_tup FROM pg_stat_user_tables WHERE relname = 'annotation_item'"
        )
        out["item_tuples"] = dict(zip(("dead", "live"), cursor.fetchone(), strict=True))
    out["explain_after"] = explain_claim(big, users[-1])
    out["checks"] = checks([big, small])
    out["load_after"] = os.getloadavg()[0]
    out["projects"] = {"big": big, "small": small}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
