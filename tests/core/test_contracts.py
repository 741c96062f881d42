"""Contracts as code (scripts/check_contracts.py, also run by `make lint`)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_script():
    spec = importlib.util.spec_from_file_location("check_contracts", ROOT / "scripts" / "check_contracts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def contracts():
    return _load_script()


def test_every_outbox_task_name_resolves_to_a_registered_task(contracts):
    found, problems = contracts.outbox_task_names()

    assert problems == []
    assert len(found) >= 10  # annotation, projects, quality and exports enqueue jobs; the scan sees them
    assert {name for _, name in found} >= {
        "annotation.tasks.queue_order_apply_task",
        "annotation.tasks_sources.bucket_source_sync_task",
        "exports.tasks.release_build_task",
    }
    assert contracts.task_name_problems() == []


def test_every_registry_name_is_a_registered_task(contracts):
    from config.celery import app
    from core import task_names

    app.loader.import_default_modules()
    names = task_names.all_task_names()

    assert len(names) >= 14
    assert set(names.values()) - set(app.tasks) == set()


def test_a_task_name_typo_is_a_problem(contracts, monkeypatch):
    from core import task_names

    monkeypatch.setattr(task_names, "RELEASE_BUILD", "exports.tasks.release_biuld_task")

    problems = contracts.task_name_problems()

    assert any("release_biuld_task" in problem and "not a registered" in problem for problem in problems)


def test_every_task_sets_an_explicit_name(contracts):
    assert contracts.implicit_task_name_problems() == []


# --- websocket events ------------------------------------------------------------------------------


def test_every_event_is_declared_catalogued_and_known_to_the_frontend(contracts):
    catalogue = contracts.event_catalogue()

    assert len(catalogue) >= 35  # every app's events.py is read
    assert contracts.event_problems() == []


def test_every_event_sent_in_the_code_is_found_by_the_scan(contracts):
    sent = contracts.events_sent_in_the_code()

    expected = {"feed.ready", "member.added", "import.progress", "quality.updated", "release.reproduced"}
    assert expected <= set(sent)


def test_an_undeclared_event_and_a_stale_catalogue_are_problems(contracts, monkeypatch):
    from projects import events

    monkeypatch.setattr(events, "EVENTS", events.EVENTS[:-1])  # project.stats_updated forgotten

    problems = contracts.event_problems()

    assert any("'project.stats_updated' is sent but declared in no events.py" in p for p in problems)
    assert any("docs/EVENTS.md is stale" in p for p in problems)
    assert any("SERVER_EVENT_TYPES lists 'project.stats_updated'" in p for p in problems)
