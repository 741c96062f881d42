"""Contracts as code: checks `make lint` runs (and tests/core/test_contracts.py reuses).

1. Task names: every name in core.task_names, in the beat schedule, and passed to `outbox_enqueue`
   anywhere in the code (found by scanning the source with ast, so every app is covered whoever owns it)
   is a task registered in the Celery app after autodiscovery. A typo would leave outbox rows pending
   for ever; a moved module without `name=` would orphan the rows already written.

2. Websocket events: every event type sent in the code is declared in an `<app>/events.py` (core/events.py)
   and has an audience in projects.access.FEED_EVENT_AUDIENCE; docs/EVENTS.md and
   frontend/src/realtime/events.json (the catalogue, generated from the events modules) are current; the
   frontend's SERVER_EVENT_TYPES (frontend/src/realtime/project-feed.ts) lists exactly the declared types.

Usage: .venv/bin/python scripts/check_contracts.py           (exit status 1 and one line per problem)
       .venv/bin/python scripts/check_contracts.py --write   (regenerate the event catalogue first)
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import sys
import typing
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("config", "core", "accounts", "projects", "annotation", "quality", "exports", "governance")


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


# Packages whose tasks do not set `name=` yet: none (annotation's tasks set theirs since issue #15).
IMPLICIT_NAMES_ALLOWED: tuple[str, ...] = ()


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
    # An app may keep its own task_names module for its decorators, but only with names the registry has.
    registry = set(task_names.all_task_names().values())
    for module_name, path in source_files():
        if module_name.endswith("task_names") and module_name != "core.task_names":
            for key, value in vars(importlib.import_module(module_name)).items():
                if key.isupper() and isinstance(value, str) and value not in registry:
                    where = path.relative_to(ROOT)
                    problems.append(f"{where}: {key} = {value!r} is not in core/task_names.py")
    if len(found) < 10:  # the scan finds the calls (it is not vacuously green)
        problems.append(f"the outbox scan found only {len(found)} outbox_enqueue calls: is it broken?")
    expected += found
    for where, name in expected:
        if name not in registered:
            problems.append(f"{where}: task name {name!r} is not a registered Celery task")
    return problems


# --- 2. websocket events ---------------------------------------------------------------------------

EVENTS_MD = ROOT / "docs" / "EVENTS.md"
EVENTS_JSON = ROOT / "frontend" / "src" / "realtime" / "events.json"
FEED_TS = ROOT / "frontend" / "src" / "realtime" / "project-feed.ts"
EVENT_TYPE = re.compile(r"^[a-z_]+\.[a-z_]+$")
SENDERS = {"broadcast", "broadcast_on_commit", "_announce"}  # (group or project, event type, ...)


def _type_label(annotation) -> str:
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return re.sub(r"\b(typing|builtins)\.", "", str(annotation)).replace("NoneType", "None")


def _fields(payload) -> dict[str, str]:
    return {name: _type_label(hint) for name, hint in typing.get_type_hints(payload).items()}


def event_catalogue() -> list[dict]:
    """Every declared event, from the events modules core.events.EVENT_MODULES names, in that order."""
    from core.events import EVENT_MODULES
    from projects.access import FEED_EVENT_AUDIENCE

    catalogue = []
    for module_name in EVENT_MODULES:
        for event in importlib.import_module(module_name).EVENTS:
            audience = FEED_EVENT_AUDIENCE.get(event.type)
            catalogue.append(
                {
                    "type": event.type,
                    "module": module_name,
                    "when": event.when,
                    "sent": event.sent,
                    "audience": str(
                        audience.value if hasattr(audience, "value") else audience or "every member"
                    ),
                    "payload": event.payload.__name__,
                    "fields": _fields(event.payload),
                }
            )
    return catalogue


def render_events_json(catalogue: list[dict]) -> str:
    return (
        json.dumps({"generated_by": "scripts/check_contracts.py --write", "events": catalogue}, indent=2)
        + "\n"
    )


def render_events_md(catalogue: list[dict]) -> str:
    lines = [
        "# Websocket events",
        "",
        "<!-- Generated by `.venv/bin/python scripts/check_contracts.py --write` from the apps' events.py;",
        "     `make lint` fails when this file is stale. Do not edit by hand. -->",
        "",
        'The project feed (`/ws/projects/<id>/`, docs/ARCHITECTURE.md) sends `{"type": ..., "data": ...}`.',
        "Each type is declared once, with its payload, in its app's `events.py` (core/events.py explains the",
        "contract); who hears it is `projects.access.FEED_EVENT_AUDIENCE`. Sent *on commit* unless marked",
        "*now* (progress of a long job, outside its transaction). The same catalogue as JSON:",
        "`frontend/src/realtime/events.json`.",
        "",
        "| type | when | declared in | audience (access action) | sent | data |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for event in catalogue:
        fields = ", ".join(f"`{name}`: {kind}" for name, kind in event["fields"].items())
        lines.append(
            f"| `{event['type']}` | {event['when']} | `{event['module']}` | {event['audience']} | "
            f"{event['sent']} | {fields} |"
        )
    return "\n".join(lines) + "\n"


def events_sent_in_the_code() -> dict[str, str]:
    """Event type -> where, for every literal or module constant passed to a feed sender."""
    sent: dict[str, str] = {}
    for module_name, path in source_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            candidates = node.args[:3] if func in SENDERS else []
            if func == "send_json" and node.args and isinstance(node.args[0], ast.Dict):  # consumers
                candidates = [v for k, v in zip(node.args[0].keys, node.args[0].values, strict=True)
                              if isinstance(k, ast.Constant) and k.value == "type"]  # fmt: skip
            for arg in candidates:
                value = None
                if isinstance(arg, ast.Constant):
                    value = arg.value
                elif isinstance(arg, ast.Name | ast.Attribute) and ast.unparse(arg).split(".")[-1].isupper():
                    try:
                        value = eval(ast.unparse(arg), dict(vars(importlib.import_module(module_name))))  # noqa: S307
                    except Exception:  # a local name: not an event type constant
                        value = None
                if isinstance(value, str) and EVENT_TYPE.match(value):
                    sent.setdefault(value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return sent


def frontend_event_types() -> tuple[set[str], set[str]]:
    """(SERVER_EVENT_TYPES, the keys of FeedEventData) as written in project-feed.ts."""
    text = FEED_TS.read_text()
    listed = re.search(r"SERVER_EVENT_TYPES\s*=\s*\[(.*?)\]", text, re.S)
    decoded = re.search(r"interface FeedEventData\s*\{(.*?)\n\}", text, re.S)
    server = set(re.findall(r'"([a-z_]+\.[a-z_]+)"', listed.group(1))) if listed else set()
    known = set(re.findall(r'^\s*"([a-z_]+\.[a-z_]+)":', decoded.group(1), re.M)) if decoded else set()
    return server, known


def event_problems() -> list[str]:
    from projects.access import FEED_EVENT_AUDIENCE

    problems = []
    catalogue = event_catalogue()
    declared = [event["type"] for event in catalogue]
    direct = {event["type"] for event in catalogue if event["sent"] == "to the socket"}  # not broadcast
    for event_type in sorted({t for t in declared if declared.count(t) > 1}):
        problems.append(f"event {event_type!r} is declared twice")
    for event_type, where in sorted(events_sent_in_the_code().items()):
        if event_type not in declared:
            problems.append(f"{where}: event {event_type!r} is sent but declared in no events.py")
    for event_type in declared:
        if event_type not in direct and event_type not in FEED_EVENT_AUDIENCE:
            problems.append(f"event {event_type!r} has no audience in projects.access.FEED_EVENT_AUDIENCE")
    for event_type in sorted(set(FEED_EVENT_AUDIENCE) - set(declared)):
        problems.append(f"FEED_EVENT_AUDIENCE lists {event_type!r}, which no events.py declares")
    for path, expected in (
        (EVENTS_MD, render_events_md(catalogue)),
        (EVENTS_JSON, render_events_json(catalogue)),
    ):
        if not path.exists() or path.read_text() != expected:
            problems.append(
                f"{path.relative_to(ROOT)} is stale: run .venv/bin/python scripts/check_contracts.py --write"
            )
    server, known = frontend_event_types()
    feed = FEED_TS.relative_to(ROOT)
    for event_type in sorted(set(declared) - server):
        problems.append(f"{feed}: SERVER_EVENT_TYPES misses {event_type!r}")
    for event_type in sorted(server - set(declared)):
        problems.append(f"{feed}: SERVER_EVENT_TYPES lists {event_type!r}, which no events.py declares")
    for event_type in sorted(known - set(declared)):
        problems.append(f"{feed}: FeedEventData decodes {event_type!r}, which no events.py declares")
    return problems


def write_catalogue() -> None:
    catalogue = event_catalogue()
    EVENTS_MD.write_text(render_events_md(catalogue))
    EVENTS_JSON.write_text(render_events_json(catalogue))


def main() -> int:
    setup_django()
    if "--write" in sys.argv[1:]:
        write_catalogue()
    problems = task_name_problems() + event_problems()
    for problem in problems:
        print(f"contract: {problem}", file=sys.stderr)
    if problems:
        print(f"check_contracts: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("check_contracts: task names resolve; events declared, catalogued and known to the frontend")
    return 0


if __name__ == "__main__":
    sys.exit(main())
