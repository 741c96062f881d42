"""The retention rules of a project, stored under `settings["retention"]`, with their checks.

Pure, like projects/labeling.py and projects/quality_settings.py: project services validate with
`retention_settings_issues`; governance.retention runs the rules; the organisation's record of
processing reads `retention_settings_from(project.settings).as_dict()`, always this shape:

    {"raw_media_days": int | None, "unreleased_items_days": int | None, "drafts_days": int | None}

None means "keep forever" (the default). docs/GOVERNANCE.md ("Retention") describes what each rule
deletes.
"""

from dataclasses import asdict, dataclass
from typing import Any

MAX_DAYS = 36_500  # a hundred years: beyond that, "keep forever" is what is meant


@dataclass(frozen=True)
class RetentionSettings:
    raw_media_days: int | None = None  # stored media files of items older than this are deleted
    unreleased_items_days: int | None = None  # items in no published release after this are erased
    drafts_days: int | None = None  # unsubmitted drafts not saved for this long are deleted

    def as_dict(self) -> dict[str, int | None]:
        return asdict(self)

    @property
    def any(self) -> bool:
        return any(value is not None for value in self.as_dict().values())


RULES = tuple(RetentionSettings.__dataclass_fields__)


def retention_settings_issues(value: Any) -> list[str]:
    """Human-readable problems with a `settings["retention"]` object; empty when it is valid."""
    if not isinstance(value, dict):
        return ["settings.retention must be an object."]
    issues = []
    for key, item in value.items():
        if key not in RULES:
            issues.append(f"settings.retention.{key} is not a setting (known: {', '.join(RULES)}).")
        elif item is None:
            continue
        elif isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= MAX_DAYS:
            issues.append(
                f"settings.retention.{key} must be a whole number of days from 1 to {MAX_DAYS}, "
                "or null (keep forever)."
            )
    return issues


def retention_settings_from(settings: Any) -> RetentionSettings:
    """The effective rules (a rule not stored, or stored wrongly, keeps forever)."""
    stored = (settings if isinstance(settings, dict) else {}).get("retention")
    if not isinstance(stored, dict) or retention_settings_issues(stored):
        return RetentionSettings()
    return RetentionSettings(**{key: stored.get(key) for key in RULES})
