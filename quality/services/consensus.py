"""Per-control results of a recompute: agreement, consensus (majority, Dawid-Skene anchored on gold,
...) and the report section of each control, with the consensus answers in the control's shape."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from annotation.workflow.selectors import quality as answers_selector
from quality import engine

from .common import nan_none, numeric, safe
from .consensus_rows import touched
from .inputs import renamed

if TYPE_CHECKING:
    from .job import Control, Job

WARM_GROWTH = 1.1  # warm starts while the answers grew by at most 10% since the last cold fit


def categorical(job: Job, name, control: Control, slices, annotator_kappa):
    spec, adapter, table = control.spec, control.adapter, control.table
    level = control.level
    gold_mask = np.isin(table.item, np.fromiter(job.gold_ids, np.int64)) if job.gold_ids else None
    work = table.mask(~gold_mask) if gold_mask is not None else table
    values = numeric(table.labels) if level in ("interval", "ratio") else None
    coded = engine.code(work, values)
    method = control.method
    # Warm-start Dawid-Skene only close to a cold (majority-vote) start: a chain of warm starts
    # from a run that saw few answers can settle on a permuted labelling and keep it.
    cold_answers = job.cold.get(name, 0)
    warm = job.warm.get(name) if cold_answers and len(coded.coded) <= cold_answers * WARM_GROWTH else None
    anchored = (
        gold_anchors(job, control, table) if method == "dawid_skene" and gold_mask is not None else None
    )
    if anchored is not None:  # gold items enter Dawid-Skene with their true label fixed
        result = anchored_consensus(coded, table, anchored, level, warm, values)
    else:
        result = engine.consensus(coded, method, level=level, warm=warm)
    job.cold[name] = cold_answers if warm is not None else len(coded.coded)
    if result.posteriors is not None:
        order = np.argsort(coded.unit_key)
        job.new_warm[name] = (coded.unit_key[order], result.posteriors[order].astype(np.float32))
    matrices = engine.pair_matrices(coded)
    section = {
        "name": name,
        "type": spec.get("type"),
        "title": spec.get("title") or name,
        "level": level,
        "counts": control.counts,
        "method": method,
        "agreement": engine.agreement_summary(coded, level, with_ci=not job.incremental),
        "labels": engine.label_rows(coded, table.labels, result.label),
        "confusion": engine.confusion(coded, table.labels, result.label),
        "pairs": engine.pair_table(coded, matrices),
    }
    if not job.incremental:
        section["slices"] = engine.slice_rows(coded, level, slices, name)
    for user, stats in engine.annotator_agreement(coded, matrices).items():
        if stats["kappa"] is not None:
            annotator_kappa[user].append((stats["kappa"], stats["annotations"]))
    if adapter.kind == "categorical":
        order = np.argsort(coded.unit_item, kind="stable")
        job.new_cons[name] = (
            coded.unit_item[order],
            result.label[order],
            np.nan_to_num(np.asarray(result.confidence, dtype=np.float64)[order]),
        )
    answers = compose(job, control, coded, result, touched(job, name))
    if spec.get("type") == "pairwise" and spec.get("strength") and answers:
        answers = pairwise_strength(job, control, answers)
    low: set[int] = set()
    threshold = job.knobs.escalate_below
    if threshold and adapter.kind == "categorical" and control.counts:
        under = (~np.isnan(result.agreement)) & (result.agreement < threshold)
        low = {int(i) for i in coded.unit_item[under]}
        if job.incremental:  # full runs look at every item; incremental ones at what changed
            low &= job.changed_items
    return section, answers, low


def pairwise_strength(job: Job, control: Control, answers: dict[int, Any]) -> dict[int, Any]:
    """Pairwise consensus with the strength the annotators gave (coded tables hold only the
    choice): the adapter's mean strength of the answers that chose the consensus choice."""
    given: dict[int, list] = defaultdict(list)
    for row in answers_selector.quality_answers(project=job.project, item_ids=answers):
        answer = row.result.get(control.spec["name"]) if isinstance(row.result, dict) else None
        parsed = safe(control.adapter.parse, answer, control.spec)
        if parsed is not None:
            given[row.item_id].append(parsed)
    out = {}
    for item, (answer, *rest) in answers.items():
        votes = given.get(item, [])
        weights = np.ones(len(votes))
        with_strength = safe(control.adapter.from_label, answer["choice"], votes, weights, control.spec)
        out[item] = (with_strength or answer, *rest)
    return out


def gold_anchors(job: Job, control: Control, table: engine.Table) -> dict[tuple[int, int], int] | None:
    """(gold item, sub-unit code) -> label code of the reference answer, for the gold items that
    have answers in this table; None when there are none."""
    if not job.gold_refs:
        return None
    anchors: dict[tuple[int, int], int] = {}
    answered = set(np.unique(table.item[np.isin(table.item, np.fromiter(job.gold_refs, np.int64))]).tolist())
    name = control.spec["name"]
    for item in answered:
        reference = (job.gold_refs.get(item) or {}).get(name)
        if reference in (None, "", [], {}):
            continue
        if control.renames:
            reference = renamed(reference, control.renames)
        if control.adapter.kind == "categorical":
            label = safe(control.adapter.to_label, reference, control.spec)
            if label is not None and label in table.labels:
                anchors[(item, 0)] = table.labels.index(label)
            continue
        units = safe(control.adapter.to_units, reference, control.spec) or {}
        for unit, label in units.items():
            if str(unit) in table.units and str(label) in table.labels:
                anchors[(item, table.units.index(str(unit)))] = table.labels.index(str(label))
    return anchors or None


def anchored_consensus(coded, table, anchors, level, warm, values) -> engine.Consensus:
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


def compose(
    self, control: Control, coded: engine.Coded, result: engine.Consensus, wanted: set[int] | None
) -> dict[int, Any]:
    """Consensus answers per item in the control's answer shape, with confidence and agreement:
    of every item, or only of `wanted` (the rows a run has to write)."""
    spec, labels, units = control.spec, control.table.labels, control.table.units
    out: dict[int, Any] = {}
    if wanted is None:
        rows = range(len(coded.unit_item))
    else:
        rows = np.flatnonzero(np.isin(coded.unit_item, np.fromiter(wanted, np.int64, len(wanted)))).tolist()
    if control.adapter.kind == "categorical":
        for row in rows:
            code = int(result.label[row])
            if code < 0:
                continue
            out[int(coded.unit_item[row])] = (
                label_answer(spec, labels[code]),
                nan_none(result.confidence[row]),
                nan_none(result.agreement[row]),
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
        answer = units_answer(spec, [(unit, label) for unit, label, *_ in parts])
        confidences = [float(p[2]) for p in parts if not np.isnan(p[2])]
        agreements = [float(p[3]) for p in parts if not np.isnan(p[3])]
        out[item] = (
            answer,
            min(confidences) if confidences else None,
            float(np.mean(agreements)) if agreements else None,
            max(int(p[4]) for p in parts),
        )
    return out


def structured(job: Job, name, control: Control, previous: dict | None):
    spec, adapter = control.spec, control.adapter
    answers: dict[int, Any] = {}
    for item, given in control.structured.items():
        values = [answer for _, answer in given]
        consensus, confidence = safe(adapter.consensus, values, None, spec, control.method) or (
            None,
            None,
        )
        agreement = safe(adapter.item_agreement, values, spec)
        answers[item] = (consensus, nan_none(confidence), nan_none(agreement), len(values))
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
    if not job.incremental:
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


def label_answer(spec: dict, label: str) -> Any:
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


def units_answer(spec: dict, parts: list[tuple[str, str]]) -> Any:
    kind = spec.get("type")
    if kind == "chat_turn_labels":
        return {
            unit: label
            for unit, label in sorted(parts, key=lambda p: int(p[0]) if p[0].isdecimal() else p[0])
        }
    # multiple choice style: units are labels, the unit's label says whether it is present
    return sorted(unit for unit, label in parts if label in ("yes", "true", "1", "present"))
