"""The quality knobs of a project, stored under `settings["quality"]`, with their defaults and checks.

Pure, like projects/labeling.py: project services validate with `quality_settings_issues`; the
quality app reads `quality_settings(project)`. docs/QUALITY.md lists every knob.
"""

from dataclasses import dataclass, field
from typing import Any

# Consensus methods the quality app knows (quality.answers adapters say which fit which control type).
CONSENSUS_METHODS = (
    "dawid_skene",
    "majority",
    "mace",
    "median",
    "bradley_terry",
    "span_coverage",
    "span_exact",
    "box_cluster",
    "box_cluster_mean",
    "relation_exact",
    "polygon_medoid",
    "keypoint_cluster",
    "segment_coverage",
    "track_cluster",
    "borda",
    "medoid",
)


@dataclass(frozen=True)
class QualitySettings:
    methods: dict[str, str] = field(default_factory=dict)  # control name -> consensus method
    # control name -> {"counts": bool}: whether the control counts for escalation, gold pass/fail and
    # pausing. Default: every control except free text (type "text"), whose similarity is only reported.
    controls: dict[str, dict] = field(default_factory=dict)
    # Per-item agreement under which an item gets one more annotator. 0 turns escalation off (so does
    # a stored null; in a merge patch null means "back to the default").
    escalate_below: float | None = 0.5
    min_gold_accuracy: float = 0.7  # gold accuracy under which an annotator is paused
    min_gold_answers: int = 5  # gold answers scored before anyone is paused for accuracy
    auto_pause: bool = True
    new_annotator_gold_answers: int = 10  # below this many gold answers an annotator counts as new
    gold_boost: float = 2.0  # gold-rate factor for new and low-scoring annotators
    flag_gold_failure_rate: float = 0.6  # gold items most annotators fail are flagged as possibly wrong
    flag_gold_min_answers: int = 3


CONTROL_OPTIONS = frozenset({"counts"})  # the keys of settings.quality.controls.<name>


def control_counts(knobs: "QualitySettings", name: str, *, free_text: bool) -> bool:
    """Whether a control counts for escalation, gold pass/fail and pausing (see QualitySettings)."""
    chosen = (knobs.controls.get(name) or {}).get("counts") if isinstance(knobs.controls, dict) else None
    return (not free_text) if chosen is None else bool(chosen)


_BOUNDS: dict[str, tuple[type, Any, Any]] = {
    "escalate_below": (float, 0.0, 1.0),
    "min_gold_accuracy": (float, 0.0, 1.0),
    "min_gold_answers": (int, 1, 10_000),
    "new_annotator_gold_answers": (int, 0, 10_000),
    "gold_boost": (float, 1.0, 10.0),
    "flag_gold_failure_rate": (float, 0.0, 1.0),
    "flag_gold_min_answers": (int, 1, 10_000),
}


def quality_settings(project) -> QualitySettings:
    return quality_settings_from(project.settings)


def quality_settings_from(project_settings: Any) -> QualitySettings:
    stored = (project_settings if isinstance(project_settings, dict) else {}).get("quality") or {}
    values = {key: value for key, value in stored.items() if key in QualitySettings.__dataclass_fields__}
    return QualitySettings(**values)


def quality_settings_issues(value: Any) -> list[str]:
    """Human-readable problems with a `settings["quality"]` object; empty when it is valid."""
    if not isinstance(value, dict):
        return ["settings.quality must be an object."]
    issues = []
    known = QualitySettings.__dataclass_fields__
    for key, item in value.items():
        if key not in known:
            issues.append(f"settings.quality.{key} is not a setting (known: {', '.join(sorted(known))}).")
        elif key == "methods":
            if not isinstance(item, dict) or not all(
                isinstance(name, str) and method in CONSENSUS_METHODS for name, method in item.items()
            ):
                issues.append(
                    "settings.quality.methods maps control names to one of "
                    + ", ".join(CONSENSUS_METHODS)
                    + "."
                )
        elif key == "controls":
            if not isinstance(item, dict) or not all(
                isinstance(name, str)
                and isinstance(options, dict)
                and set(options) <= CONTROL_OPTIONS
                and all(isinstance(v, bool) for v in options.values())
                for name, options in item.items()
            ):
                issues.append('settings.quality.controls maps control names to {"counts": true | false}.')
        elif key == "auto_pause":
            if not isinstance(item, bool):
                issues.append("settings.quality.auto_pause must be true or false.")
        elif key == "escalate_below" and item is None:
            continue
        else:
            kind, low, high = _BOUNDS[key]
            ok = isinstance(item, int | float) and not isinstance(item, bool)
            if kind is int and not (isinstance(item, int) and not isinstance(item, bool)):
                ok = False
            if not ok or not low <= item <= high:
                issues.append(f"settings.quality.{key} must be a {kind.__name__} from {low} to {high}.")
    return issues
