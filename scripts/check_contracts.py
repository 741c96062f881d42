"""Contracts as code: checks `make lint` runs (and tests/core/test_contracts.py reuses).

1. Task names: every name in core.task_names, in the beat schedule, and passed to `outbox_enqueue`
   anywhere in the code (found by scanning the source with ast, so every app is covered whoever owns it)
   is a task registered in the Celery app after autodiscovery. A typo would leave outbox rows pending
   for ever; a moved module without `name=` would orphan the rows already written.

Usage: .venv/bin/python scripts/check_contracts.py   (exit status 1 and one line per problem)
"""

from __future__ import annotations

import ast
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("config", "core", "accounts", "projects", "annotation", "quality", "exports")


def setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()


def source_files() -> Iterator[tuple[str, Path]]:
    """(dotted module, path) of every Python module of the apps, migrations excluded."""
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


# --- 1. task names ---------------------------------------------------------------------------------


def outbox_task_names() -> tuple[list[tuple[str, str]], list[str]]:
    """([(where, task name)], [problems]) for every `outbox_enqueue(task_name=...)` call in the code.

    A literal is taken as written; any other expression is evaluated in its module's namespace (a module
    constant such as `RUN_TASK` or `task_names.RELEASE_BUILD`). A function-local value cannot be checked
    and is itself a problem: name the task with a constant."""
    found: list[tuple[str, str]] = []
    problems: list[str] = []
    for module_name, path in source_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if func != "outbox_enqueue":
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            expr = next((kw.value for kw in node.keywords if kw.arg == "task_name"), None)
            if expr is None:
                expr = node.args[0] if node.args else None
            if expr is None:
                continue  # the definition's own signature or a call passing **kwargs
            if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
                found.append((where, expr.value))
                continue
            try:
                namespace = vars(importlib.import_module(module_name))
                value = eval(compile(ast.Expression(expr), where, "eval"), dict(namespace))  # noqa: S307
            except Exception as error:
                problems.append(f"{where}: task name `{ast.unparse(expr)}` cannot be resolved ({error})")
                continue
            found.append((where, value))
    return found, problems


# Packages whose tasks do not set `name=` yet (house-annotation sets them while moving annotation/).
IMPLICIT_NAMES_ALLOWED = ("annotation",)


def implicit_task_name_problems() -> list[str]:
    """Every `@shared_task`/`@app.task` sets `name=`: an implicit name changes when its module moves."""
    problems = []
    for module_name, path in source_files():
        if module_name.split(".")[0] in IMPLICIT_NAMES_ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                label = ast.unparse(target)
                if label not in {"shared_task", "app.task", "celery.shared_task"}:
                    continue
                keywords = decorator.keywords if isinstance(decorator, ast.Call) else []
                if not any(kw.arg == "name" for kw in keywords):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    problems.append(f"{where}: task {node.name} has no explicit name= (core/task_names.py)")
    return problems


def task_name_problems() -> list[str]:
    from django.conf import settings

    from config.celery import app
    from core import task_names

    app.loader.import_default_modules()  # autodiscovery, as a worker does at start
    registered = set(app.tasks)
    expected: list[tuple[str, str]] = [
        (f"core/task_names.py: {key}", value) for key, value in task_names.all_task_names().items()
    ]
    beat = settings.CELERY_BEAT_SCHEDULE
    expected += [(f"CELERY_BEAT_SCHEDULE[{key!r}]", entry["task"]) for key, entry in beat.items()]
    found, problems = outbox_task_names()
    problems += implicit_task_name_problems()
    if len(found) < 10:  # the scan finds the calls (it is not vacuously green)
        problems.append(f"the outbox scan found only {len(found)} outbox_enqueue calls: is it broken?")
    expected += found
    for where, name in expected:
        if name not in registered:
            problems.append(f"{where}: task name {name!r} is not a registered Celery task")
    return problems


def main() -> int:
    setup_django()
    problems = task_name_problems()
    for problem in problems:
        print(f"contract: {problem}", file=sys.stderr)
    if problems:
        print(f"check_contracts: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("check_contracts: task names resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
