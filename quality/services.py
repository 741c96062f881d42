"""Quality services: schedule and run recomputes, gold standards. Every rule is one function here.

- `quality_schedule`: called by the annotation services in the transaction that changed an
  annotation. One conditional UPDATE; only the first change of a burst enqueues a job, through the
  durable outbox (core.services.outbox_enqueue), so a broker outage delays the recompute, never
  loses it.
- `quality_recompute`: the worker's job. Debounced, serialised per project (advisory lock),
  incremental when it can be (categorical answers kept as coded arrays in QualityState.snapshot),
  full otherwise. It stores a QualityRun stamped with what it saw, rewrites the ConsensusResult rows
  that changed, scores gold answers, pauses annotators below the gold threshold, raises the gold
  rate of new and weak annotators, escalates items with low agreement, evaluates model predictions,
  and announces `quality.updated` after commit.
- `gold_set` / `gold_promote` / `gold_remove`: reference answers of gold items.

Reads go through annotation.workflow.selectors.quality; item flags and escalations through the annotation
services; pausing through the projects services (STYLE.md: never change another app's models).
"""

from __future__ import annotations

import io
import json
import logging
import statistics
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from annotation.workflow.selectors import quality as answers_selector
from core.exceptions import DomainError
from core.realtime import broadcast_on_commit, project_group
from projects.models import LabelSchemaVersion, Project, ProjectMembership
from projects.quality_settings import QualitySettings, control_counts, quality_settings
from quality import engine
from quality.answers import adapter_for
from quality.metrics.coding import count_distinct

from .models import ConsensusResult, GoldStandard, QualityRun, QualityState
from .scheduling import quality_schedule

logger = logging.getLogger(__name__)

CHANGE_MARGIN = timedelta(seconds=60)  # incremental runs re-read this much before the last run
RUNS_KEPT = 200
ESCALATIONS_PER_RUN = 1000
SNAPSHOT_FORMAT = 1
REBASE_FRACTION = 0.2  # an incremental run writes a new base once this share of rows changed since
WARM_GROWTH = 1.1  # warm starts while the answers grew by at most 10% since the last cold fit
MAX_DISTINCT_ANSWERS = 20_000  # above this, a control's answers are read as text instead of codes


# --- scheduling -----------------------------------------------------------------------------------------


@transaction.atomic
def quality_request_full(*, project: Project, actor) -> bool:
    """A manager's "Recompute now": a full recompute (refits every model) in the worker. Audited."""
    from core.audit import audit_record

    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="quality.recompute_requested",
        target=project,
        changes={},
    )
    return quality_schedule(project_id=project.id, full=True)


def quality_recompute(*, project_id: int) -> QualityRun | None:
    """The job: wait out the debounce, take the pending flag, compute, store. Safe to run twice."""
    state = QualityState.objects.filter(project_id=project_id).first()
    if state is None or not Project.objects.filter(pk=project_id).exists():
        return None
    wait = settings.QUALITY_DEBOUNCE_SECONDS
    if wait > 0 and state.requested_at is not None:
        remaining = wait - (timezone.now() - state.requested_at).total_seconds()
        if remaining > 0:
            time.sleep(min(remaining, wait))
    with transaction.atomic():
        state = QualityState.objects.select_for_update().get(project_id=project_id)
        full = state.full_requested
        QualityState.objects.filter(project_id=project_id).update(pending=False, full_requested=False)
    return quality_compute(project_id=project_id, full=full)


@transaction.atomic
def quality_compute(*, project_id: int, full: bool = False) -> QualityRun | None:
    """Compute and store a project's quality report (see the module docstring)."""
    _project_lock(project_id)
    project = Project.objects.select_related("organisation").filter(pk=project_id).first()
    if project is None:
        return None
    schema = LabelSchemaVersion.objects.filter(project=project).order_by("-version").first()
    if schema is None:
        return None
    state = QualityState.objects.get_or_create(project_id=project_id)[0]
    started = timezone.now()
    clock = time.perf_counter()
    incremental = (
        not full
        and state.snapshot is not None
        and state.snapshot_at is not None
        and state.snapshot_schema_version == schema.version
        and started - state.snapshot_at < timedelta(seconds=settings.QUALITY_FULL_EVERY_SECONDS)
    )
    run = QualityRun.objects.create(
        project=project,
        kind=QualityRun.Kind.INCREMENTAL if incremental else QualityRun.Kind.FULL,
        started_at=started,
        schema_version=schema.version,
        last_revision_id=answers_selector.newest_revision_id(),
        seen_at=started,
    )
    knobs = quality_settings(project)
    job = _Job(project, schema.definition, knobs, run, incremental)
    previous = (
        QualityRun.objects.filter(project=project, status=QualityRun.Status.DONE).order_by("-id").first()
    )
    job.previous_report = previous.report if previous else {}
    job.load(state, since=(state.snapshot_at - CHANGE_MARGIN) if incremental else None)
    report = job.compute()
    run.report = report
    run.methods = report["run"]["methods"]
    run.annotations = report["run"]["seen"]["annotations"]
    run.items = report["run"]["seen"]["items"]
    run.status = QualityRun.Status.DONE
    run.finished_at = timezone.now()
    run.duration_ms = int((time.perf_counter() - clock) * 1000)
    report["run"].update(
        {
            "id": run.id,
            "status": run.status,
            "finished_at": run.finished_at.isoformat(),
            "duration_ms": run.duration_ms,
        }
    )
    run.save()
    job.save_snapshot(state, started, schema.version)
    stale = list(
        QualityRun.objects.filter(project=project).order_by("-id").values_list("id", flat=True)[RUNS_KEPT:]
    )
    if stale:
        QualityRun.objects.filter(pk__in=stale).delete()
    broadcast_on_commit(
        project_group(project.id),
        "quality.updated",
        {
            "project_id": project.id,
            "run_id": run.id,
            "kind": run.kind,
            "finished_at": run.finished_at.isoformat(),
        },
    )
    return run


def _project_lock(project_id: int) -> None:
    """One recompute per project at a time (PostgreSQL advisory lock, released at commit). SQLite
    serialises writers anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x7E55, project_id])


# --- the computation --------------------------------------------------------------------------------------


@dataclass
class _Control:
    spec: dict
    adapter: Any
    method: str
    level: str = "nominal"  # level of measurement (the adapter's, or the schema's for ratings)
    counts: bool = True  # counts for escalation, gold pass/fail and pausing (free text: not by default)
    table: engine.Table | None = None  # categorical and units kinds
    renames: dict[str, str] = field(default_factory=dict)  # old label -> label now (label migrations)
    structured: dict[int, list[tuple[int, Any]]] = field(
        default_factory=dict
    )  # item -> [(annotator, answer)]


class _Job:
    """One recompute: the answers it saw, per control, and everything derived from them."""

    def __init__(
        self, project: Project, definition: dict, knobs: QualitySettings, run: QualityRun, incremental: bool
    ):
        self.project = project
        self.definition = definition
        self.knobs = knobs
        self.run = run
        self.incremental = incremental
        self.controls: dict[str, _Control] = {}
        for spec in definition.get("controls", []):
            adapter = adapter_for(spec)
            if adapter is None:
                continue
            method = knobs.methods.get(spec["name"])
            if method not in adapter.methods:
                method = adapter.methods[0]
            control = _Control(
                spec,
                adapter,
                method,
                level=adapter.level_of(spec),
                counts=control_counts(knobs, spec["name"], free_text=adapter.free_text),
            )
            if adapter.kind in ("categorical", "units"):
                labels = list(adapter.labels(spec) or [])
                control.table = engine.Table.empty(labels)
            self.controls[spec["name"]] = control
        for name, renames in _label_renames(project).items():
            if name in self.controls:
                self.controls[name].renames = renames
        self.gold_ids = set(answers_selector.gold_items(project=project))
        self.gold_refs: dict[int, dict] = {
            item: result
            for item, result in GoldStandard.objects.filter(project=project).values_list("item_id", "result")
            if item in self.gold_ids and isinstance(result, dict)
        }
        self.activity = {
            "item": np.zeros(0, np.int64),
            "annotator": np.zeros(0, np.int64),
            "ms": np.zeros(0, np.int64),
        }
        self.changed_items: set[int] = set()
        self.previous_report: dict = {}
        self.prev_cons: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.new_cons: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.consensus: dict[str, dict[int, Any]] = {}
        self.warm: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.new_warm: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.cold: dict[str, int] = {}  # answers the last cold-started model fit saw, per control
        self.delta_keys = np.zeros(0, dtype=np.int64)  # (item, annotator) pairs changed since the base
        self.cons_written: dict[str, np.ndarray] = {}  # items whose consensus rows changed since the base
        self.written: dict[str, list[int]] = {}  # items whose consensus rows this run writes

    # -- reading ----------------------------------------------------------------------------------------

    def load(self, state: QualityState, since) -> None:
        if state.snapshot is not None and state.snapshot_schema_version == self.run.schema_version:
            base = _base_snapshot(self.project.id, state)
            delta = _decode(bytes(state.snapshot_delta)) if state.snapshot_delta is not None else None
            self._use_snapshot(base, delta, consensus_only=not self.incremental)
        item, annotator, ms, per_control = self._read_coded(since if self.incremental else None)
        self._replace(item, annotator, ms, per_control, fresh=not self.incremental)
        structured_items = None
        if self.incremental:
            self.changed_items = set(item.tolist())
            structured_items = self.changed_items
        if any(c.adapter.kind == "structured" for c in self.controls.values()) and structured_items != set():
            for control in self.controls.values():
                if control.adapter.kind == "structured":
                    control.structured = {}
            source = answers_selector.quality_answers(project=self.project, item_ids=structured_items)
            for row in source:
                for control in self.controls.values():
                    if control.adapter.kind == "structured" and row.item_id not in self.gold_ids:
                        answer = _safe(control.adapter.answer_of, row.result or {}, control.spec)
                        if answer not in (None, "", [], {}):
                            control.structured.setdefault(row.item_id, []).append((row.annotator_id, answer))

    def _read_coded(self, since):
        """The answers of the coded (categorical and units) controls: item, annotator and active-time
        arrays, and per control (index of each answer's JSON text, the distinct texts). PostgreSQL:
        the distinct texts first, then one binary COPY of integers; elsewhere one streamed read."""
        names = [name for name, control in self.controls.items() if control.table is not None]
        if connection.vendor == "postgresql":
            texts = {
                name: answers_selector.quality_answer_texts(
                    project=self.project, control=name, changed_since=since
                )
                for name in names
            }
            if all(len(t) <= MAX_DISTINCT_ANSWERS for t in texts.values()):
                arrays = answers_selector.quality_answer_codes(
                    project=self.project,
                    controls=[(name, texts[name]) for name in names],
                    changed_since=since,
                )
                per_control = {name: (arrays[name], texts[name]) for name in names}
                return arrays["item"], arrays["annotator"], arrays["active_ms"], per_control
        rows = list(
            answers_selector.quality_answer_columns(project=self.project, controls=names, changed_since=since)
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

    def _replace(self, item, annotator, ms, per_control, *, fresh: bool = False) -> None:
        """Put these answers into the tables, replacing earlier answers of the same (item, annotator).

        Each distinct answer text is parsed and labelled once (a million answers of a choice control
        have a handful of distinct texts); rows are expanded to (unit, label) pairs with numpy.
        """
        key = _pair_key(item, annotator)
        self.delta_keys = np.union1d(self.delta_keys, key) if not fresh else np.zeros(0, dtype=np.int64)
        for name, (codes, texts) in per_control.items():
            control = self.controls[name]
            parsed = [self._labelled(control, text) for text in texts]
            per_code = np.array([len(pairs) for pairs in parsed] + [0], dtype=np.int64)  # [-1] -> 0
            pairs = np.array([pair for p in parsed for pair in p], dtype=np.int64).reshape(-1, 2)
            starts = np.concatenate(([0], np.cumsum(per_code[:-1])))
            counts = per_code[codes]
            first = np.repeat(starts[np.where(codes >= 0, codes, 0)], counts)
            offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
            chosen = pairs[first + offset] if len(first) else np.zeros((0, 2), dtype=np.int64)
            table = control.table
            if not fresh and len(table):
                table = table.mask(~np.isin(_pair_key(table.item, table.annotator), key))
            control.table = engine.Table(
                np.concatenate((table.item, np.repeat(item, counts))),
                np.concatenate((table.unit, chosen[:, 0].astype(np.int32))),
                np.concatenate((table.annotator, np.repeat(annotator, counts))),
                np.concatenate((table.label, chosen[:, 1].astype(np.int32))),
                table.labels,
                table.units,
            )
        act = self.activity
        if not fresh and len(act["item"]):
            keep = ~np.isin(_pair_key(act["item"], act["annotator"]), key)
            act = {k: v[keep] for k, v in act.items()}
        self.activity = {
            "item": np.concatenate((act["item"], item)),
            "annotator": np.concatenate((act["annotator"], annotator)),
            "ms": np.concatenate((act["ms"], ms)),
        }

    @staticmethod
    def _labelled(control: _Control, text: str | None) -> list[tuple[int, int]]:
        """(sub-unit code, label code) pairs of one answer (JSON text): none when unanswered."""
        if text is None:
            return []
        try:
            answer = json.loads(text)
        except ValueError:
            return []
        if control.renames:
            answer = _renamed(answer, control.renames)
        table = control.table
        if control.adapter.kind == "categorical":
            label = _safe(control.adapter.to_label, answer, control.spec)
            return [] if label is None else [(0, _code(table.labels, label))]
        units = _safe(control.adapter.to_units, answer, control.spec) or {}
        return [
            (_code(table.units, str(u)), _code(table.labels, str(lab))) for u, lab in sorted(units.items())
        ]

    # -- snapshot ---------------------------------------------------------------------------------------

    def save_snapshot(self, state: QualityState, seen_at, schema_version: int) -> None:
        """Full runs (and incremental runs whose changes since the base grew past REBASE_FRACTION)
        write a new base; other incremental runs write only the delta: the current rows of every
        (item, annotator) changed since the base, and the consensus rows written since."""
        rows = sum(len(c.table) for c in self.controls.values() if c.table is not None)
        changed = sum(
            int(np.isin(_pair_key(c.table.item, c.table.annotator), self.delta_keys).sum())
            for c in self.controls.values()
            if c.table is not None and len(self.delta_keys)
        )
        fields = ["snapshot_delta", "snapshot_at", "snapshot_schema_version", "updated_at"]
        if not self.incremental or state.snapshot is None or changed > REBASE_FRACTION * max(rows, 1):
            fields += ["snapshot", "snapshot_base"]  # the base (megabytes) is written only when it changes
            state.snapshot, arrays, meta = self._dump_base()
            state.snapshot_delta = None
            # The writing run's id names the base: unique even if this transaction rolls back, so
            # the in-memory copy below can never stand for another base.
            state.snapshot_base = self.run.id
            _cache_base(self.project.id, self.run.id, {"data": _Plain(arrays), "meta": meta})
        else:
            state.snapshot_delta = self._dump_delta()
        state.snapshot_at = seen_at
        state.snapshot_schema_version = schema_version
        # Only these fields: `pending` and `full_requested` belong to the scheduler and may have
        # changed since this run started.
        state.save(update_fields=fields)

    def _dump_base(self) -> tuple[bytes, dict, dict]:
        arrays: dict[str, np.ndarray] = {f"act_{k}": v for k, v in self.activity.items()}
        meta: dict[str, Any] = {"format": SNAPSHOT_FORMAT, "controls": {}}
        for name, control in self.controls.items():
            if control.table is None:
                continue
            t = control.table
            arrays.update(_table_arrays(name, t))
            meta["controls"][name] = {
                "labels": t.labels,
                "units": t.units,
                "method": control.method,
                "cold_answers": self.cold.get(name, 0),
            }
            warm = self.new_warm.get(name) or self.warm.get(name)
            if warm is not None:
                arrays[f"{name}__warm_keys"], arrays[f"{name}__warm_post"] = warm
            if name in self.new_cons:
                arrays.update(_cons_arrays(name, self.new_cons[name]))
        return _encode(arrays, meta), arrays, meta

    def _dump_delta(self) -> bytes:
        keys = self.delta_keys
        act = self.activity
        in_delta = np.isin(_pair_key(act["item"], act["annotator"]), keys)
        arrays: dict[str, np.ndarray] = {"keys": keys, **{f"act_{k}": v[in_delta] for k, v in act.items()}}
        meta: dict[str, Any] = {"format": SNAPSHOT_FORMAT, "controls": {}}
        for name, control in self.controls.items():
            if control.table is None:
                continue
            t = control.table
            arrays.update(_table_arrays(name, t.mask(np.isin(_pair_key(t.item, t.annotator), keys))))
            meta["controls"][name] = {"labels": t.labels, "units": t.units, "method": control.method}
            if name in self.new_cons:
                items, labels, conf = self.new_cons[name]
                written = np.union1d(
                    self.cons_written.get(name, np.zeros(0, np.int64)), self.written.get(name, [])
                )
                pick = np.isin(items, written)
                arrays.update(_cons_arrays(name, (items[pick], labels[pick], conf[pick])))
        return _encode(arrays, meta)

    def _use_snapshot(self, base: dict, delta: dict | None, *, consensus_only: bool) -> None:
        """Start from the stored base, with the delta's rows laid over it."""
        data, meta = base["data"], base["meta"]
        delta_data = delta["data"] if delta else None
        delta_meta = delta["meta"] if delta else {"controls": {}}
        if delta_data is not None:
            self.delta_keys = delta_data["keys"]
        if not consensus_only:
            act = {k: data[f"act_{k}"] for k in ("item", "annotator", "ms")}
            if delta_data is not None:
                keep = ~np.isin(_pair_key(act["item"], act["annotator"]), self.delta_keys)
                act = {k: np.concatenate((v[keep], delta_data[f"act_{k}"])) for k, v in act.items()}
            self.activity = act
        for name, control in self.controls.items():
            stored = meta["controls"].get(name)
            if control.table is None or stored is None or stored.get("method") != control.method:
                continue
            cons = _cons_of(data, name)
            if cons is not None and delta_data is not None and f"{name}__cons_item" in delta_data:
                cons = _overlay(cons, _cons_of(delta_data, name))
                self.cons_written[name] = delta_data[f"{name}__cons_item"]
            if cons is not None:
                self.prev_cons[name] = cons
            if consensus_only:
                continue
            vocab = delta_meta["controls"].get(name) or stored
            table = engine.Table(
                data[f"{name}__item"],
                data[f"{name}__unit"],
                data[f"{name}__annotator"],
                data[f"{name}__label"],
                list(vocab["labels"]),
                list(vocab["units"]),
            )
            if delta_data is not None and f"{name}__item" in delta_data:
                table = table.mask(~np.isin(_pair_key(table.item, table.annotator), self.delta_keys))
                table = engine.Table(
                    np.concatenate((table.item, delta_data[f"{name}__item"])),
                    np.concatenate((table.unit, delta_data[f"{name}__unit"])),
                    np.concatenate((table.annotator, delta_data[f"{name}__annotator"])),
                    np.concatenate((table.label, delta_data[f"{name}__label"])),
                    table.labels,
                    table.units,
                )
            control.table = table
            if f"{name}__warm_keys" in data:
                self.warm[name] = (data[f"{name}__warm_keys"], data[f"{name}__warm_post"])
                self.cold[name] = int(stored.get("cold_answers", 0))

    # -- computing --------------------------------------------------------------------------------------

    def compute(self) -> dict:
        report: dict[str, Any] = {
            "run": {
                "id": self.run.id,
                "kind": self.run.kind,
                "status": "running",
                "started_at": self.run.started_at.isoformat(),
                "seen": {
                    "last_revision_id": self.run.last_revision_id,
                    "annotations": len(self.activity["item"]),
                    "items": count_distinct(self.activity["item"]),
                },
                "methods": {},
                "engine_version": engine.ENGINE_VERSION,
            },
            "controls": [],
            "annotators": [],
            "slices": [],
            "gold": {"items": len(self.gold_ids), "flagged": [], "by_control": [], "counting_controls": []},
            "models": [],
            "escalated": 0,
            "escalation": {"escalated": 0, "flagged_for_review": 0, "waiting": 0, "items_escalated": 0},
            "paused": [],
        }
        previous_controls = {c["name"]: c for c in self.previous_report.get("controls", [])}
        slices = None if self.incremental else answers_selector.item_slices(project=self.project)
        annotator_kappa: dict[int, list[tuple[float, int]]] = defaultdict(list)
        low_agreement: set[int] = set()
        consensus_answers: dict[str, dict[int, Any]] = {}
        for name, control in self.controls.items():
            version = engine.METHOD_VERSIONS.get(control.method, "1")
            report["run"]["methods"][name] = {"method": control.method, "version": version}
            if control.table is not None:
                section, answers, low = self._categorical(name, control, slices, annotator_kappa)
            else:
                section, answers, low = self._structured(name, control, previous_controls.get(name))
            report["slices"].extend(section.pop("slices", []))
            report["controls"].append(section)
            consensus_answers[name] = answers
            low_agreement |= low
        if self.incremental:
            report["slices"] = self.previous_report.get("slices", [])
        self._write_consensus(consensus_answers)
        gold = self._gold(report)
        report["annotators"] = self._annotators(annotator_kappa, gold)
        if self.incremental:  # model scores and slices move slowly: refreshed by full runs
            report["models"] = self.previous_report.get("models", [])
        else:
            report["models"] = self._models(slices)
        escalation = self._escalate(low_agreement)
        report["escalated"] = escalation["escalated"]  # by this run
        report["escalation"] = escalation
        report["paused"] = self._pause_and_boost(gold, report["annotators"])
        return report

    def _categorical(self, name, control: _Control, slices, annotator_kappa):
        spec, adapter, table = control.spec, control.adapter, control.table
        level = control.level
        gold_mask = np.isin(table.item, np.fromiter(self.gold_ids, np.int64)) if self.gold_ids else None
        work = table.mask(~gold_mask) if gold_mask is not None else table
        values = _numeric(table.labels) if level in ("interval", "ratio") else None
        coded = engine.code(work, values)
        method = control.method
        # Warm-start Dawid-Skene only close to a cold (majority-vote) start: a chain of warm starts
        # from a run that saw few answers can settle on a permuted labelling and keep it.
        cold_answers = self.cold.get(name, 0)
        warm = (
            self.warm.get(name) if cold_answers and len(coded.coded) <= cold_answers * WARM_GROWTH else None
        )
        anchored = (
            self._gold_anchors(control, table) if method == "dawid_skene" and gold_mask is not None else None
        )
        if anchored is not None:  # gold items enter Dawid-Skene with their true label fixed
            result = self._anchored_consensus(coded, table, anchored, level, warm, values)
        else:
            result = engine.consensus(coded, method, level=level, warm=warm)
        self.cold[name] = cold_answers if warm is not None else len(coded.coded)
        if result.posteriors is not None:
            order = np.argsort(coded.unit_key)
            self.new_warm[name] = (coded.unit_key[order], result.posteriors[order].astype(np.float32))
        matrices = engine.pair_matrices(coded)
        section = {
            "name": name,
            "type": spec.get("type"),
            "title": spec.get("title") or name,
            "level": level,
            "counts": control.counts,
            "method": method,
            "agreement": engine.agreement_summary(coded, level, with_ci=not self.incremental),
            "labels": engine.label_rows(coded, table.labels, result.label),
            "confusion": engine.confusion(coded, table.labels, result.label),
            "pairs": engine.pair_table(coded, matrices),
        }
        if not self.incremental:
            section["slices"] = engine.slice_rows(coded, level, slices, name)
        for user, stats in engine.annotator_agreement(coded, matrices).items():
            if stats["kappa"] is not None:
                annotator_kappa[user].append((stats["kappa"], stats["annotations"]))
        if adapter.kind == "categorical":
            order = np.argsort(coded.unit_item, kind="stable")
            self.new_cons[name] = (
                coded.unit_item[order],
                result.label[order],
                np.nan_to_num(np.asarray(result.confidence, dtype=np.float64)[order]),
            )
        answers = self._compose(control, coded, result, self._touched(name))
        if spec.get("type") == "pairwise" and spec.get("strength") and answers:
            answers = self._pairwise_strength(control, answers)
        low: set[int] = set()
        threshold = self.knobs.escalate_below
        if threshold and adapter.kind == "categorical" and control.counts:
            under = (~np.isnan(result.agreement)) & (result.agreement < threshold)
            low = {int(i) for i in coded.unit_item[under]}
            if self.incremental:  # full runs look at every item; incremental ones at what changed
                low &= self.changed_items
        return section, answers, low

    def _pairwise_strength(self, control: _Control, answers: dict[int, Any]) -> dict[int, Any]:
        """Pairwise consensus with the strength the annotators gave (coded tables hold only the
        choice): the adapter's mean strength of the answers that chose the consensus choice."""
        given: dict[int, list] = defaultdict(list)
        for row in answers_selector.quality_answers(project=self.project, item_ids=answers):
            answer = row.result.get(control.spec["name"]) if isinstance(row.result, dict) else None
            parsed = _safe(control.adapter.parse, answer, control.spec)
            if parsed is not None:
                given[row.item_id].append(parsed)
        out = {}
        for item, (answer, *rest) in answers.items():
            votes = given.get(item, [])
            weights = np.ones(len(votes))
            with_strength = _safe(control.adapter.from_label, answer["choice"], votes, weights, control.spec)
            out[item] = (with_strength or answer, *rest)
        return out

    def _gold_anchors(self, control: _Control, table: engine.Table) -> dict[tuple[int, int], int] | None:
        """(gold item, sub-unit code) -> label code of the reference answer, for the gold items that
        have answers in this table; None when there are none."""
        if not self.gold_refs:
            return None
        anchors: dict[tuple[int, int], int] = {}
        answered = set(
            np.unique(table.item[np.isin(table.item, np.fromiter(self.gold_refs, np.int64))]).tolist()
        )
        name = control.spec["name"]
        for item in answered:
            reference = (self.gold_refs.get(item) or {}).get(name)
            if reference in (None, "", [], {}):
                continue
            if control.renames:
                reference = _renamed(reference, control.renames)
            if control.adapter.kind == "categorical":
                label = _safe(control.adapter.to_label, reference, control.spec)
                if label is not None and label in table.labels:
                    anchors[(item, 0)] = table.labels.index(label)
                continue
            units = _safe(control.adapter.to_units, reference, control.spec) or {}
            for unit, label in units.items():
                if str(unit) in table.units and str(label) in table.labels:
                    anchors[(item, table.units.index(str(unit)))] = table.labels.index(str(label))
        return anchors or None

    @staticmethod
    def _anchored_consensus(coded, table, anchors, level, warm, values) -> engine.Consensus:
        """Dawid-Skene on every answer, gold items included with their posteriors pinned to the
        reference (so the gold items teach each annotator's confusion matrix), reported for the
        non-gold units only: gold items still never enter agreement or consensus rows."""
        everything = engine.code(table, values)
        gold = np.full(everything.coded.n_items, -1, dtype=np.int64)
        for position, (item, sub) in enumerate(zip(everything.unit_item, everything.unit_sub, strict=True)):
            code = anchors.get((int(item), int(sub)))
            if code is not None:
                gold[position] = code
        full = engine.consensus(everything, "dawid_skene", level=level, warm=warm, gold=gold)
        rows = np.searchsorted(everything.unit_key, coded.unit_key)
        c = coded.coded
        return engine.Consensus(
            full.label[rows],
            np.asarray(full.confidence)[rows],
            engine.item_agreement(coded, level),
            np.bincount(c.item, minlength=c.n_items),
            full.posteriors[rows] if full.posteriors is not None else None,
            full.annotator_quality,
        )

    def _compose(
        self, control: _Control, coded: engine.Coded, result: engine.Consensus, wanted: set[int] | None
    ) -> dict[int, Any]:
        """Consensus answers per item in the control's answer shape, with confidence and agreement:
        of every item, or only of `wanted` (the rows a run has to write)."""
        spec, labels, units = control.spec, control.table.labels, control.table.units
        out: dict[int, Any] = {}
        if wanted is None:
            rows = range(len(coded.unit_item))
        else:
            rows = np.flatnonzero(
                np.isin(coded.unit_item, np.fromiter(wanted, np.int64, len(wanted)))
            ).tolist()
        if control.adapter.kind == "categorical":
            for row in rows:
                code = int(result.label[row])
                if code < 0:
                    continue
                out[int(coded.unit_item[row])] = (
                    _label_answer(spec, labels[code]),
                    _nan_none(result.confidence[row]),
                    _nan_none(result.agreement[row]),
                    int(result.count[row]),
                )
            return out
        per_item: dict[int, list] = defaultdict(list)
        for row in rows:
            code = int(result.label[row])
            if code >= 0:
                per_item[int(coded.unit_item[row])].append(
                    (
                        units[int(coded.unit_sub[row])],
                        labels[code],
                        result.confidence[row],
                        result.agreement[row],
                        result.count[row],
                    )
                )
        for item, parts in per_item.items():
            answer = _units_answer(spec, [(unit, label) for unit, label, *_ in parts])
            confidences = [float(p[2]) for p in parts if not np.isnan(p[2])]
            agreements = [float(p[3]) for p in parts if not np.isnan(p[3])]
            out[item] = (
                answer,
                min(confidences) if confidences else None,
                float(np.mean(agreements)) if agreements else None,
                max(int(p[4]) for p in parts),
            )
        return out

    def _structured(self, name, control: _Control, previous: dict | None):
        spec, adapter = control.spec, control.adapter
        answers: dict[int, Any] = {}
        for item, given in control.structured.items():
            values = [answer for _, answer in given]
            consensus, confidence = _safe(adapter.consensus, values, None, spec, control.method) or (
                None,
                None,
            )
            agreement = _safe(adapter.item_agreement, values, spec)
            answers[item] = (consensus, _nan_none(confidence), _nan_none(agreement), len(values))
        section = {
            "name": name,
            "type": spec.get("type"),
            "title": spec.get("title") or name,
            "level": None,
            "counts": control.counts,
            "method": control.method,
            "agreement": None,
            "labels": [],
            "confusion": None,
            "pairs": None,
        }
        if not self.incremental:
            scores = [a[2] for a in answers.values() if a[2] is not None]
            section["agreement"] = {
                "mean_item_agreement": round(float(np.mean(scores)), 6) if scores else None,
                "items": len(answers),
                "annotations": sum(a[3] for a in answers.values()),
                "pairable_items": len(scores),
            }
        elif previous:
            section["agreement"] = previous.get("agreement")
        return section, answers, set()

    def _write_consensus(self, answers_by_control: dict[str, dict[int, Any]]) -> None:
        """Upsert the consensus rows a run produced (every item, or only the ones that moved: see
        `_touched`); full runs also drop rows of items that no longer have answers."""
        self.consensus = answers_by_control
        rows = []
        for name, answers in answers_by_control.items():
            control = self.controls[name]
            version = engine.METHOD_VERSIONS.get(control.method, "1")
            self.written[name] = sorted(answers)
            for item in self.written[name]:
                answer, confidence, agreement, count = answers[item]
                rows.append((item, name, control.method, version, answer, confidence, agreement, count))
        if not self.incremental:
            stale = ConsensusResult.objects.filter(project=self.project)
            ConsensusResult.objects.filter(
                pk__in=_stale_ids(stale, self.new_cons, answers_by_control)
            ).delete()
        _consensus_upsert(self.project.id, self.run.id, rows)

    def _touched(self, name: str) -> set[int] | None:
        """The items whose consensus row must be written, or None for every item. Incremental runs:
        the changed items plus, for model-based methods whose estimates move with every run, the items
        whose label or confidence moved since the snapshot. Full runs: the moved ones too when the
        snapshot has the previous consensus, else everything."""
        before, after = self.prev_cons.get(name), self.new_cons.get(name)
        if before is None or after is None:
            return set(self.changed_items) if self.incremental else None
        touched = set(self.changed_items)
        (old_items, old_labels, old_conf), (items, labels, conf) = before, after
        if len(old_items):
            position = np.clip(np.searchsorted(old_items, items), 0, len(old_items) - 1)
            same = (old_items[position] == items) & (old_labels[position] == labels)
            same &= np.abs(old_conf[position] - conf) < 0.005
        else:
            same = np.zeros(len(items), dtype=bool)
        touched.update(items[~same].tolist())
        return touched

    # -- gold ---------------------------------------------------------------------------------------------

    def _gold(self, report: dict) -> dict[int, dict]:
        """Per annotator: gold answers scored (all, and since their last re-qualification), accuracy."""
        standards = {
            g.item_id: g.result
            for g in GoldStandard.objects.filter(project=self.project).only("item_id", "result")
        }
        qualified = dict(
            ProjectMembership.objects.filter(project=self.project).values_list("user_id", "qualified_at")
        )
        per_user: dict[int, dict] = defaultdict(
            lambda: {"n": 0, "sum": 0.0, "recent_n": 0, "recent_sum": 0.0, "controls": defaultdict(list)}
        )
        per_item: dict[tuple[int, str], list[float]] = defaultdict(list)
        per_control: dict[str, list[float]] = {name: [] for name in self.controls}
        if not standards:
            return {}
        rows = answers_selector.quality_answers(project=self.project, item_ids=list(standards))
        for row in rows:
            reference = standards.get(row.item_id) or {}
            result = row.result if isinstance(row.result, dict) else {}
            scores = []  # of the controls that count: gold pass/fail and pausing use only these
            by_control = per_user[row.annotator_id]["controls"]
            for name, expected in reference.items():
                control = self.controls.get(name)
                if control is None or expected in (None, "", [], {}):
                    continue
                given = _safe(control.adapter.answer_of, result, control.spec)
                score = _safe(control.adapter.score, given, expected, control.spec)
                score = float(score) if score is not None else 0.0
                by_control[name].append(score)
                per_control[name].append(score)
                if control.counts:
                    scores.append(score)
                    per_item[(row.item_id, name)].append(score)
            if not scores:
                continue
            score = float(np.mean(scores))
            stats = per_user[row.annotator_id]
            stats["n"] += 1
            stats["sum"] += score
            since = qualified.get(row.annotator_id)
            if since is None or row.updated_at >= since:
                stats["recent_n"] += 1
                stats["recent_sum"] += score
        flagged = []
        for (item, name), scores in sorted(per_item.items()):
            failure = float(np.mean([s < 0.5 for s in scores]))
            if (
                len(scores) >= self.knobs.flag_gold_min_answers
                and failure >= self.knobs.flag_gold_failure_rate
            ):
                flagged.append(
                    {
                        "item_id": item,
                        "control": name,
                        "reference": standards[item].get(name),
                        "answers": len(scores),
                        "failure_rate": round(failure, 6),
                    }
                )
        by_control_rows = [
            {
                "control": name,
                "counts": self.controls[name].counts,
                "answers": len(scores),
                "accuracy": round(float(np.mean(scores)), 6),
            }
            for name, scores in per_control.items()
            if scores
        ]
        report["gold"] = {
            "items": len(standards),
            "flagged": flagged,
            "by_control": by_control_rows,
            "counting_controls": [name for name, c in self.controls.items() if c.counts],
        }
        return dict(per_user)

    # -- annotators ---------------------------------------------------------------------------------------

    def _annotators(self, kappas: dict[int, list[tuple[float, int]]], gold: dict[int, dict]) -> list[dict]:
        members = {
            m.user_id: m
            for m in ProjectMembership.objects.filter(project=self.project).select_related("user")
        }
        act = self.activity
        present = np.unique(act["annotator"])
        users = sorted(set(present.tolist()) | set(gold))
        rows = []
        # Group the (up to millions of) activity rows by person: small integer codes sort by radix.
        codes = np.searchsorted(present, act["annotator"])
        codes = codes.astype(np.uint16) if len(present) < 2**16 else codes
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(present) + 1))
        for user in users:
            position = int(np.searchsorted(present, user))
            known = position < len(present) and present[position] == user
            lo, hi = (int(bounds[position]), int(bounds[position + 1])) if known else (0, 0)
            ms = act["ms"][order[lo:hi]]
            positive = ms[ms > 0]
            values = kappas.get(user, [])
            weight = sum(n for _, n in values)
            agreement = sum(k * n for k, n in values) / weight if weight else None
            stats = gold.get(user)
            member = members.get(user)
            rows.append(
                {
                    "id": int(user),
                    "username": member.user.username if member else f"user {user}",
                    "membership_id": member.id if member else None,
                    "annotations": int(hi - lo),
                    "agreement": round(agreement, 6) if agreement is not None else None,
                    "gold_n": stats["n"] if stats else 0,
                    "gold_accuracy": round(stats["sum"] / stats["n"], 6) if stats and stats["n"] else None,
                    "gold_by_control": {
                        name: round(float(np.mean(scores)), 6)
                        for name, scores in sorted(stats["controls"].items())
                    }
                    if stats
                    else {},
                    "median_active_ms": int(statistics.median(positive.tolist())) if len(positive) else None,
                    "per_hour": round(len(positive) / (positive.sum() / 3_600_000), 2)
                    if len(positive)
                    else None,
                    "paused": bool(member and member.paused_at),
                    "paused_reason": member.paused_reason if member else "",
                    "low_quality": False,
                }
            )
        return rows

    def _pause_and_boost(self, gold: dict[int, dict], annotators: list[dict]) -> list[int]:
        from projects.services import project_member_pause, project_member_quality_update

        knobs = self.knobs
        paused = []
        boosts: dict[int, float] = {}
        by_id = {row["id"]: row for row in annotators}
        members = {m.user_id: m for m in ProjectMembership.objects.filter(project=self.project)}
        for user, member in members.items():
            if member.role != ProjectMembership.Role.ANNOTATOR and user not in gold:
                continue
            stats = gold.get(user, {"n": 0, "sum": 0.0, "recent_n": 0, "recent_sum": 0.0})
            accuracy = stats["sum"] / stats["n"] if stats["n"] else None
            recent = stats["recent_sum"] / stats["recent_n"] if stats["recent_n"] else None
            low = (
                recent is not None
                and stats["recent_n"] >= knobs.min_gold_answers
                and recent < knobs.min_gold_accuracy
            )
            if user in by_id:
                by_id[user]["low_quality"] = low
            weak = accuracy is not None and accuracy < knobs.min_gold_accuracy + 0.1
            is_new = stats["n"] < knobs.new_annotator_gold_answers
            boosts[user] = knobs.gold_boost if (is_new or weak) else 1.0
            if low and knobs.auto_pause and member.paused_at is None:
                reason = (
                    f"Your accuracy on gold items is {recent:.0%} over your last {stats['recent_n']} "
                    f"gold answers; this project asks for {knobs.min_gold_accuracy:.0%}. Read the "
                    "guidelines again; a manager can re-qualify you."
                )
                project_member_pause(
                    project=self.project, actor=None, membership_id=member.id, reason=reason[:500]
                )
                paused.append(user)
                if user in by_id:
                    by_id[user]["paused"] = True
                    by_id[user]["paused_reason"] = reason[:500]
        if boosts:
            project_member_quality_update(project=self.project, gold_boosts=boosts)
        return paused

    # -- escalation ---------------------------------------------------------------------------------------

    def _escalate(self, low: set[int]) -> dict[str, int]:
        """Low-agreement items get one more annotator when someone eligible could take them;
        otherwise (nobody left, or at `max_escalation`) they go to the review queue with the reason.
        Returns the real counts: what this run did, and what the database holds now."""
        from annotation.workflow.services.queue import item_escalate, item_flag_for_review

        escalated = flagged = 0
        candidates = answers_selector.items_for_escalation(project=self.project, item_ids=low) if low else []
        for item_id, may_escalate in candidates[:ESCALATIONS_PER_RUN]:
            reason = f"agreement below {self.knobs.escalate_below:g}"
            try:
                with transaction.atomic():
                    if not may_escalate:
                        raise DomainError("escalation_limit", "at the escalation limit")
                    item_escalate(
                        project=self.project,
                        actor=None,
                        item_id=item_id,
                        annotators=1,
                        reason=reason,
                        require_eligible=True,
                    )
                escalated += 1
                continue
            except DomainError as error:
                if error.code not in ("no_eligible_annotator", "escalation_limit"):
                    logger.debug("item %s not escalated: %s", item_id, error.code)
                    continue
                why = "no other annotator can take it" if error.code != "escalation_limit" else "at the limit"
            try:
                with transaction.atomic():
                    if item_flag_for_review(
                        project=self.project, actor=None, item_id=item_id, reason=f"{reason}; {why}"
                    ):
                        flagged += 1
            except DomainError as error:
                logger.debug("item %s not flagged: %s", item_id, error.code)
        counts = answers_selector.escalation_counts(project=self.project)
        return {
            "escalated": escalated,
            "flagged_for_review": flagged,
            "waiting": counts["waiting"],
            "items_escalated": counts["items"],
        }

    # -- model evaluation ---------------------------------------------------------------------------------

    def _models(self, slices) -> list[dict]:
        standards = dict(GoldStandard.objects.filter(project=self.project).values_list("item_id", "result"))
        grouped: dict[tuple[str, str, str, str], list[tuple[int, float]]] = defaultdict(list)
        categorical: dict[tuple[str, str, str, str], list[tuple[int, int, int]]] = defaultdict(list)
        consensus_codes = {  # categorical controls: item -> consensus label code, from the arrays
            name: dict(zip(items.tolist(), codes.tolist(), strict=True))
            for name, (items, codes, _) in self.new_cons.items()
        }

        def consensus_of(name: str, item: int):
            if name in consensus_codes:
                code = consensus_codes[name].get(item, -1)
                spec = self.controls[name].spec
                return _label_answer(spec, self.controls[name].table.labels[code]) if code >= 0 else None
            return (self.consensus.get(name, {}).get(item) or (None,))[0]

        for item, model, version, result in answers_selector.item_predictions(project=self.project):
            result = result if isinstance(result, dict) else {}
            for name, control in self.controls.items():
                if name not in result:
                    continue
                for against, truth in (
                    ("gold", (standards.get(item) or {}).get(name)),
                    ("consensus", consensus_of(name, item)),
                ):
                    if truth in (None, "", [], {}):
                        continue
                    key = (model, version, name, against)
                    if control.adapter.kind == "categorical" and control.table is not None:
                        predicted = _safe(control.adapter.to_label, result[name], control.spec)
                        expected = _safe(control.adapter.to_label, truth, control.spec)
                        labels = control.table.labels
                        if expected is None:
                            continue
                        p = labels.index(predicted) if predicted in labels else -1
                        categorical[key].append(
                            (item, labels.index(expected) if expected in labels else -1, p)
                        )
                    else:
                        score = _safe(control.adapter.score, result[name], truth, control.spec)
                        grouped[key].append((item, float(score or 0.0)))
        rows = []
        for key, triples in sorted(categorical.items()):
            model, version, name, against = key
            labels = self.controls[name].table.labels
            kept = [(i, t, p) for i, t, p in triples if t >= 0]
            truth = np.array([t for _, t, _ in kept], dtype=np.int64)
            predicted = np.array(
                [p if p >= 0 else (t + 1) % max(len(labels), 1) for _, t, p in kept], dtype=np.int64
            )
            scores = engine.classification_scores(truth, predicted, labels)
            correct = {i: bool(p == t) for i, t, p in kept}
            rows.append(
                {
                    "model": model,
                    "model_version": version,
                    "control": name,
                    "against": against,
                    **scores,
                    "slices": _slice_accuracy(correct, slices),
                }
            )
        for key, pairs in sorted(grouped.items()):
            model, version, name, against = key
            correct = {i: s for i, s in pairs}
            rows.append(
                {
                    "model": model,
                    "model_version": version,
                    "control": name,
                    "against": against,
                    "n": len(pairs),
                    "accuracy": round(float(np.mean([s for _, s in pairs])), 6),
                    "f1_macro": None,
                    "labels": [],
                    "slices": _slice_accuracy(correct, slices),
                }
            )
        return rows


_UPSERT_COLUMNS = (
    "project_id, item_id, control, method, method_version, answer, confidence, agreement, annotations, run_id"
)


def _consensus_upsert(project_id: int, run_id: int, rows: list[tuple]) -> None:
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


def _label_renames(project: Project) -> dict[str, dict[str, str]]:
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


def _renamed(answer: Any, renames: dict[str, str]) -> Any:
    """An answer of a choice-like control with old label names replaced (in lists, paths, dict values)."""
    if isinstance(answer, str):
        return renames.get(answer, answer)
    if isinstance(answer, list):
        return [_renamed(value, renames) for value in answer]
    if isinstance(answer, dict):
        return {key: _renamed(value, renames) for key, value in answer.items()}
    return answer


_BASE_CACHE: dict[int, tuple[int, dict]] = {}  # project id -> (base number, decoded base)
_BASE_CACHE_SIZE = 4


def _base_snapshot(project_id: int, state: QualityState) -> dict:
    """The decoded base snapshot, kept in this process while it is current: a worker that runs a
    project's consecutive incremental recomputes decodes it once per base."""
    cached = _BASE_CACHE.get(project_id)
    if cached is not None and cached[0] == state.snapshot_base:
        return cached[1]
    base = _decode(bytes(state.snapshot))
    base["data"] = _Materialised(base["data"])
    _cache_base(project_id, state.snapshot_base, base)
    return base


def _cache_base(project_id: int, number: int, base: dict) -> None:
    _BASE_CACHE.pop(project_id, None)
    if len(_BASE_CACHE) >= _BASE_CACHE_SIZE:
        _BASE_CACHE.pop(next(iter(_BASE_CACHE)))
    _BASE_CACHE[project_id] = (number, base)


class _Plain:
    """A base kept from the run that wrote it: its arrays as they were computed (float32 warm
    posteriors widened like a decoded base would be)."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = {
            key: value.astype(np.float64) if value.dtype == np.float32 else value
            for key, value in arrays.items()
        }

    def __contains__(self, key: str) -> bool:
        return key in self.arrays

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]


class _Materialised:
    """Every array of a snapshot read once (npz members are otherwise re-read on every access)."""

    def __init__(self, data):
        self.arrays = {key: data[key] for key in data.data.files if not key.endswith("__base")}

    def __contains__(self, key: str) -> bool:
        return key in self.arrays

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]


def _encode(arrays: dict[str, np.ndarray], meta: dict) -> bytes:
    packed: dict[str, np.ndarray] = {}
    for key, array in arrays.items():
        packed.update(_pack(key, array))
    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **packed)
    return zlib.compress(buffer.getvalue(), 1)


def _decode(blob: bytes) -> dict:
    data = _Unpacked(np.load(io.BytesIO(zlib.decompress(blob))))
    return {"data": data, "meta": json.loads(bytes(data["__meta__"]).decode())}


def _table_arrays(name: str, table: engine.Table) -> dict[str, np.ndarray]:
    return {
        f"{name}__item": table.item,
        f"{name}__unit": table.unit,
        f"{name}__annotator": table.annotator,
        f"{name}__label": table.label,
    }


def _cons_arrays(name: str, cons: tuple) -> dict[str, np.ndarray]:
    items, labels, conf = cons
    return {f"{name}__cons_item": items, f"{name}__cons_label": labels, f"{name}__cons_conf": conf}


def _cons_of(data, name: str) -> tuple | None:
    if f"{name}__cons_item" not in data:
        return None
    return tuple(data[f"{name}__cons_{k}"] for k in ("item", "label", "conf"))


def _overlay(base: tuple, delta: tuple) -> tuple:
    """Consensus arrays (sorted items, labels, confidences) with the delta's items replacing the base's."""
    items, labels, conf = base
    keep = ~np.isin(items, delta[0])
    merged = np.concatenate((items[keep], delta[0]))
    order = np.argsort(merged, kind="stable")
    return (
        merged[order],
        np.concatenate((labels[keep], delta[1]))[order],
        np.concatenate((conf[keep], delta[2]))[order],
    )


def _pack(key: str, array: np.ndarray) -> dict[str, np.ndarray]:
    """Integers as offsets from their minimum in the smallest unsigned type that holds them (ids of
    one project span a small range; labels and units fit a byte); floats as float32. A million
    answers then take about 7 bytes each before compression."""
    array = np.asarray(array)
    if array.dtype.kind == "f":
        return {key: array.astype(np.float32)}
    if array.dtype.kind not in "iu" or not len(array):
        return {key: array}
    low = int(array.min())
    span = int(array.max()) - low
    for kind in (np.uint8, np.uint16, np.uint32):
        if span <= np.iinfo(kind).max:
            return {key: (array - low).astype(kind), f"{key}__base": np.array([low], dtype=np.int64)}
    return {key: array}


class _Unpacked:
    """Read side of `_pack`: arrays come back as int64 (or float64)."""

    def __init__(self, data):
        self.data = data

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def __getitem__(self, key: str) -> np.ndarray:
        array = self.data[key]
        if f"{key}__base" in self.data:
            return array.astype(np.int64) + int(self.data[f"{key}__base"][0])
        if array.dtype == np.float32:
            return array.astype(np.float64)
        return array


def _stale_ids(
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


# --- helpers ------------------------------------------------------------------------------------------------


def _safe(function, *args):
    """Adapters never see trusted input: a malformed stored answer counts as unanswered, never a crash."""
    try:
        return function(*args)
    except Exception:
        logger.debug("adapter %s failed", getattr(function, "__qualname__", function), exc_info=True)
        return None


def _code(vocabulary: list[str], value: str) -> int:
    try:
        return vocabulary.index(value)
    except ValueError:
        vocabulary.append(value)
        return len(vocabulary) - 1


def _pair_key(item: np.ndarray, annotator: np.ndarray) -> np.ndarray:
    return (item.astype(np.int64) << 24) ^ annotator.astype(np.int64)


def _numeric(labels: list[str]) -> np.ndarray | None:
    try:
        return np.array([float(v) for v in labels])
    except ValueError:
        return None


def _nan_none(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else round(value, 6)


def _label_answer(spec: dict, label: str) -> Any:
    """A categorical label back in the control's answer shape (docs/SCHEMA.md)."""
    kind = spec.get("type")
    if kind == "rating":
        number = float(label)
        return int(number) if number.is_integer() else number
    if kind == "pairwise":
        return {"choice": label}
    if kind == "taxonomy":
        return [label.split(" > ")]
    if kind == "image_class" and spec.get("multiple"):
        return [label]
    return label


def _units_answer(spec: dict, parts: list[tuple[str, str]]) -> Any:
    kind = spec.get("type")
    if kind == "chat_turn_labels":
        return {
            unit: label
            for unit, label in sorted(parts, key=lambda p: int(p[0]) if p[0].isdecimal() else p[0])
        }
    # multiple choice style: units are labels, the unit's label says whether it is present
    return sorted(unit for unit, label in parts if label in ("yes", "true", "1", "present"))


def _slice_accuracy(correct: dict[int, Any], slices) -> list[dict]:
    """Mean score of a model's predictions per metadata value."""
    if not correct or slices is None:
        return []
    items = np.fromiter(correct, np.int64, len(correct))
    scores = np.fromiter((float(v) for v in correct.values()), np.float64, len(correct))
    rows = []
    for position, key in enumerate(slices.keys):
        codes = slices.value_codes(position, items)
        for code, value in enumerate(slices.values[position]):
            chosen = scores[codes == code]
            if len(chosen):
                rows.append(
                    {"key": key, "value": value, "n": len(chosen), "accuracy": round(float(chosen.mean()), 6)}
                )
    return rows


# --- gold standards ---------------------------------------------------------------------------------


@transaction.atomic
def gold_set(
    *, project: Project, actor, item_id: int, result: Any, source: str = GoldStandard.Source.MANUAL
) -> GoldStandard:
    """Make an item gold with this reference answer (validated like an annotation). Audited."""
    from annotation.workflow.services.labeling import latest_schema, validate_result
    from annotation.workflow.services.queue import items_workflow_update
    from core.audit import audit_record

    item = answers_selector.item_get(project=project, item_id=item_id)
    if item is None:
        raise DomainError("not_found", "Not found.", status_code=404)
    schema = latest_schema(project)
    if not isinstance(result, dict) or not result:
        raise DomainError("invalid_result", "The reference answer is an object {control name: answer}.")
    validate_result(schema, item, result)  # 400 invalid_annotation with every issue
    items_workflow_update(project=project, actor=actor, item_ids=[item_id], is_gold=True)
    gold, _ = GoldStandard.objects.update_or_create(
        item_id=item_id,
        defaults={
            "project": project,
            "result": result,
            "source": source,
            "schema_version": schema,
            "created_by": actor,
        },
    )
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="gold.set",
        target=gold,
        changes={"item_id": item_id, "source": source},
    )
    quality_schedule(project_id=project.id, full=True)
    return gold


@transaction.atomic
def gold_promote(*, project: Project, actor, item_id: int) -> GoldStandard:
    """Make an item gold with its current consensus answers as the reference."""
    answers = dict(
        ConsensusResult.objects.filter(project=project, item_id=item_id, answer__isnull=False).values_list(
            "control", "answer"
        )
    )
    if not answers:
        raise DomainError(
            "no_consensus",
            "This item has no consensus answer yet: it needs annotations and a quality run.",
            status_code=409,
        )
    return gold_set(
        project=project, actor=actor, item_id=item_id, result=answers, source=GoldStandard.Source.CONSENSUS
    )


@transaction.atomic
def gold_remove(*, project: Project, actor, item_id: int) -> None:
    from annotation.workflow.services.queue import items_workflow_update
    from core.audit import audit_record

    gold = GoldStandard.objects.filter(project=project, item_id=item_id).first()
    if gold is None:
        raise DomainError("not_found", "Not found.", status_code=404)
    items_workflow_update(project=project, actor=actor, item_ids=[item_id], is_gold=False)
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="gold.removed",
        target=gold,
        changes={"item_id": item_id},
    )
    gold.delete()
    quality_schedule(project_id=project.id, full=True)
