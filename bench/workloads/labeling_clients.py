"""Annotator clients for bench/workloads/labeling_run.py: closed loops of next item -> submit
(over HTTP also as one submit-and-next round trip per annotation).

Each client is a thread with its own database connection (service level) or its own keep-alive HTTP
connection (API level). `client_process` runs a group of them in one spawned process; the parent
releases every thread of every process at once through a shared barrier.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
import uuid
from collections import Counter

RESULT = {"sentiment": "yes"}  # fits the workload's schema: one single_choice control "sentiment"


def _ms(seconds: float) -> float:
    return seconds * 1000.0


class _Tally:
    """What one thread saw. Latencies only of calls that started before the deadline."""

    def __init__(self) -> None:
        self.next_ms: list[float] = []
        self.submit_ms: list[float] = []
        self.submits = 0  # completed before the deadline
        self.submits_total = 0
        self.empty = 0
        self.resumed = 0
        self.errors: Counter[str] = Counter()

    def as_dict(self) -> dict:
        return {
            "next_ms": self.next_ms,
            "submit_ms": self.submit_ms,
            "submits": self.submits,
            "submits_total": self.submits_total,
            "empty": self.empty,
            "resumed": self.resumed,
            "errors": dict(self.errors),
        }


def _error_name(error: BaseException) -> str:
    code = getattr(error, "code", None)
    return f"{type(error).__name__}:{code}" if code else type(error).__name__


# --- service level: the Python functions, in-process, against PostgreSQL --------------------------------
def service_loop(
    *, project_id: int, user_id: int, barrier, duration: float, until_empty: bool, think: float = 0.0
) -> dict:
    """One annotator: next_item_for_annotator then annotation_submit until the deadline (or, with
    until_empty, until the queue has nothing left for them). With `think` > 0 they pause a random
    time (exponential, that mean in seconds) after each submit, like a person reading the next item."""
    from django.contrib.auth import get_user_model
    from django.db import connections

    from annotation.workflow.services.claim import next_item_for_annotator
    from annotation.workflow.services.submit import annotation_submit
    from projects.models import Project

    tally = _Tally()
    rng = random.Random(user_id)
    try:
        project = Project.objects.get(pk=project_id)
        user = get_user_model().objects.get(pk=user_id)
        barrier.wait(timeout=300)
        deadline = time.monotonic() + duration
        if think > 0:  # arrivals spread out, not 50 requests in the same millisecond
            time.sleep(rng.uniform(0, 2 * think))
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                outcome = next_item_for_annotator(project=project, annotator=user)
            except Exception as error:  # counted and reported; the loop goes on
                tally.errors[_error_name(error)] += 1
                continue
            tally.next_ms.append(_ms(time.perf_counter() - started))
            if outcome.assignment is None:
                tally.empty += 1
                if until_empty:
                    break
                time.sleep(0.05)
                continue
            tally.resumed += outcome.resumed
            started = time.perf_counter()
            try:
                annotation_submit(
                    project=project,
                    annotator=user,
                    assignment_id=outcome.assignment.id,
                    result=RESULT,
                    idempotency_key=uuid.uuid4().hex,
                )
            except Exception as error:
                tally.errors[_error_name(error)] += 1
                continue
            tally.submit_ms.append(_ms(time.perf_counter() - started))
            tally.submits_total += 1
            if time.monotonic() <= deadline:
                tally.submits += 1
            if think > 0:
                time.sleep(min(rng.expovariate(1 / think), max(0.0, deadline - time.monotonic())))
    finally:
        connections.close_all()
    return tally.as_dict()


# --- API level: the same over HTTP (uvicorn, token auth, DRF serialisation) -------------------------------
class ApiClient:
    """Keep-alive JSON client for 127.0.0.1:<port> with a Bearer token; reconnects once on a reset."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body or {}).encode()
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Host": f"127.0.0.1:{self.port}",
        }
        for attempt in (1, 2):
            try:
                self.connection.request("POST", path, body=data, headers=headers)
                response = self.connection.getresponse()
                payload = response.read()
                try:
                    return response.status, (json.loads(payload) if payload else {})
                except ValueError:  # an HTML error page: counted by the caller as HTTP <status>
                    return response.status, {"code": "not_json"}
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


def http_step(client: ApiClient, project_id: int, tally: _Tally, *, deadline: float | None) -> bool:
    """One next -> submit over HTTP. False when the queue had nothing for this annotator."""
    started = time.perf_counter()
    status, body = client.post(f"/api/projects/{project_id}/queue/next/")
    elapsed = time.perf_counter() - started
    if status != 200:
        tally.errors[f"next HTTP {status}:{body.get('code', '')}"] += 1
        return True
    tally.next_ms.append(_ms(elapsed))
    assignment = body.get("assignment")
    if assignment is None:
        tally.empty += 1
        return False
    tally.resumed += bool(body.get("resumed"))
    started = time.perf_counter()
    status, body = client.post(
        f"/api/projects/{project_id}/assignments/{assignment['id']}/submit/",
        {"result": RESULT, "idempotency_key": uuid.uuid4().hex},
    )
    elapsed = time.perf_counter() - started
    if status not in (200, 201):
        tally.errors[f"submit HTTP {status}:{body.get('code', '')}"] += 1
        return True
    tally.submit_ms.append(_ms(elapsed))
    tally.submits_total += 1
    if deadline is None or time.monotonic() <= deadline:
        tally.submits += 1
    return True


def http_step_and_next(
    client: ApiClient, project_id: int, tally: _Tally, held: dict, *, deadline: float | None
) -> bool:
    """One annotation in one round trip: POST submit/?next=1 answers the submitted annotation and the
    next lease (issue #17's design). `held` carries the lease between calls ({"id": ...}); only the
    first call of a loop (or one after an empty queue or an error) asks queue/next/ on its own, timed
    as a next. The submit-and-next round trip is timed as the submit. False when the queue had nothing
    for this annotator."""
    if held.get("id") is None:
        started = time.perf_counter()
        status, body = client.post(f"/api/projects/{project_id}/queue/next/")
        elapsed = time.perf_counter() - started
        if status != 200:
            tally.errors[f"next HTTP {status}:{body.get('code', '')}"] += 1
            return True
        tally.next_ms.append(_ms(elapsed))
        if body.get("assignment") is None:
            tally.empty += 1
            return False
        tally.resumed += bool(body.get("resumed"))
        held["id"] = body["assignment"]["id"]
    started = time.perf_counter()
    status, body = client.post(
        f"/api/projects/{project_id}/assignments/{held.pop('id')}/submit/?next=1",
        {"result": RESULT, "idempotency_key": uuid.uuid4().hex},
    )
    elapsed = time.perf_counter() - started
    if status not in (200, 201):
        tally.errors[f"submit+next HTTP {status}:{body.get('code', '')}"] += 1
        return True  # the next call starts again with queue/next/ (it resumes a lease still held)
    tally.submit_ms.append(_ms(elapsed))
    tally.submits_total += 1
    if deadline is None or time.monotonic() <= deadline:
        tally.submits += 1
    following = (body.get("next") or {}).get("assignment")
    if following is None:
        tally.empty += 1
        return False
    tally.resumed += bool(body["next"].get("resumed"))
    held["id"] = following["id"]
    return True


def http_loop(
    *,
    project_id: int,
    port: int,
    token: str,
    barrier,
    duration: float,
    until_empty: bool,
    combined: bool = False,
) -> dict:
    """Closed loop over HTTP: next -> submit (two round trips), or with `combined` submit-and-next
    (one round trip per annotation, http_step_and_next)."""
    tally = _Tally()
    client = ApiClient(port, token)
    held: dict = {}
    try:
        barrier.wait(timeout=300)
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            try:
                if combined:
                    more = http_step_and_next(client, project_id, tally, held, deadline=deadline)
                else:
                    more = http_step(client, project_id, tally, deadline=deadline)
                if not more:
                    if until_empty:
                        break
                    time.sleep(0.05)
            except (OSError, http.client.HTTPException) as error:
                tally.errors[_error_name(error)] += 1
                held.clear()  # the lease is resumed by queue/next/
    finally:
        client.close()
    return tally.as_dict()


# --- a process of client threads ---------------------------------------------------------------------------
def client_process(conf: dict, barrier, results) -> None:
    """Entry point of a spawned process: conf["clients"] threads, each one annotator; puts one dict
    (the merged tallies, or an error) on `results`."""
    try:
        if conf["mode"] == "service":
            import django

            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
            django.setup()
        outcomes: list[dict] = []
        failures: list[str] = []
        lock = threading.Lock()

        def run(client: dict) -> None:
            try:
                if conf["mode"] == "service":
                    outcome = service_loop(
                        project_id=conf["project_id"],
                        user_id=client["user_id"],
                        barrier=barrier,
                        duration=conf["duration"],
                        until_empty=conf["until_empty"],
                        think=conf.get("think", 0.0),
                    )
                else:
                    outcome = http_loop(
                        project_id=conf["project_id"],
                        port=conf["port"],
                        token=client["token"],
                        barrier=barrier,
                        duration=conf["duration"],
                        until_empty=conf["until_empty"],
                        combined=conf.get("combined", False),
                    )
            except BaseException as error:  # reported to the parent, which fails the phase
                with lock:
                    failures.append(f"{type(error).__name__}: {error}")
                barrier.abort()
                return
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=run, args=(client,)) for client in conf["clients"]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results.put({"outcomes": outcomes, "failures": failures})
    except BaseException as error:
        barrier.abort()
        results.put({"outcomes": [], "failures": [f"{type(error).__name__}: {error}"]})
