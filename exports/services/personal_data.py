"""Personal data in releases: the project's `privacy.release_policy` applied to each record, and the
facts the manifest and DATASHEET.md state about it. Called from reading.py (one object per pass)
and writer.py; the findings come from annotation.pii (docs/GOVERNANCE.md#personal-data).

- flag (the default): items keep their data; every item with an open or confirmed finding is listed
  in `personal_data.jsonl` (item id, field, start, end, type, status) and counted in the manifest.
  Why the default: dropping silently shrinks a dataset on a detector's guess, masking changes the
  text people labeled; flagging loses nothing and tells the consumer exactly where to look.
- mask: the values are replaced by `[TYPE]` placeholders in `data`, and span labels and raw span
  answers are moved to the masked text's offsets (annotation.pii.masking.remask_result).
- drop: items with an open or confirmed finding are left out (counted by type in the facts).
Dismissed findings are not personal data and never count.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from annotation.models import PiiFinding
from annotation.pii import masking
from annotation.pii.services import pii_findings_for_items
from projects.privacy_settings import privacy_settings_from

SIDECAR = "personal_data.jsonl"


class PersonalDataPolicy:
    """One pass of a release build: `load(chunk)` once per chunk of items, `apply(...)` per record."""

    def __init__(self, project, ctx) -> None:
        self.policy = privacy_settings_from(project.settings).release_policy
        self.project_id = project.id
        self.control_fields = masking.span_control_fields(dict(ctx.schema))
        self._findings: dict[int, dict[str, list[tuple[int, int, str]]]] = {}
        self.items: Counter[str] = Counter()  # dropped / masked / flagged
        self.findings: Counter[str] = Counter()  # type -> findings in the released (or dropped) items
        self.flagged: list[dict] = []  # flag: the sidecar's rows

    def load(self, chunk) -> None:
        self._findings = pii_findings_for_items(item.id for item in chunk)

    def apply(self, item, rows, annotations):
        """(item, consensus rows, annotations) as the release carries them, or None to leave the item out."""
        found = self._findings.get(item.id)
        if not found:
            return item, rows, annotations
        for findings in found.values():
            self.findings.update(kind for *_, kind in findings)
        if self.policy == "drop":
            self.items["dropped"] += 1
            return None
        if self.policy == "flag":
            self.items["flagged"] += 1
            self.flagged.extend(
                {"item_id": item.id, "field": field, "start": start, "end": end, "type": kind}
                for field, findings in sorted(found.items())
                for start, end, kind in sorted(findings)
            )
            return item, rows, annotations
        self.items["masked"] += 1
        data = masking.mask_data(item.data, found)
        spans = {
            field: masking.mask_text(item.data[field], findings)[1]
            for field, findings in found.items()
            if isinstance(item.data, dict) and isinstance(item.data.get(field), str)
        }
        if spans and self.control_fields:
            rows = [
                r._replace(
                    answer=masking.remask_result({r.control: r.answer}, data, spans, self.control_fields)[
                        r.control
                    ]
                )
                if r.control in self.control_fields
                else r
                for r in rows
            ]
            annotations = [
                a._replace(result=masking.remask_result(a.result, data, spans, self.control_fields))
                if isinstance(a.result, dict)
                else a
                for a in annotations
            ]
        return item._replace(data=data), rows, annotations

    def facts(self) -> dict[str, Any]:
        """ReleaseFacts.personal_data: {"scanned", "policy", "findings": {type: n}, "items": {...}}."""
        return {
            "scanned": PiiFinding.objects.filter(project_id=self.project_id).exists()
            or _scan_audited(self.project_id),
            "policy": self.policy,
            "findings": dict(sorted(self.findings.items())),
            "items": {key: self.items.get(key, 0) for key in ("dropped", "masked", "flagged")},
            "detectors": "phonenumbers + python-stdnum checksums + ipaddress + project patterns",
        }


def _scan_audited(project_id: int) -> bool:
    from core.models import AuditEvent

    return AuditEvent.objects.filter(project_id=project_id, action="pii.detected").exists()


def personal_data_sidecar(output, policy: PersonalDataPolicy | None) -> None:
    """Write personal_data.jsonl (flag policy, when anything was flagged) into the release."""
    if policy is None or not policy.flagged:
        return
    import orjson

    with output(SIDECAR) as handle:
        for row in policy.flagged:
            handle.write(orjson.dumps(row, option=orjson.OPT_SORT_KEYS) + b"\n")
