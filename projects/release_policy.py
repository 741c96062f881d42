"""The release policy of a project, stored under `settings["release"]`: which items a release leaves
out for consent and licence reasons. Pure, like projects/quality_settings.py; exports applies it
(exports/services/release_policy.py) and docs/GOVERNANCE.md explains each knob and why the defaults.

Defaults: items whose consent is `withdrawn` are ALWAYS left out (not a knob: a withdrawal that a
setting can undo is not a withdrawal). Items with `unknown` consent or no licence go in and are counted
in the datasheet, because most imported data says nothing about either and a first release that is
empty teaches people to switch the policy off; a project that must prove consent turns
`exclude_unknown_consent` on. Licence conflicts with the release licence (NC, ND, SA; core.licences)
are always checked; `allow_no_derivatives` is for the rare licensor who granted adaptation rights
besides an ND licence.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReleasePolicy:
    exclude_unknown_consent: bool = False
    exclude_unknown_licence: bool = False
    allow_no_derivatives: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "exclude_withdrawn_consent": True,
            "exclude_unknown_consent": self.exclude_unknown_consent,
            "exclude_unknown_licence": self.exclude_unknown_licence,
            "allow_no_derivatives": self.allow_no_derivatives,
            "licence_checks": ["non_commercial", "no_derivatives", "share_alike"],
        }


def release_policy(project) -> ReleasePolicy:
    return release_policy_from(project.settings)


def release_policy_from(project_settings: Any) -> ReleasePolicy:
    stored = (project_settings if isinstance(project_settings, dict) else {}).get("release") or {}
    values = {key: value for key, value in stored.items() if key in ReleasePolicy.__dataclass_fields__}
    return ReleasePolicy(**values)


def release_policy_issues(value: Any) -> list[str]:
    """Human-readable problems with a `settings["release"]` object; empty when it is valid."""
    if not isinstance(value, dict):
        return ["settings.release must be an object."]
    known = ReleasePolicy.__dataclass_fields__
    issues = []
    for key, item in value.items():
        if key not in known:
            issues.append(f"settings.release.{key} is not a setting (known: {', '.join(sorted(known))}).")
        elif not isinstance(item, bool):
            issues.append(f"settings.release.{key} must be true or false.")
    return issues
