"""A project's `settings` JSON as a whole: JSON merge patch (RFC 7396), which keys exist, and the
warnings a manager sees when the settings make work unable to finish. Pure, like projects/labeling.py
and projects/quality_settings.py (which own each section's knobs, defaults and checks).

    merge_patch({"quality": {"auto_pause": False, "escalate_below": 0.4}},
                {"quality": {"escalate_below": None}, "labeling": {"review_fraction": 0.2}})
    == {"quality": {"auto_pause": False}, "labeling": {"review_fraction": 0.2}}

docs/WORKFLOW.md ("Project settings") describes the patch, the defaults and the warnings.
"""

from dataclasses import dataclass
from typing import Any

from .labeling import LabelingSettings, labeling_settings_from
from .privacy_settings import PrivacySettings
from .quality_settings import CONTROL_OPTIONS, QualitySettings, quality_settings_from
from .release_policy import ReleasePolicy
from .retention_settings import RetentionSettings

SECTIONS: dict[str, type] = {
    "labeling": LabelingSettings,
    "quality": QualitySettings,
    "privacy": PrivacySettings,
    "release": ReleasePolicy,
    "retention": RetentionSettings,
}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge recursively, `null` removes a key (back to its default), anything else
    (numbers, strings, lists) replaces. The inputs are not changed."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def unknown_setting_keys(settings: Any) -> list[str]:
    """Dotted paths of keys that are not settings (`settings.labeling.reveiw_fraction`), in order."""
    if not isinstance(settings, dict):
        return []
    unknown = []
    for section, value in settings.items():
        kind = SECTIONS.get(section)
        if kind is None:
            unknown.append(f"settings.{section}")
            continue
        if not isinstance(value, dict):
            continue  # a type problem, reported by the section's checks
        for key, item in value.items():
            if key not in kind.__dataclass_fields__:
                unknown.append(f"settings.{section}.{key}")
            elif section == "quality" and key == "controls" and isinstance(item, dict):
                for name, options in item.items():
                    if isinstance(options, dict):
                        unknown += [
                            f"settings.quality.controls.{name}.{option}"
                            for option in options
                            if option not in CONTROL_OPTIONS
                        ]
    return unknown


@dataclass(frozen=True)
class Facts:
    """What the warnings need to know about a project besides its settings."""

    overlap: int
    annotators: int  # members with the annotator role who are not paused
    gold_items: int


def settings_warnings(settings: Any, facts: Facts) -> list[dict]:
    """Settings that keep work from finishing, as {"code", "setting", "message"} (machine-readable; the
    settings page shows them). Empty when the project can finish on these settings."""
    labeling = labeling_settings_from(settings)
    quality = quality_settings_from(settings)
    stored = (settings if isinstance(settings, dict) else {}).get("labeling") or {}
    warnings = []
    if facts.annotators < facts.overlap:
        warnings.append(
            {
                "code": "overlap_exceeds_annotators",
                "setting": "overlap",
                "message": f"Each item wants {facts.overlap} annotators but the project has "
                f"{facts.annotators} active annotator(s): no item can be finished. Add annotators "
                "or lower the overlap.",
            }
        )
    elif (
        quality.escalate_below  # 0 (or a stored null): escalation is off
        and labeling.max_escalation > 0
        and facts.annotators <= facts.overlap
    ):
        warnings.append(
            {
                "code": "no_spare_annotator",
                "setting": "quality.escalate_below",
                "message": f"Escalation is on, but all {facts.annotators} active annotator(s) already label "
                "every item: items with low agreement go to review instead of to another annotator.",
            }
        )
    if stored.get("gold_rate") and facts.gold_items == 0:
        warnings.append(
            {
                "code": "gold_rate_without_gold",
                "setting": "labeling.gold_rate",
                "message": "A gold rate is set but the project has no gold items: nobody is scored. "
                "Make items gold on the Quality tab (Gold items).",
            }
        )
    return warnings
