"""The people side of a recompute: gold answers scored per annotator, the annotator table, pausing
annotators below the gold threshold and boosting the gold rate of new and weak ones, and escalating
items with low agreement (through the annotation and projects services)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
from django.db import transaction

from annotation.workflow.selectors import quality as answers_selector
from core.exceptions import DomainError
from projects.models import ProjectMembership
from quality.models import GoldStandard

from .common import logger, safe

if TYPE_CHECKING:
    from .job import Job

ESCALATIONS_PER_RUN = 1000


def gold_scores(job: Job, report: dict) -> dict[int, dict]:
    """Per annotator: gold answers scored (all, and since their last re-qualification), accuracy."""
    standards = {
        g.item_id: g.result
        for g in GoldStandard.objects.filter(project=job.project).only("item_id", "result")
    }
    qualified = dict(
        ProjectMembership.objects.filter(project=job.project).values_list("user_id", "qualified_at")
    )
    per_user: dict[int, dict] = defaultdict(
        lambda: {"n": 0, "sum": 0.0, "recent_n": 0, "recent_sum": 0.0, "controls": defaultdict(list)}
    )
    per_item: dict[tuple[int, str], list[float]] = defaultdict(list)
    per_control: dict[str, list[float]] = {name: [] for name in job.controls}
    if not standards:
        return {}
    rows = answers_selector.quality_answers(project=job.project, item_ids=list(standards))
    for row in rows:
        reference = standards.get(row.item_id) or {}
        result = row.result if isinstance(row.result, dict) else {}
        scores = []  # of the controls that count: gold pass/fail and pausing use only these
        by_control = per_user[row.annotator_id]["controls"]
        for name, expected in reference.items():
            control = job.controls.get(name)
            if control is None or expected in (None, "", [], {}):
                continue
            given = safe(control.adapter.answer_of, result, control.spec)
            score = safe(control.adapter.score, given, expected, control.spec)
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
        if len(scores) >= job.knobs.flag_gold_min_answers and failure >= job.knobs.flag_gold_failure_rate:
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
            "counts": job.controls[name].counts,
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
        "counting_controls": [name for name, c in job.controls.items() if c.counts],
    }
    return dict(per_user)


def annotator_rows(job: Job, kappas: dict[int, list[tuple[float, int]]], gold: dict[int, dict]) -> list[dict]:
    members = {
        m.user_id: m for m in ProjectMembership.objects.filter(project=job.project).select_related("user")
    }
    act = job.activity
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
                "per_hour": round(len(positive) / (positive.sum() / 3_600_000), 2) if len(positive) else None,
                "paused": bool(member and member.paused_at),
                "paused_reason": member.paused_reason if member else "",
                "low_quality": False,
            }
        )
    return rows


def pause_and_boost(job: Job, gold: dict[int, dict], annotators: list[dict]) -> list[int]:
    from projects.services import project_member_pause, project_member_quality_update

    knobs = job.knobs
    paused = []
    boosts: dict[int, float] = {}
    by_id = {row["id"]: row for row in annotators}
    members = {m.user_id: m for m in ProjectMembership.objects.filter(project=job.project)}
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
                project=job.project, actor=None, membership_id=member.id, reason=reason[:500]
            )
            paused.append(user)
            if user in by_id:
                by_id[user]["paused"] = True
                by_id[user]["paused_reason"] = reason[:500]
    if boosts:
        project_member_quality_update(project=job.project, gold_boosts=boosts)
    return paused


def escalate(job: Job, low: set[int]) -> dict[str, int]:
    """Low-agreement items get one more annotator when someone eligible could take them;
    otherwise (nobody left, or at `max_escalation`) they go to the review queue with the reason.
    Returns the real counts: what this run did, and what the database holds now."""
    from annotation.workflow.services.queue import item_escalate, item_flag_for_review

    escalated = flagged = 0
    candidates = answers_selector.items_for_escalation(project=job.project, item_ids=low) if low else []
    for item_id, may_escalate in candidates[:ESCALATIONS_PER_RUN]:
        reason = f"agreement below {job.knobs.escalate_below:g}"
        try:
            with transaction.atomic():
                if not may_escalate:
                    raise DomainError("escalation_limit", "at the escalation limit")
                item_escalate(
                    project=job.project,
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
                    project=job.project, actor=None, item_id=item_id, reason=f"{reason}; {why}"
                ):
                    flagged += 1
        except DomainError as error:
            logger.debug("item %s not flagged: %s", item_id, error.code)
    counts = answers_selector.escalation_counts(project=job.project)
    return {
        "escalated": escalated,
        "flagged_for_review": flagged,
        "waiting": counts["waiting"],
        "items_escalated": counts["items"],
    }
