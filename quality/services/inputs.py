"""Reading a recompute's answers: the coded (categorical and units) controls as integer tables, the
structured controls' answers as they are, both under the label names of the newest schema."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import connection

from annotation.workflow.selectors import quality as answers_selector
from projects.models import Project
from quality import engine
from quality.models import QualityState
from quality.snapshot_codec import decode, pair_key

from .common import safe, vocabulary_code
from .snapshots import base_snapshot, use_snapshot

if TYPE_CHECKING:
    from .job import Control, Job

MAX_DISTINCT_ANSWERS = 20_000  # above this, a control's answers are read as text instead of codes


def load(job: Job, state: QualityState, since) -> None:
    if state.snapshot is not None and state.snapshot_schema_version == job.run.schema_version:
        base = base_snapshot(job.project.id, state)
        delta = decode(bytes(state.snapshot_delta)) if state.snapshot_delta is not None else None
        use_snapshot(job, base, delta, consensus_only=not job.incremental)
    item, annotator, ms, per_control = read_coded(job, since if job.incremental else None)
    replace(job, item, annotator, ms, per_control, fresh=not job.incremental)
    structured_items = None
    if job.incremental:
        job.changed_items = set(item.tolist())
        structured_items = job.changed_items
    if any(c.adapter.kind == "structured" for c in job.controls.values()) and structured_items != set():
        for control in job.controls.values():
            if control.adapter.kind == "structured":
                control.structured = {}
        source = answers_selector.quality_answers(project=job.project, item_ids=structured_items)
        for row in source:
            for control in job.controls.values():
                if control.adapter.kind == "structured" and row.item_id not in job.gold_ids:
                    answer = safe(control.adapter.answer_of, row.result or {}, control.spec)
                    if answer not in (None, "", [], {}):
                        control.structured.setdefault(row.item_id, []).append((row.annotator_id, answer))


def read_coded(job: Job, since):
    """The answers of the coded (categorical and units) controls: item, annotator and active-time
    arrays, and per control (index of each answer's JSON text, the distinct texts). PostgreSQL:
    the distinct texts first, then one binary COPY of integers; elsewhere one streamed read."""
    names = [name for name, control in job.controls.items() if control.table is not None]
    if connection.vendor == "postgresql":
        texts = {
            name: answers_selector.quality_answer_texts(
                project=job.project, control=name, changed_since=since
            )
            for name in names
        }
        if all(len(t) <= MAX_DISTINCT_ANSWERS for t in texts.values()):
            arrays = answers_selector.quality_answer_codes(
                project=job.project,
                controls=[(name, texts[name]) for name in names],
                changed_since=since,
            )
            per_control = {name: (arrays[name], texts[name]) for name in names}
            return arrays["item"], arrays["annotator"], arrays["active_ms"], per_control
    rows = list(
        answers_selector.quality_answer_columns(project=job.project, controls=names, changed_since=since)
    )
    n = len(rows)
    columns = list(zip(*rows, strict=True)) if n else [()] * (3 + len(names))
    per_control = {}
    for position, name in enumerate(names):
        column = columns[3 + position]
        distinct = sorted({t for t in column if t is not None})
        index = {text: k for k, text in enumerate(distinct)}
        codes = np.fromiter((index.get(t, -1) if t is not None else -1 for t in column), np.int64, n)
        per_control[name] = (codes, distinct)
    return (
        np.fromiter(columns[0], np.int64, n),
        np.fromiter(columns[1], np.int64, n),
        np.fromiter(columns[2], np.int64, n),
        per_control,
    )


def replace(job: Job, item, annotator, ms, per_control, *, fresh: bool = False) -> None:
    """Put these answers into the tables, replacing earlier answers of the same (item, annotator).

    Each distinct answer text is parsed and labelled once (a million answers of a choice control
    have a handful of distinct texts); rows are expanded to (unit, label) pairs with numpy.
    """
    key = pair_key(item, annotator)
    job.delta_keys = np.union1d(job.delta_keys, key) if not fresh else np.zeros(0, dtype=np.int64)
    for name, (codes, texts) in per_control.items():
        control = job.controls[name]
        parsed = [labelled(control, text) for text in texts]
        per_code = np.array([len(pairs) for pairs in parsed] + [0], dtype=np.int64)  # [-1] -> 0
        pairs = np.array([pair for p in parsed for pair in p], dtype=np.int64).reshape(-1, 2)
        starts = np.concatenate(([0], np.cumsum(per_code[:-1])))
        counts = per_code[codes]
        first = np.repeat(starts[np.where(codes >= 0, codes, 0)], counts)
        offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        chosen = pairs[first + offset] if len(first) else np.zeros((0, 2), dtype=np.int64)
        table = control.table
        if not fresh and len(table):
            table = table.mask(~np.isin(pair_key(table.item, table.annotator), key))
        control.table = engine.Table(
            np.concatenate((table.item, np.repeat(item, counts))),
            np.concatenate((table.unit, chosen[:, 0].astype(np.int32))),
            np.concatenate((table.annotator, np.repeat(annotator, counts))),
            np.concatenate((table.label, chosen[:, 1].astype(np.int32))),
            table.labels,
            table.units,
        )
    act = job.activity
    if not fresh and len(act["item"]):
        keep = ~np.isin(pair_key(act["item"], act["annotator"]), key)
        act = {k: v[keep] for k, v in act.items()}
    job.activity = {
        "item": np.concatenate((act["item"], item)),
        "annotator": np.concatenate((act["annotator"], annotator)),
        "ms": np.concatenate((act["ms"], ms)),
    }


def labelled(control: Control, text: str | None) -> list[tuple[int, int]]:
    """(sub-unit code, label code) pairs of one answer (JSON text): none when unanswered."""
    if text is None:
        return []
    try:
        answer = json.loads(text)
    except ValueError:
        return []
    if control.renames:
        answer = renamed(answer, control.renames)
    table = control.table
    if control.adapter.kind == "categorical":
        label = safe(control.adapter.to_label, answer, control.spec)
        return [] if label is None else [(0, vocabulary_code(table.labels, label))]
    units = safe(control.adapter.to_units, answer, control.spec) or {}
    return [
        (vocabulary_code(table.units, str(u)), vocabulary_code(table.labels, str(lab)))
        for u, lab in sorted(units.items())
    ]


def label_renames(project: Project) -> dict[str, dict[str, str]]:
    """control -> old label -> its name in the newest schema, composed over the project's label
    migrations (renames and merges). Annotations keep the labels of the version they were made under;
    quality reads them under today's names. Split and deleted labels have no single new name: their
    items go back to review (annotation.workflow.services.queue.label_migration_apply) and, until then, their
    old answers count as unanswered for that control."""
    from projects.models import LabelMigration
    from projects.schema.migrate import plan_label_migration

    composed: dict[str, dict[str, str]] = {}
    migrations = (
        LabelMigration.objects.filter(project=project)
        .select_related("from_version", "to_version")
        .order_by("to_version__version")
    )
    for migration in migrations:
        renames = plan_label_migration(migration.from_version.definition, migration.operations).renames
        for control, mapping in renames.items():
            current = composed.setdefault(control, {})
            for old, new in list(current.items()):
                current[old] = mapping.get(new, new)
            for old, new in mapping.items():
                current.setdefault(old, new)
    return composed


def renamed(answer: Any, renames: dict[str, str]) -> Any:
    """An answer of a choice-like control with old label names replaced (in lists, paths, dict values)."""
    if isinstance(answer, str):
        return renames.get(answer, answer)
    if isinstance(answer, list):
        return [renamed(value, renames) for value in answer]
    if isinstance(answer, dict):
        return {key: renamed(value, renames) for key, value in answer.items()}
    return answer
