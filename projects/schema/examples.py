"""The example schemas of docs/SCHEMA.md, for the schema editor's "start from an example" menu. Pure.

docs/SCHEMA.md is the single source: every `<!-- example: name -->` block there is a complete
`{"schema", "data", "result"}` that the test suite validates, so the menu can never offer a schema
that does not pass. The title is the `###` heading the block sits under.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from .controls import CONTROLS

DOCS_PATH = Path(__file__).resolve().parents[2] / "docs" / "SCHEMA.md"
_BLOCK = re.compile(r"<!-- example: (\w+) -->\n```json\n(.*?)\n```", re.DOTALL)
_HEADING = re.compile(r"^### (.+)$", re.MULTILINE)


def parse_examples(markdown: str) -> list[dict]:
    """Every example block, in document order: [{"name", "title", "kind", "schema"}].

    `kind` is "control" for the one-control examples (named after the control type) and
    "use_case" for the others.
    """
    headings = [(match.start(), match.group(1).strip().strip("`")) for match in _HEADING.finditer(markdown)]
    examples = []
    for match in _BLOCK.finditer(markdown):
        name = match.group(1)
        title = next((text for start, text in reversed(headings) if start < match.start()), name)
        examples.append(
            {
                "name": name,
                "title": title,
                "kind": "control" if name in CONTROLS else "use_case",
                "schema": json.loads(match.group(2))["schema"],
            }
        )
    return examples


def schema_examples(path: Path = DOCS_PATH) -> list[dict]:
    """The examples of `path` (docs/SCHEMA.md), re-read when the file changes; [] when it is missing."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return []
    return _cached(str(path), mtime)


@lru_cache(maxsize=2)
def _cached(path: str, mtime: float) -> list[dict]:
    return parse_examples(Path(path).read_text(encoding="utf-8"))
