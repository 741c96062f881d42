"""What changed between two published releases: items added, removed and relabelled, label counts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage

from core.exceptions import DomainError
from exports.models import Release
from projects import selectors as project_selectors

from .common import require_published


def release_diff(*, old: Release, new: Release, limit: int | None = None) -> dict[str, Any]:
    """What changed from `old` to `new` (two published releases of one project): items added,
    removed and relabelled (old and new labels, and why), and per-label count changes.

    Streams both releases' JSONL files in item-id order (a merge join: memory bounded by `limit`,
    the number of items listed per kind; the counts are always complete)."""
    require_published(old)
    require_published(new)
    if old.project_id != new.project_id:
        raise DomainError("not_found", "No such release.", status_code=404)
    limit = settings.EXPORTS_DIFF_MAX_ITEMS if limit is None else limit
    from exports.display import item_key, labels_text

    schema = project_selectors.schema_latest(project=new.project_id)
    definition = schema.definition if schema is not None else {}

    def named(row: dict) -> dict:
        return {
            "item_id": row["item_id"],
            "external_id": row["external_id"],
            "key": item_key(row["external_id"], row["lineage"].get("checksum"), row["item_id"]),
        }

    def listed(row: dict) -> dict:
        return {
            **named(row),
            "labels": row["labels"],
            "labels_text": labels_text(definition, row["labels"], row["data"]),
        }

    added, removed, relabelled = [], [], []
    totals = Counter()
    old_rows, new_rows = _jsonl_stream(old), _jsonl_stream(new)
    a, b = next(old_rows, None), next(new_rows, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a["item_id"] < b["item_id"]):
            totals["removed"] += 1
            if len(removed) < limit:
                removed.append(listed(a))
            a = next(old_rows, None)
        elif a is None or b["item_id"] < a["item_id"]:
            totals["added"] += 1
            if len(added) < limit:
                added.append(listed(b))
            b = next(new_rows, None)
        else:
            if a["labels"] != b["labels"]:
                totals["relabelled"] += 1
                if len(relabelled) < limit:
                    controls = sorted(
                        name
                        for name in set(a["labels"]) | set(b["labels"])
                        if a["labels"].get(name) != b["labels"].get(name)
                    )
                    old_text = labels_text(definition, a["labels"], a["data"])
                    new_text = labels_text(definition, b["labels"], b["data"])
                    relabelled.append(
                        {
                            **named(b),
                            "controls": controls,
                            "old": a["labels"],
                            "new": b["labels"],
                            "changes": [
                                {
                                    "control": name,
                                    "old": a["labels"].get(name),
                                    "new": b["labels"].get(name),
                                    "old_text": old_text.get(name, "(not answered)"),
                                    "new_text": new_text.get(name, "(not answered)"),
                                }
                                for name in controls
                            ],
                            "reasons": _reasons(a["lineage"], b["lineage"]),
                        }
                    )
            else:
                totals["unchanged"] += 1
            a, b = next(old_rows, None), next(new_rows, None)
    return {
        "old": old.number,
        "new": new.number,
        "totals": {key: totals[key] for key in ("added", "removed", "relabelled", "unchanged")},
        "added": added,
        "removed": removed,
        "relabelled": relabelled,
        "truncated": any(totals[k] > limit for k in ("added", "removed", "relabelled")),
        "label_counts": _label_count_changes(old.manifest, new.manifest),
    }


def _reasons(old: dict, new: dict) -> list[str]:
    reasons = []
    if old.get("schema_version") != new.get("schema_version"):
        reasons.append("label schema changed (migration)")
    if old.get("aggregation") != new.get("aggregation"):
        reasons.append("consensus method changed")
    if old.get("annotation_ids") != new.get("annotation_ids"):
        reasons.append("annotations added or removed")
    if old.get("review") != new.get("review"):
        reasons.append("review decision changed")
    if old.get("guideline_version") != new.get("guideline_version"):
        reasons.append("guidelines changed")
    return reasons or ["annotations revised or consensus recomputed"]


def _label_count_changes(old: dict, new: dict) -> dict[str, dict[str, dict[str, int]]]:
    before = (old.get("counts") or {}).get("labels", {})
    after = (new.get("counts") or {}).get("labels", {})
    out: dict[str, dict[str, dict[str, int]]] = {}
    for control in sorted(set(before) | set(after)):
        b, a = before.get(control, {}), after.get(control, {})
        changes = {
            label: {
                "old": b.get(label, 0),
                "new": a.get(label, 0),
                "change": a.get(label, 0) - b.get(label, 0),
            }
            for label in sorted(set(b) | set(a))
            if b.get(label, 0) != a.get(label, 0)
        }
        if changes:
            out[control] = changes
    return out


def _jsonl_stream(release: Release) -> Iterator[dict]:
    """The release's JSONL records in item-id order: a heap merge of its per-split files."""
    import heapq

    import orjson

    paths = [f["path"] for f in release.manifest["files"] if re.match(r"^jsonl/[^/]+\.jsonl$", f["path"])]

    def lines(path: str) -> Iterator[tuple[int, dict]]:
        with default_storage.open(f"{release.storage_prefix}{path}", "rb") as handle:
            for line in handle:
                row = orjson.loads(line)
                yield (
                    row["item_id"],
                    {
                        "item_id": row["item_id"],
                        "external_id": row.get("external_id"),
                        "data": row.get("data") or {},
                        "labels": row["labels"],
                        "lineage": row["lineage"],
                    },
                )

    for _, row in heapq.merge(*(lines(p) for p in paths), key=lambda pair: pair[0]):
        yield row
