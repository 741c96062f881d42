"""One recompute's state (`Job`): the controls it scores, the answers it read, and what it derived
from them; `Job.compute` builds the report from the pieces:

- inputs: reading the answers (coded tables, structured answers, label renames)
- snapshots: the stored base + delta the incremental runs start from
- consensus / consensus_rows: per-control agreement and consensus, and the rows written
- annotators: gold scoring, the annotator table, pausing, gold boosts, escalation
- model_scores: model predictions scored against gold and consensus
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from annotation.workflow.selectors import quality as answers_selector
from projects.models import Project
from projects.quality_settings import QualitySettings, control_counts
from quality import engine
from quality.answers import adapter_for
from quality.metrics.coding import count_distinct
from quality.models import GoldStandard, QualityRun

from . import annotators, consensus, consensus_rows, model_scores
from .inputs import label_renames


@dataclass
class Control:
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


class Job:
    """One recompute: the answers it saw, per control, and everything derived from them."""

    def __init__(
        self, project: Project, definition: dict, knobs: QualitySettings, run: QualityRun, incremental: bool
    ):
        self.project = project
        self.definition = definition
        self.knobs = knobs
        self.run = run
        self.incremental = incremental
        self.controls: dict[str, Control] = {}
        for spec in definition.get("controls", []):
            adapter = adapter_for(spec)
            if adapter is None:
                continue
            method = knobs.methods.get(spec["name"])
            if method not in adapter.methods:
                method = adapter.methods[0]
            control = Control(
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
        for name, renames in label_renames(project).items():
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

    # -- the report ----------------------------------------------------------------------------------

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
                section, answers, low = consensus.categorical(self, name, control, slices, annotator_kappa)
            else:
                section, answers, low = consensus.structured(self, name, control, previous_controls.get(name))
            report["slices"].extend(section.pop("slices", []))
            report["controls"].append(section)
            consensus_answers[name] = answers
            low_agreement |= low
        if self.incremental:
            report["slices"] = self.previous_report.get("slices", [])
        consensus_rows.write_consensus(self, consensus_answers)
        gold = annotators.gold_scores(self, report)
        report["annotators"] = annotators.annotator_rows(self, annotator_kappa, gold)
        if self.incremental:  # model scores and slices move slowly: refreshed by full runs
            report["models"] = self.previous_report.get("models", [])
        else:
            report["models"] = model_scores.model_scores(self, slices)
        escalation = annotators.escalate(self, low_agreement)
        report["escalated"] = escalation["escalated"]  # by this run
        report["escalation"] = escalation
        report["paused"] = annotators.pause_and_boost(self, gold, report["annotators"])
        return report
