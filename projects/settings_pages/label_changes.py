"""Saving a schema that drops labels: the label migration it implies (issue #16 item 6).

When a saved definition no longer has labels the newest version had (renamed, merged or dropped), the
schema page does not save straight away: it lists each vanished label with a choice (rename to a new
label, merge into a label that stays, delete: its items go to review, or keep old answers as they
are) and saves once the manager confirms. The chosen operations run through schema_labels_migrate
(the API's `POST .../schema-versions/migrate/`: a new version, audited, items re-reviewed), then the
rest of the edit is saved as the next version if anything else changed.

    vanished_labels(old, new) -> [{"control", "label", "added": [...], "kept": [...], "guess"}]
"""

from typing import Any

from django.db import transaction

from ..services import schema_labels_migrate, schema_version_create

CHOICE_PREFIX = "migrate."
KEEP = "keep"


def _labels(control: dict) -> list[str]:
    labels = control.get("labels")
    if not isinstance(labels, list):
        return []
    return [
        label["value"] for label in labels if isinstance(label, dict) and isinstance(label.get("value"), str)
    ]


def vanished_labels(old: dict, new: dict) -> list[dict]:
    """Labels of controls present in both definitions (by name) that the new one no longer has, with
    the labels it added and kept (the rename / merge targets) and a guess (a rename when exactly one
    label vanished and one was added in that control)."""
    new_controls = {c.get("name"): c for c in new.get("controls", []) if isinstance(c, dict)}
    out = []
    for control in old.get("controls", []):
        if not isinstance(control, dict) or control.get("name") not in new_controls:
            continue
        before, after = _labels(control), _labels(new_controls[control["name"]])
        gone = [label for label in before if label not in after]
        added = [label for label in after if label not in before]
        kept = [label for label in after if label in before]
        for label in gone:
            guess = f"rename:{added[0]}" if len(gone) == 1 and len(added) == 1 else KEEP
            out.append(
                {"control": control["name"], "label": label, "added": added, "kept": kept, "guess": guess}
            )
    return out


def choice_name(control: str, label: str) -> str:
    return f"{CHOICE_PREFIX}{control}.{label}"


def operations_from(changes: list[dict], post: Any) -> list[dict]:
    """Migration operations from the manager's choices (form values "rename:<new>", "merge:<kept>",
    "delete" or "keep"). Merges into the same label become one operation."""
    operations: list[dict] = []
    merges: dict[tuple[str, str], list[str]] = {}
    for change in changes:
        choice = post.get(choice_name(change["control"], change["label"]), change["guess"])
        kind, _, target = choice.partition(":")
        if kind == "rename" and target in change["added"]:
            operations.append(
                {"op": "rename", "control": change["control"], "from": change["label"], "to": target}
            )
        elif kind == "merge" and target in change["kept"]:
            merges.setdefault((change["control"], target), []).append(change["label"])
        elif kind == "delete":
            operations.append({"op": "delete", "control": change["control"], "label": change["label"]})
    for (control, target), sources in merges.items():
        operations.append({"op": "merge", "control": control, "from": [*sources, target], "to": target})
    return operations


@transaction.atomic
def schema_save_with_migration(*, project, actor, definition: dict, note: str, operations: list[dict]):
    """Apply the label operations (a new version through the migration service), then save the
    submitted definition as the next version when it still differs. Returns the newest version."""
    version = None
    if operations:
        migration = schema_labels_migrate(project=project, actor=actor, operations=operations, note=note)
        version = migration.to_version
        if version.definition == definition:
            return version
    return schema_version_create(project=project, actor=actor, definition=definition, note=note)
