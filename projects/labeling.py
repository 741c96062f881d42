"""The labeling knobs of a project, stored under `settings["labeling"]`, with their defaults and checks.

Pure: the project services validate with `labeling_settings_issues`; the annotation workflow reads
`labeling_settings(project)`. docs/WORKFLOW.md lists every knob.
"""

from dataclasses import dataclass, field
from typing import Any

ORDERINGS = ("sequential", "random", "uncertainty")
DEFAULT_REJECT_REASONS = ("wrong_label", "incomplete", "guideline_violation", "other")
DEFAULT_GOLD_RATE = 0.1


@dataclass(frozen=True)
class LabelingSettings:
    ordering: str = "sequential"  # how the queue serves items of equal priority
    lease_seconds: int = 600  # an item is held this long after the last heartbeat
    review_fraction: float = 0.1  # share of completed items sampled into the review queue
    # Share of next-item requests answered with a gold item; None: DEFAULT_GOLD_RATE, which only
    # matters once the project has gold items (without any, every request goes to the queue).
    gold_rate: float | None = None
    quota: int | None = None  # default per-annotator cap on items
    show_others: bool = False  # annotators may see other people's annotations (blind by default)
    max_escalation: int = 3  # extra annotators an item may get beyond the overlap
    reject_reasons: tuple[str, ...] = field(default=DEFAULT_REJECT_REASONS)


_BOUNDS: dict[str, tuple[type, Any, Any]] = {
    "lease_seconds": (int, 30, 86_400),
    "review_fraction": (float, 0.0, 1.0),
    "gold_rate": (float, 0.0, 1.0),
    "quota": (int, 1, 10_000_000),
    "max_escalation": (int, 0, 20),
}


def labeling_settings(project) -> LabelingSettings:
    """The project's labeling settings: its stored values over the defaults."""
    return labeling_settings_from(project.settings)


def effective_gold_rate(knobs: LabelingSettings) -> float:
    """The project's gold rate: the one set, or DEFAULT_GOLD_RATE (gold is served as soon as gold
    items exist)."""
    return DEFAULT_GOLD_RATE if knobs.gold_rate is None else knobs.gold_rate


def labeling_settings_from(project_settings: Any) -> LabelingSettings:
    """Labeling settings from a project's `settings` JSON (validated on save)."""
    stored = (project_settings if isinstance(project_settings, dict) else {}).get("labeling") or {}
    values = {key: value for key, value in stored.items() if key in LabelingSettings.__dataclass_fields__}
    if "reject_reasons" in values:
        values["reject_reasons"] = tuple(values["reject_reasons"])
    return LabelingSettings(**values)


def labeling_settings_issues(value: Any) -> list[str]:
    """Human-readable problems with a `settings["labeling"]` object; empty when it is valid."""
    if not isinstance(value, dict):
        return ["settings.labeling must be an object."]
    issues = []
    known = LabelingSettings.__dataclass_fields__
    for key, item in value.items():
        if key not in known:
            issues.append(f"settings.labeling.{key} is not a setting (known: {', '.join(sorted(known))}).")
        elif key == "ordering":
            if item not in ORDERINGS:
                issues.append(f"settings.labeling.ordering must be one of {', '.join(ORDERINGS)}.")
        elif key == "show_others":
            if not isinstance(item, bool):
                issues.append("settings.labeling.show_others must be true or false.")
        elif key == "reject_reasons":
            if (
                not isinstance(item, list)
                or not 1 <= len(item) <= 50
                or not all(
                    isinstance(code, str) and 1 <= len(code) <= 50 and code.isidentifier() for code in item
                )
                or len(set(item)) != len(item)
            ):
                issues.append(
                    "settings.labeling.reject_reasons must be 1 to 50 distinct codes like wrong_label."
                )
        elif key in ("quota", "gold_rate") and item is None:
            continue
        else:
            kind, low, high = _BOUNDS[key]
            number_ok = isinstance(item, int | float) and not isinstance(item, bool)
            if kind is int and not (isinstance(item, int) and not isinstance(item, bool)):
                number_ok = False
            if not number_ok or not low <= item <= high:
                issues.append(f"settings.labeling.{key} must be a {kind.__name__} from {low} to {high}.")
    return issues
