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


def test_tasks_outside_annotation_set_explicit_names(contracts):
    assert contracts.implicit_task_name_problems() == []
