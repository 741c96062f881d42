"""Model predictions scored against gold and consensus answers, overall and per metadata slice."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from annotation.workflow.selectors import quality as answers_selector
from quality import engine
from quality.models import GoldStandard

from .common import safe
from .consensus import label_answer

if TYPE_CHECKING:
    from .job import Job


def model_scores(job: Job, slices) -> list[dict]:
    standards = dict(GoldStandard.objects.filter(project=job.project).values_list("item_id", "result"))
    grouped: dict[tuple[str, str, str, str], list[tuple[int, float]]] = defaultdict(list)
    categorical: dict[tuple[str, str, str, str], list[tuple[int, int, int]]] = defaultdict(list)
    consensus_codes = {  # categorical controls: item -> consensus label code, from the arrays
        name: dict(zip(items.tolist(), codes.tolist(), strict=True))
        for name, (items, codes, _) in job.new_cons.items()
    }

    def consensus_of(name: str, item: int):
        if name in consensus_codes:
            code = consensus_codes[name].get(item, -1)
            spec = job.controls[name].spec
            return label_answer(spec, job.controls[name].table.labels[code]) if code >= 0 else None
        return (job.consensus.get(name, {}).get(item) or (None,))[0]

    for item, model, version, result in answers_selector.item_predictions(project=job.project):
        result = result if isinstance(result, dict) else {}
        for name, control in job.controls.items():
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
                    predicted = safe(control.adapter.to_label, result[name], control.spec)
                    expected = safe(control.adapter.to_label, truth, control.spec)
                    labels = control.table.labels
                    if expected is None:
                        continue
                    p = labels.index(predicted) if predicted in labels else -1
                    categorical[key].append((item, labels.index(expected) if expected in labels else -1, p))
                else:
                    score = safe(control.adapter.score, result[name], truth, control.spec)
                    grouped[key].append((item, float(score or 0.0)))
    rows = []
    for key, triples in sorted(categorical.items()):
        model, version, name, against = key
        labels = job.controls[name].table.labels
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
                "slices": slice_accuracy(correct, slices),
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
                "slices": slice_accuracy(correct, slices),
            }
        )
    return rows


def slice_accuracy(correct: dict[int, Any], slices) -> list[dict]:
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
