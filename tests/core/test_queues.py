"""Queues by kind: every job goes to its kind's queue, deployed workers consume every queue between
them, a worker's kinds are checked, and embedded mode runs each kind on its own low-priority thread."""

import os
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from config.celery import _consume_worker_kinds, app, queue_name, queue_names, route_by_kind
from core import task_names
from core.services import _background

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {
    task_names.IMPORT_JOB_RUN: "tessera.imports",
    task_names.BUCKET_SOURCE_SYNC: "tessera.imports",
    task_names.SPLIT_RUN: "tessera.imports",
    task_names.LABEL_MIGRATION_APPLY: "tessera.imports",
    task_names.QUALITY_RECOMPUTE: "tessera.quality",
    task_names.NEAR_DUPLICATES_DETECT: "tessera.neardup",
    task_names.RELEASE_BUILD: "tessera.releases",
    task_names.RELEASE_REPRODUCE: "tessera.releases",
    task_names.PROJECT_STATS_REFRESH: "tessera",
    task_names.OUTBOX_RELAY: "tessera",
    task_names.JOBS_REAP: "tessera",
    task_names.LEASE_RELEASE_EXPIRED: "tessera",
}


@pytest.fixture
def default_queue():
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = "tessera"
    yield
    app.conf.task_default_queue = previous


def test_every_task_goes_to_its_kinds_queue(default_queue):
    routed = {name: route_by_kind(name)["queue"] for name in task_names.all_task_names().values()}

    assert {name: routed[name] for name in EXPECTED} == EXPECTED
    assert set(routed.values()) <= set(queue_names())


def test_every_kind_listed_for_a_task_is_a_known_queue_and_a_registered_task(settings):
    assert set(settings.CORE_TASK_KINDS.values()) <= set(settings.CORE_QUEUE_KINDS)
    assert set(settings.CORE_TASK_KINDS) <= set(task_names.all_task_names().values())


def test_queues_follow_the_default_queue_so_installations_sharing_redis_never_cross():
    assert queue_name("quality", "acme") == "acme.quality"
    assert queue_name("default", "acme") == "acme"
    assert queue_names("acme") == [
        "acme",
        "acme.imports",
        "acme.quality",
        "acme.neardup",
        "acme.releases",
        "acme.models",
        "acme.webhooks",
    ]


def test_compose_workers_consume_every_kind_between_them(settings):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    consumed = [
        kind.strip()
        for name, service in compose["services"].items()
        if name.startswith("worker")
        for kind in service["environment"]["CORE_WORKER_KINDS"].split(",")
    ]

    assert sorted(consumed) == sorted(settings.CORE_QUEUE_KINDS)


class _Queues:
    def __init__(self):
        self.selected = None

    def select(self, names):
        self.selected = names


def _worker():
    return SimpleNamespace(app=SimpleNamespace(amqp=SimpleNamespace(queues=_Queues())))


def test_a_worker_without_q_consumes_the_queues_of_its_kinds(settings, default_queue):
    settings.CORE_WORKER_KINDS = ("quality", "neardup")
    worker = _worker()

    _consume_worker_kinds(instance=worker, options={"queues": None})

    assert worker.app.amqp.queues.selected == ["tessera.quality", "tessera.neardup"]


def test_q_on_the_command_line_wins(settings):
    worker = _worker()

    _consume_worker_kinds(instance=worker, options={"queues": "custom"})

    assert worker.app.amqp.queues.selected is None


def test_an_unknown_worker_kind_stops_the_worker_with_the_known_ones(settings):
    settings.CORE_WORKER_KINDS = ("qualty",)
    worker = _worker()

    with pytest.raises(ImproperlyConfigured, match=r"unknown kind.*qualty.*known: default, imports"):
        _consume_worker_kinds(instance=worker, options={})

    assert worker.app.amqp.queues.selected is None


def test_embedded_mode_runs_each_kind_on_its_own_low_priority_thread():
    neardup = _background(task_names.NEAR_DUPLICATES_DETECT)
    imports = _background(task_names.IMPORT_JOB_RUN)

    assert neardup is not imports
    assert _background(task_names.SPLIT_RUN) is imports  # same kind, same thread
    assert _background(task_names.PROJECT_STATS_REFRESH) is not imports

    def seen() -> tuple[str, int]:
        return threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    name, nice = neardup.submit(seen).result(timeout=10)
    assert name.startswith("tessera-neardup")
    assert nice == 19
