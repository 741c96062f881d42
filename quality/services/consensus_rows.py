"""The consensus rows a recompute writes: which items moved, the upsert, and the rows a full run
drops."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import connection

from quality import engine
from quality.models import ConsensusResult

if TYPE_CHECKING:
    from .job import Job

_UPSERT_COLUMNS = (
    "project_id, item_id, control, method, method_version, answer, confidence, agreement, annotations, run_id"
)


def write_consensus(job: Job, answers_by_control: dict[str, dict[int, Any]]) -> None:
    """Upsert the consensus rows a run produced (every item, or only the ones that moved: see
    `_touched`); full runs also drop rows of items that no longer have answers."""
    job.consensus = answers_by_control
    rows = []
    for name, answers in answers_by_control.items():
        control = job.controls[name]
        version = engine.METHOD_VERSIONS.get(control.method, "1")
        job.written[name] = sorted(answers)
        for item in job.written[name]:
            answer, confidence, agreement, count = answers[item]
            rows.append((item, name, control.method, version, answer, confidence, agreement, count))
    if not job.incremental:
        stale = ConsensusResult.objects.filter(project=job.project)
        ConsensusResult.objects.filter(pk__in=stale_ids(stale, job.new_cons, answers_by_control)).delete()
    consensus_upsert(job.project.id, job.run.id, rows)


def touched(job: Job, name: str) -> set[int] | None:
    """The items whose consensus row must be written, or None for every item. Incremental runs:
    the changed items plus, for model-based methods whose estimates move with every run, the items
    whose label or confidence moved since the snapshot. Full runs: the moved ones too when the
    snapshot has the previous consensus, else everything."""
    before, after = job.prev_cons.get(name), job.new_cons.get(name)
    if before is None or after is None:
        return set(job.changed_items) if job.incremental else None
    touched = set(job.changed_items)
    (old_items, old_labels, old_conf), (items, labels, conf) = before, after
    if len(old_items):
        position = np.clip(np.searchsorted(old_items, items), 0, len(old_items) - 1)
        same = (old_items[position] == items) & (old_labels[position] == labels)
        same &= np.abs(old_conf[position] - conf) < 0.005
    else:
        same = np.zeros(len(items), dtype=bool)
    touched.update(items[~same].tolist())
    return touched


def consensus_upsert(project_id: int, run_id: int, rows: list[tuple]) -> None:
    """Insert or replace consensus rows (item, control, method, version, answer, confidence,
    agreement, answers). PostgreSQL: COPY into a temporary table and one INSERT ... ON CONFLICT DO
    UPDATE (200,000 rows in about a second); elsewhere bulk_create with update_conflicts."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        ConsensusResult.objects.bulk_create(
            [
                ConsensusResult(
                    project_id=project_id,
                    item_id=item,
                    control=name,
                    method=method,
                    method_version=version,
                    answer=answer,
                    confidence=confidence,
                    agreement=agreement,
                    annotations=count,
                    run_id=run_id,
                )
                for item, name, method, version, answer, confidence, agreement, count in rows
            ],
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["item", "control"],
            update_fields=[
                "method",
                "method_version",
                "answer",
                "confidence",
                "agreement",
                "annotations",
                "run",
                "updated_at",
            ],
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE quality_consensus_in (project_id bigint, item_id bigint, control text, "
            "method text, method_version text, answer jsonb, confidence double precision, "
            "agreement double precision, annotations integer, run_id bigint) ON COMMIT DROP"
        )
        with cursor.cursor.copy(f"COPY quality_consensus_in ({_UPSERT_COLUMNS}) FROM STDIN") as copy:
            for item, name, method, version, answer, confidence, agreement, count in rows:
                copy.write_row(
                    (
                        project_id,
                        item,
                        name,
                        method,
                        version,
                        json.dumps(answer),
                        confidence,
                        agreement,
                        count,
                        run_id,
                    )
                )
        cursor.execute(
            f"INSERT INTO quality_consensusresult ({_UPSERT_COLUMNS}, updated_at) "  # noqa: S608 (fixed strings)
            f"SELECT {_UPSERT_COLUMNS}, now() FROM quality_consensus_in "
            "ON CONFLICT (item_id, control) DO UPDATE SET method = EXCLUDED.method, "
            "method_version = EXCLUDED.method_version, answer = EXCLUDED.answer, "
            "confidence = EXCLUDED.confidence, agreement = EXCLUDED.agreement, "
            "annotations = EXCLUDED.annotations, run_id = EXCLUDED.run_id, updated_at = EXCLUDED.updated_at"
        )
        cursor.execute("DROP TABLE quality_consensus_in")


def stale_ids(
    rows, coded_items: dict[str, tuple], answers_by_control: dict[str, dict[int, Any]]
) -> list[int]:
    """Consensus rows of the project that a full run did not produce (control removed, item excluded
    or without answers any more)."""
    produced: dict[str, set[int]] = {name: set(answers) for name, answers in answers_by_control.items()}
    for name, (items, labels, _) in coded_items.items():
        produced[name] = set(items[labels >= 0].tolist())
    stale = []
    for pk, control, item in rows.values_list("id", "control", "item_id").iterator(chunk_size=10_000):
        if item not in produced.get(control, ()):
            stale.append(pk)
    return stale
