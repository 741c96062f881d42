"""Adapters of the text controls: spans, relations, free text and transcription. Pure Python + numpy."""

from __future__ import annotations

from typing import Any

import numpy as np

from quality.consensus.spans import span_consensus
from quality.metrics.matching import span_prf
from quality.metrics.text import normalized_edit_distance, wer

from .base import BaseAdapter, coverage_runs, is_empty, is_int, is_scalar_id, label_set, medoid_index

Span = tuple[int, int, str]  # start, end, label


def span_id(span: Span) -> str:
    """The id a consensus span gets: derived from its content, so relations can name it."""
    start, end, label = span
    return f"{label}:{start}-{end}"


def parse_spans(answer: Any, allowed: set[str] | None) -> list[Span] | None:
    """Sorted distinct (start, end, label) of the well-formed spans; [] for no answer, None for a
    non-list. Without `allowed` any string label is kept."""
    if is_empty(answer):
        return []
    if not isinstance(answer, list):
        return None
    out = set()
    for span in answer:
        if not isinstance(span, dict):
            continue
        start, end, label = span.get("start"), span.get("end"), span.get("label")
        valid = is_int(start) and is_int(end) and 0 <= start < end and isinstance(label, str)
        if valid and (allowed is None or label in allowed):
            out.add((start, end, label))
    return sorted(out)


def _coded(spans_lists: list[list[Span]]) -> tuple[list[np.ndarray], list[str]]:
    labels = sorted({label for spans in spans_lists for *_, label in spans})
    code = {label: i for i, label in enumerate(labels)}
    arrays = [
        np.array([(s, e, code[label]) for s, e, label in spans], dtype=np.int64).reshape(-1, 3)
        for spans in spans_lists
    ]
    return arrays, labels


def span_f1(a: list[Span], b: list[Span]) -> float:
    """Exact-match F1: same start, end and label (1.0 when both are empty)."""
    (ca, cb), _ = _coded([a, b])
    return span_prf(ca, cb, mode="exact").f1


class SpansAdapter(BaseAdapter):
    """Similarity and score: exact-match span F1 (the usual NER agreement, and what
    `pairwise_exact_span_f1` computes project-wide). Consensus: offsets (span_coverage) or exact
    spans (span_exact) marked by more than half of the weight; ids are "<label>:<start>-<end>"."""

    type = "spans"
    methods = ("span_coverage", "span_exact")
    empty_answer: Any = []

    def parse(self, answer, control):
        return parse_spans(answer, label_set(control) or None)

    def _sim(self, a, b, control, media):
        return span_f1(a, b)

    def _consensus(self, parsed, weights, control, method, media):
        return [
            {"id": span_id(s), "start": s[0], "end": s[1], "label": s[2]}
            for s in self.consensus_spans(parsed, weights, method)
        ]

    def consensus_spans(self, parsed: list[list[Span]], weights: np.ndarray, method: str) -> list[Span]:
        mode = "exact" if method == "span_exact" else "coverage"
        arrays, labels = _coded(parsed)
        if np.allclose(weights, weights[0]):
            # Equal weights: the vectorised span_consensus with a strict majority of the answers.
            rows = [(i, *row) for i, array in enumerate(arrays) for row in array.tolist()]
            table = np.array(rows, dtype=np.int64).reshape(-1, 4)
            found = span_consensus(
                np.zeros(len(table), dtype=np.int64),
                table[:, 0],
                table[:, 1],
                table[:, 2],
                table[:, 3],
                min_votes=len(parsed) // 2 + 1,
                method=mode,
            )
            spans = [(int(s), int(e), labels[int(k)]) for _, s, e, k, _ in found.tolist()]
        else:
            spans = weighted_span_consensus(parsed, weights, mode)
        return sorted(spans)


def weighted_span_consensus(parsed: list[list[Span]], weights: np.ndarray, mode: str) -> list[Span]:
    """span_consensus with annotator weights: kept when more than half of the total weight agrees."""
    half = float(weights.sum()) / 2.0
    if mode == "exact":
        totals: dict[Span, float] = {}
        for spans, w in zip(parsed, weights, strict=True):
            for span in set(spans):
                totals[span] = totals.get(span, 0.0) + float(w)
        return [span for span, total in totals.items() if total > half + 1e-12]
    out = []
    for label in sorted({s[2] for spans in parsed for s in spans}):
        intervals = [(s, e, i) for i, spans in enumerate(parsed) for s, e, lab in spans if lab == label]
        out += [(int(s), int(e), label) for s, e in coverage_runs(intervals, weights, half)]
    return out


Relation = tuple[Any, Any, str]  # from endpoint, to endpoint, label


class RelationsAdapter(BaseAdapter):
    """Relations compared by what they join, not by ids (ids are per annotator): a relation is the
    triple (from span, to span, label) with spans as (start, end, label). Similarity and score: F1
    of exactly equal triples. Consensus: triples given by more than half of the weight.

    The answer this adapter reads is `answer_of(result, control)` = {"relations": [...], "spans":
    [...the spans control's answer]}. A plain list of relations is accepted too; its ids are then
    compared literally. The consensus names spans by the ids SpansAdapter gives consensus spans;
    `consensus_result` keeps only relations whose spans are in the spans consensus.
    """

    type = "relations"
    methods = ("relation_exact",)
    empty_answer: Any = []

    def answer_of(self, result, control):
        if not isinstance(result, dict):
            return None
        return {"relations": result.get(control.get("name")), "spans": result.get(control.get("spans"))}

    def parse(self, answer, control):
        if isinstance(answer, dict) and "relations" in answer:
            relations, spans = answer.get("relations"), answer.get("spans")
            by_id: dict | None = {}
            if isinstance(spans, list):
                for span in spans:
                    parsed = parse_spans([span], None) if isinstance(span, dict) else []
                    if parsed and isinstance(span.get("id"), str):
                        by_id[span["id"]] = parsed[0]
        elif isinstance(answer, list) or is_empty(answer):
            relations, by_id = answer, None
        else:
            return None
        if is_empty(relations):
            return frozenset()
        if not isinstance(relations, list):
            return None
        allowed = label_set(control)
        out = set()
        for rel in relations:
            if (
                not isinstance(rel, dict)
                or not isinstance(rel.get("label"), str)
                or rel["label"] not in allowed
            ):
                continue
            ends = []
            for key in ("from", "to"):
                ref = rel.get(key)
                if not is_scalar_id(ref):
                    break
                ends.append(by_id.get(ref) if by_id is not None else ("id", ref))
            if len(ends) == 2 and None not in ends and ends[0] != ends[1]:
                out.add((ends[0], ends[1], rel["label"]))
        return frozenset(out)

    def _sim(self, a, b, control, media):
        total = len(a) + len(b)
        return 2 * len(a & b) / total if total else 1.0

    def _consensus(self, parsed, weights, control, method, media):
        half = float(weights.sum()) / 2.0
        totals: dict[Relation, float] = {}
        for relations, w in zip(parsed, weights, strict=True):
            for rel in relations:
                totals[rel] = totals.get(rel, 0.0) + float(w)
        kept = sorted((rel for rel, total in totals.items() if total > half + 1e-12), key=repr)
        return [{"from": _end_id(f), "to": _end_id(t), "label": label} for f, t, label in kept]

    def _reparse(self, result, parsed, control):
        # The consensus names spans by id; read it back against the endpoints the answers used.
        ends = {_end_id(end): end for rels in parsed for rel in rels for end in rel[:2]}
        return frozenset(
            (ends[r["from"]], ends[r["to"]], r["label"])
            for r in result
            if r["from"] in ends and r["to"] in ends
        )

    def resolve(self, relations: list, spans_answer: Any) -> list:
        """Keep the consensus relations whose two spans are in `spans_answer` (matched by offsets and
        label) and name them by that answer's ids."""
        ids = {}
        for span in spans_answer if isinstance(spans_answer, list) else []:
            parsed = parse_spans([span], None) if isinstance(span, dict) else []
            if parsed and isinstance(span.get("id"), str):
                ids[span_id(parsed[0])] = span["id"]
        return [
            {"from": ids[r["from"]], "to": ids[r["to"]], "label": r["label"]}
            for r in relations
            if r["from"] in ids and r["to"] in ids
        ]


def _end_id(end: Any) -> Any:
    return end[1] if end[0] == "id" else span_id(end)


# ---------------------------------------------------------------------------------------------
# Free text


def _text(answer: Any) -> str | None:
    return answer if isinstance(answer, str) and answer != "" else None


class TextAdapter(BaseAdapter):
    """Similarity and score: 1 - normalised character edit distance. Consensus: the medoid, the
    answer with the largest weighted total similarity to the others (an answer somebody wrote)."""

    type = "text"
    methods = ("medoid",)
    free_text = True

    def labels(self, control):
        return None

    def parse(self, answer, control):
        return _text(answer)

    def _sim(self, a, b, control, media):
        return 1.0 - normalized_edit_distance(a, b)

    def _consensus(self, parsed, weights, control, method, media):
        return parsed[medoid_index(parsed, weights, lambda a, b: self._sim(a, b, control, media))]


class TranscriptionAdapter(TextAdapter):
    """As text, but the score against a reference transcript is 1 - WER (clipped at 0)."""

    type = "transcription"
    free_text = False  # a transcript is the task itself: 1 - WER against gold counts

    def parse(self, answer, control):
        # {"no_speech": true} (nothing is said) is the empty transcript: as far from any text as can be.
        return "" if answer == {"no_speech": True} else _text(answer)

    def _consensus(self, parsed, weights, control, method, media):
        chosen = super()._consensus(parsed, weights, control, method, media)
        return {"no_speech": True} if chosen == "" else chosen

    def _score(self, answer, reference, control, media):
        return 1.0 - wer(reference, answer)
