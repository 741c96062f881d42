"""The labeling hot path through the ASGI app in-process, without a socket: CPU and SQL statements per
annotation, optionally under cProfile. A tool for A/B work on the HTTP layer (issue #17), not a
benchmark of its own: it prints one line per run, and a profile on request.

    # once: a migrated database with production settings (see bench/support.py), then
    python -m bench.workloads.http_overhead seed
    python -m bench.workloads.http_overhead run 300 two        # POST queue/next/ + POST submit/
    python -m bench.workloads.http_overhead run 300 one        # POST submit/?next=1 only
    python -m bench.workloads.http_overhead run 300 service    # the same calls without HTTP
    python -m bench.workloads.http_overhead run 200 two profile > profile.txt

The app is `config.asgi.application`, called with an HTTP scope and a one-message body as uvicorn
would; Django runs its sync code in its own threads, so `profile` installs a `thread_time` profiler
in every new thread (asgiref's per-request threads) next to the event loop's. Interleave runs of two
branches (old, new, old, new) and read CPU, not wall time, on a shared machine.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import pstats
import sys
import threading
import time
import uuid
from pathlib import Path

import django

STATE = Path(os.environ.get("HTTP_OVERHEAD_STATE", "/tmp/tessera_http_overhead.json"))
RESULT = {"sentiment": "yes"}
STATEMENTS = {"n": 0}


def _count(execute, sql, params, many, context):
    STATEMENTS["n"] += 1
    return execute(sql, params, many, context)


def _install_counter(sender, connection, **kwargs) -> None:
    if _count not in connection.execute_wrappers:  # a reused wrapper reconnects: install once
        connection.execute_wrappers.append(_count)


def seed() -> None:
    from bench.workloads import labeling_run

    conf = {"items": 30_000, "overlap2_items": 10, "annotators": 2, "http_clients": 2}
    state = labeling_run.setup(conf)
    STATE.write_text(
        json.dumps({"project": state["big"], "token": state["tokens"][0], "user": state["annotator_ids"][0]})
    )


async def _call(
    app, path: str, token: str, payload: dict | None = None, query: bytes = b""
) -> tuple[int, dict]:
    body = json.dumps(payload or {}).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"), (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    sent: list[dict] = []
    delivered = False

    async def receive() -> dict:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # no disconnect: the server cancels this after the response
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    data = b"".join(message.get("body", b"") for message in sent[1:])
    return sent[0]["status"], json.loads(data) if data else {}


async def _http(count: int, mode: str, profile: bool) -> None:
    from config.asgi import application

    state = json.loads(STATE.read_text())
    project, token = state["project"], state["token"]
    held: dict = {}

    async def annotate() -> None:
        if mode == "two" or held.get("id") is None:
            status, body = await _call(application, f"/api/projects/{project}/queue/next/", token)
            assert status == 200 and body["assignment"], (status, body)
            held["id"] = body["assignment"]["id"]
        query = b"next=1" if mode == "one" else b""
        status, body = await _call(
            application,
            f"/api/projects/{project}/assignments/{held.pop('id')}/submit/",
            token,
            {"result": RESULT, "idempotency_key": uuid.uuid4().hex},
            query,
        )
        assert status == 201, (status, body)
        if mode == "one":
            held["id"] = body["next"]["assignment"]["id"]

    profilers: list[cProfile.Profile] = []

    def start_thread_profiler(frame, event, arg) -> None:
        profiler = cProfile.Profile(time.thread_time)
        profilers.append(profiler)
        profiler.enable()

    if profile:
        threading.setprofile(start_thread_profiler)  # threads started from now on (before warm-up)
    for _ in range(20):
        await annotate()
    loop_profiler = cProfile.Profile(time.thread_time)
    if profile:
        loop_profiler.enable()
    statements, cpu, wall = STATEMENTS["n"], time.process_time(), time.perf_counter()
    for _ in range(count):
        await annotate()
    _report(mode, count, statements, cpu, wall)
    if profile:
        loop_profiler.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
        for name, group in (("event loop", [loop_profiler]), ("sync threads", profilers)):
            print(f"===== {name} ({len(group)} profilers)")
            stats = pstats.Stats(*group)  # type: ignore[arg-type]
            stats.sort_stats(os.environ.get("SORT", "cumulative")).print_stats(
                int(os.environ.get("TOP", "60"))
            )


def _service(count: int) -> None:
    """The calls the two views make (access check, claim, payload, submit, payload), without HTTP,
    authentication or DRF: the difference to `two` is the HTTP layer's cost."""
    from django.contrib.auth import get_user_model

    from annotation.workflow import payloads
    from annotation.workflow.api import _next_item_data
    from annotation.workflow.services.submit import annotation_submit
    from projects import access
    from projects.access import ProjectAction

    state = json.loads(STATE.read_text())
    user = get_user_model().objects.get(pk=state["user"])

    def annotate() -> None:
        project = access.project_get_for_user(
            user=user, project_id=state["project"], action=ProjectAction.ANNOTATE
        )
        body = _next_item_data(project, user)
        json.dumps(body)
        project = access.project_get_for_user(
            user=user, project_id=state["project"], action=ProjectAction.ANNOTATE
        )
        outcome = annotation_submit(
            project=project,
            annotator=user,
            assignment_id=body["assignment"]["id"],
            result=RESULT,
            idempotency_key=uuid.uuid4().hex,
            base_revision=None,
            prediction_id=None,
            active_ms=0,
        )
        json.dumps(payloads.annotation_payload(outcome.annotation, viewer=user, project=project))

    for _ in range(20):
        annotate()
    statements, cpu, wall = STATEMENTS["n"], time.process_time(), time.perf_counter()
    for _ in range(count):
        annotate()
    _report("service", count, statements, cpu, wall)


def _report(mode: str, count: int, statements: int, cpu: float, wall: float) -> None:
    print(
        f"mode={mode} n={count} cpu/annotation={1000 * (time.process_time() - cpu) / count:.2f} ms "
        f"wall/annotation={1000 * (time.perf_counter() - wall) / count:.2f} ms "
        f"statements/annotation={(STATEMENTS['n'] - statements) / count:.1f} "
        f"load={os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    django.setup()
    from django.db.backends.signals import connection_created

    connection_created.connect(_install_counter)
    if argv[0] == "seed":
        seed()
    elif argv[2] == "service":
        _service(int(argv[1]))
    else:
        asyncio.run(_http(int(argv[1]), argv[2], profile=len(argv) > 3 and argv[3] == "profile"))


if __name__ == "__main__":
    main(sys.argv[1:])
