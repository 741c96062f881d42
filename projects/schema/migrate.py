"""Label migrations: rename, merge, split and delete labels of a control, producing a new schema
definition. Pure (no Django); projects.services.schema_labels_migrate stores the result as a new
version and the annotation app sends affected items to re-review.

Operations (a list, applied in order):
    {"op": "rename", "control": "sentiment", "from": "pos", "to": "positive"}
    {"op": "merge",  "control": "sentiment", "from": ["pos", "very_pos"], "to": "positive"}
    {"op": "split",  "control": "sentiment", "from": "neutral", "to": ["neutral", "mixed"]}
    {"op": "delete", "control": "sentiment", "label": "unsure"}

Rename and merge map every old answer to exactly one new label, so old annotations stay correct
under the new names and need no re-review. Split and delete leave old answers ambiguous or invalid:
items whose annotations used those labels go back to review (`re_review`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .controls import Issue, check_text_value

OPS = ("rename", "merge", "split", "delete")
MAX_OPERATIONS = 100


@dataclass
class MigrationPlan:
    definition: dict  # the new schema definition
    # control -> old label -> its label in the new version, or None (split or deleted: needs review)
    mapping: dict[str, dict[str, str | None]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    @property
    def re_review(self) -> dict[str, set[str]]:
        """control -> old labels whose annotations must be reviewed again."""
        out = {
            name: {old for old, new in labels.items() if new is None} for name, labels in self.mapping.items()
        }
        return {name: labels for name, labels in out.items() if labels}

    @property
    def renames(self) -> dict[str, dict[str, str]]:
        """control -> old label -> new label, for labels that only changed name (rename, merge)."""
        out = {
            name: {old: new for old, new in labels.items() if new is not None and new != old}
            for name, labels in self.mapping.items()
        }
        return {name: labels for name, labels in out.items() if labels}


def plan_label_migration(definition: dict, operations: Any) -> MigrationPlan:
    """Apply `operations` to a copy of `definition` (a valid schema). Issues explain refusals."""
    plan = MigrationPlan(definition=copy.deepcopy(definition))
    if not isinstance(operations, list) or not 1 <= len(operations) <= MAX_OPERATIONS:
        plan.issues.append(
            Issue("operations", "invalid_operations", f"Give 1 to {MAX_OPERATIONS} operations in a list.")
        )
        return plan
    controls = {control["name"]: control for control in plan.definition["controls"]}
    for index, operation in enumerate(operations):
        issue = _apply(plan, controls, operation, f"operations[{index}]")
        if issue:
            plan.issues.append(issue)
            break  # later operations may depend on this one
    return plan


def _apply(plan: MigrationPlan, controls: dict, operation: Any, path: str) -> Issue | None:
    if not isinstance(operation, dict) or operation.get("op") not in OPS:
        return Issue(f"{path}.op", "invalid_operation", f"Each operation has an op: one of {', '.join(OPS)}.")
    op = operation["op"]
    expected = {"op", "control", "label"} if op == "delete" else {"op", "control", "from", "to"}
    if set(operation) != expected:
        return Issue(path, "invalid_operation", f"A {op} has exactly: {', '.join(sorted(expected))}.")
    control = controls.get(operation["control"])
    if control is None:
        return Issue(f"{path}.control", "unknown_control", f"There is no control {operation['control']!r}.")
    if not isinstance(control.get("labels"), list) or control["type"] == "taxonomy":
        return Issue(
            f"{path}.control", "not_migratable", f"{control['name']!r} has no flat list of labels to migrate."
        )
    labels = control["labels"]
    values = [label["value"] for label in labels]
    name = control["name"]
    # old label (in the version being migrated) -> its current label; starts as the identity
    current = plan.mapping.setdefault(name, {value: value for value in values})

    def move(sources: set[str], target: str | None) -> None:
        for old, now in current.items():
            if now in sources:
                current[old] = target

    def need(value: Any, where: str) -> Issue | None:
        if not isinstance(value, str) or value not in values:
            return Issue(f"{path}.{where}", "unknown_label", f"{name!r} has no label {value!r}.")
        return None

    def fresh(value: Any, where: str, allowed: tuple = ()) -> Issue | None:
        if not isinstance(value, str) or not value or len(value) > 100:
            return Issue(f"{path}.{where}", "invalid_label", "A label is 1 to 100 characters.")
        problems = check_text_value(value, f"{path}.{where}", "label")
        if problems:
            return problems[0]
        if value in values and value not in allowed:
            return Issue(f"{path}.{where}", "duplicate_label", f"{name!r} already has a label {value!r}.")
        return None

    if op == "rename":
        issue = need(operation["from"], "from") or fresh(operation["to"], "to")
        if issue:
            return issue
        labels[values.index(operation["from"])]["value"] = operation["to"]
        move({operation["from"]}, operation["to"])
    elif op == "merge":
        sources, target = operation["from"], operation["to"]
        if (
            not isinstance(sources, list)
            or len(sources) < 2
            or len({str(s) for s in sources}) != len(sources)
        ):
            return Issue(f"{path}.from", "invalid_operation", "A merge takes two or more distinct labels.")
        for source in sources:
            issue = need(source, "from")
            if issue:
                return issue
        # The target may be one of the merged labels or another existing label of the control.
        issue = fresh(target, "to", allowed=tuple(values))
        if issue:
            return issue
        keep = dict(labels[values.index(target)] if target in values else labels[values.index(sources[0])])
        keep["value"] = target
        at = min(values.index(value) for value in [*sources, target] if value in values)
        gone = {*sources, target}
        labels[:] = (
            [label for label in labels[:at] if label["value"] not in gone]
            + [keep]
            + [label for label in labels[at:] if label["value"] not in gone]
        )
        move(set(sources), target)
    elif op == "split":
        source, targets = operation["from"], operation["to"]
        if (
            not isinstance(targets, list)
            or len(targets) < 2
            or len({str(t) for t in targets}) != len(targets)
        ):
            return Issue(f"{path}.to", "invalid_operation", "A split makes two or more distinct labels.")
        issue = need(source, "from")
        if issue:
            return issue
        for target in targets:
            issue = fresh(target, "to", allowed=(source,))
            if issue:
                return issue
        at = values.index(source)
        template = {key: value for key, value in labels[at].items() if key not in ("value", "hotkey")}
        labels[at : at + 1] = [{**template, "value": target} for target in targets]
        move({source}, None)
    else:  # delete
        issue = need(operation["label"], "label")
        if issue:
            return issue
        if len(labels) == 1:
            return Issue(f"{path}.label", "last_label", f"{name!r} needs at least one label.")
        labels.pop(values.index(operation["label"]))
        move({operation["label"]}, None)
    return None


def labels_in_answer(answer: Any) -> set[str]:
    """The label values an answer uses: a choice, a list of choices, regions' "label", per-turn labels."""
    found: set[str] = set()
    stack = [answer]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            found.add(node)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if "label" in node:
                if isinstance(node["label"], str):
                    found.add(node["label"])
            else:
                stack.extend(value for value in node.values() if isinstance(value, list | str))
    return found
