"""Reads of stored quality results: the latest report, history points, CSV tables, gold lists."""

from typing import Any

from projects.models import Project

from .models import GoldStandard, QualityRun, QualityState

HISTORY_RUNS = 200

# name -> (header, how to get rows from a report)
TABLES = {
    "annotators": [
        "id",
        "username",
        "annotations",
        "agreement",
        "gold_n",
        "gold_accuracy",
        "median_active_ms",
        "per_hour",
        "paused",
        "low_quality",
    ],
    "pairs": ["control", "annotator_a", "annotator_b", "kappa", "shared_items"],
    "labels": ["control", "label", "annotations", "consensus", "specific_agreement", "alpha_vs_rest"],
    "confusion": ["control", "consensus_label", "annotator_label", "count"],
    "slices": ["key", "value", "control", "items", "alpha", "percent"],
    "gold": ["item_id", "control", "reference", "answers", "failure_rate"],
    "models": ["model", "model_version", "control", "against", "n", "accuracy", "f1_macro"],
    "history": ["run_id", "finished_at", "control", "alpha", "percent", "annotations"],
    "agreement": [
        "control",
        "type",
        "method",
        "alpha",
        "alpha_ci_low",
        "alpha_ci_high",
        "fleiss",
        "percent",
        "ac1",
    ],
}


def latest_run(*, project: Project) -> QualityRun | None:
    return QualityRun.objects.filter(project=project, status=QualityRun.Status.DONE).order_by("-id").first()


def quality_status(*, project: Project) -> tuple[bool, QualityRun | None]:
    pending = QualityState.objects.filter(project=project, pending=True).exists()
    return pending, latest_run(project=project)


def history_points(*, project: Project) -> list[dict]:
    runs = (
        QualityRun.objects.filter(project=project, status=QualityRun.Status.DONE)
        .order_by("-id")
        .values_list("id", "finished_at", "report")[:HISTORY_RUNS]
    )
    points = []
    for run_id, finished_at, report in reversed(list(runs)):
        for control in report.get("controls", []):
            agreement = control.get("agreement") or {}
            points.append(
                {
                    "run_id": run_id,
                    "finished_at": finished_at.isoformat() if finished_at else None,
                    "control": control.get("name"),
                    "alpha": agreement.get("alpha", agreement.get("mean_item_agreement")),
                    "percent": agreement.get("percent"),
                    "annotations": agreement.get("annotations"),
                }
            )
    return points


def gold_flagged_for_viewer(*, project: Project, viewer, flagged: list[dict]) -> list[dict]:
    """The report's flagged gold rows as `viewer` may see them: where the project masks personal data
    for them (annotation.pii), each reference answer goes through pii_result_for_viewer (span answers
    on the masked text, their `text` a placeholder); a reference whose item is gone is dropped (None)
    rather than shown raw. Unchanged for everyone else."""
    from annotation.models import Item
    from annotation.pii.services import pii_masking_applies, pii_result_for_viewer

    if not flagged or not pii_masking_applies(project=project, user=viewer):
        return flagged
    items = Item.objects.filter(project=project, id__in={row.get("item_id") for row in flagged}).only(
        "id", "project_id", "data"
    )
    by_id: dict[Any, Item] = {item.id: item for item in items}
    out = []
    for row in flagged:
        item, control = by_id.get(row.get("item_id")), row.get("control")
        reference = None
        if item is not None and isinstance(control, str):
            shown = pii_result_for_viewer(
                item=item, viewer=viewer, result={control: row.get("reference")}, project=project
            )
            reference = shown.get(control) if isinstance(shown, dict) else None
        out.append({**row, "reference": reference})
    return out


def report_table(*, project: Project, name: str, viewer=None) -> tuple[list[str], list[list]]:
    """One table of the latest report as CSV rows; the gold references as `viewer` may see them
    (no viewer: masked as for an annotator, fail closed)."""
    header = TABLES[name]
    if name == "history":
        points = history_points(project=project)
        return header, [
            [p[key] for key in ("run_id", "finished_at", "control", "alpha", "percent", "annotations")]
            for p in points
        ]
    run = latest_run(project=project)
    report = run.report if run else {}
    rows: list[list] = []
    if name in ("annotators", "slices"):
        rows = [[row.get(key) for key in header] for row in report.get(name, [])]
    elif name == "models":
        rows = [[row.get(key) for key in header] for row in report.get("models", [])]
    elif name == "gold":
        rows = [
            [
                row.get("item_id"),
                row.get("control"),
                _text(row.get("reference")),
                row.get("answers"),
                row.get("failure_rate"),
            ]
            for row in gold_flagged_for_viewer(
                project=project, viewer=viewer, flagged=report.get("gold", {}).get("flagged", [])
            )
        ]
    else:
        for control in report.get("controls", []):
            rows.extend(_control_rows(name, control))
    return header, rows


def _control_rows(name: str, control: dict) -> list[list]:
    control_name = control.get("name")
    if name == "labels":
        return [
            [
                control_name,
                r["label"],
                r["annotations"],
                r["consensus"],
                r["specific_agreement"],
                r["alpha_vs_rest"],
            ]
            for r in control.get("labels") or []
        ]
    if name == "confusion":
        confusion = control.get("confusion") or {"labels": [], "matrix": []}
        labels = confusion["labels"]
        return [
            [control_name, labels[i], labels[j], count]
            for i, row in enumerate(confusion["matrix"])
            for j, count in enumerate(row)
            if count
        ]
    if name == "pairs":
        pairs = control.get("pairs") or {"annotators": [], "kappa": [], "shared": []}
        people = pairs["annotators"]
        return [
            [control_name, people[i], people[j], pairs["kappa"][i][j], pairs["shared"][i][j]]
            for i in range(len(people))
            for j in range(i + 1, len(people))
            if pairs["shared"][i][j]
        ]
    agreement = control.get("agreement") or {}
    ci = agreement.get("alpha_ci") or [None, None]
    return [
        [
            control_name,
            control.get("type"),
            control.get("method"),
            agreement.get("alpha", agreement.get("mean_item_agreement")),
            ci[0],
            ci[1],
            agreement.get("fleiss"),
            agreement.get("percent"),
            agreement.get("ac1"),
        ]
    ]


def _text(value) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def gold_list(*, project: Project):
    return (
        GoldStandard.objects.filter(project=project)
        .select_related("schema_version", "created_by")
        .order_by("item_id")
    )


def flagged_gold(*, project: Project) -> dict[int, list[dict]]:
    """item id -> the latest report's "possibly wrong" flags for it (per control)."""
    run = latest_run(project=project)
    flags: dict[int, list[dict]] = {}
    for flag in run.report.get("gold", {}).get("flagged", []) if run else []:
        flags.setdefault(flag.get("item_id"), []).append(flag)
    return flags
