"""The template gallery as data: one JSON file per template in gallery/. Each holds

    {"key", "title", "summary", "media", "order", "example_item", "overlap", "settings", "schema",
     "guidelines"}

`schema` is a label schema (projects/schema validates it), `guidelines` Markdown, `settings` a
project settings object (projects/project_settings.py). tests/projects/test_project_templates.py
checks every file: it validates, and a project created from it serves its labeling page."""

import json
from functools import cache
from pathlib import Path
from typing import Any

GALLERY = Path(__file__).resolve().parent / "gallery"
REQUIRED_KEYS = ("key", "title", "summary", "media", "overlap", "settings", "schema", "guidelines")


@cache
def templates() -> tuple[dict[str, Any], ...]:
    """Every template, in gallery order."""
    found = []
    for path in sorted(GALLERY.glob("*.json")):
        template = json.loads(path.read_text(encoding="utf-8"))
        missing = [key for key in REQUIRED_KEYS if key not in template]
        if missing or template["key"] != path.stem:
            raise ValueError(f"{path.name}: missing {missing} or key is not the file name")
        found.append(template)
    return tuple(sorted(found, key=lambda t: (t.get("order", 99), t["key"])))


def template_get(key: str) -> dict[str, Any] | None:
    return next((t for t in templates() if t["key"] == key), None)
