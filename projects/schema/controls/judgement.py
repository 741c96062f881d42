"""Preference and judgement controls: rating, ranking, pairwise, chat turn labels.

Pure Python, no Django imports."""

from __future__ import annotations

import math
from typing import Any

from .base import EPSILON, LABELS, MAX_RATING_STEPS, Control, Issue, check_text_value, is_number, json_scalar
from .choice import MultipleChoice


class Rating(Control):
    type = "rating"
    options = {
        "min": {"type": "number"},
        "max": {"type": "number"},
        "step": {"type": "number"},
        "min_label": {"type": "string", "maxLength": 100},
        "max_label": {"type": "string", "maxLength": 100},
        # Level of measurement for agreement (docs/QUALITY.md): ordinal by default (a 4 is more than a
        # 3, but the steps need not be equal); interval when the steps are equal distances.
        "level": {"enum": ["ordinal", "interval"]},
    }
    required_options = ("min", "max")

    def check_options(self, control, path, controls_by_name):
        low, high, step = control["min"], control["max"], control.get("step", 1)
        if low >= high:
            return [Issue(f"{path}.max", "invalid_range", "max must be greater than min.")]
        if step <= 0:
            return [Issue(f"{path}.step", "invalid_range", "step must be greater than 0.")]
        if (high - low) / step + 1 > MAX_RATING_STEPS + EPSILON:
            return [Issue(f"{path}.step", "too_many", f"A scale has at most {MAX_RATING_STEPS} steps.")]
        issues = []
        for key in ("min_label", "max_label"):
            if key in control:
                issues += check_text_value(control[key], f"{path}.{key}", "label")
        return issues

    def answer_values(self, control):
        low, step = control["min"], control.get("step", 1)
        count = math.floor((control["max"] - low) / step + EPSILON) + 1
        # Rounded: 0.1 + 0.2 must match a show_if value of 0.3.
        return {round(low + k * step, 9) for k in range(count)}

    def check_answer(self, control, value, path, ctx):
        if not is_number(value):
            return [Issue(path, "wrong_type", "A rating is a number.")]
        low, high, step = control["min"], control["max"], control.get("step", 1)
        if value < low or value > high:
            return [Issue(path, "out_of_bounds", f"A rating is between {low} and {high}.")]
        steps = (value - low) / step
        if abs(steps - round(steps)) > 1e-6:
            return [Issue(path, "off_grid", f"A rating is {low} plus a multiple of {step}.")]
        return []


def candidate_ids(candidates: Any) -> list | None:
    """Ids of the candidates in an item: an object's "id", otherwise its 0-based position."""
    if not isinstance(candidates, list):
        return None
    return [
        c["id"] if isinstance(c, dict) and json_scalar(c.get("id")) else i for i, c in enumerate(candidates)
    ]


class Ranking(Control):
    type = "ranking"
    field_types = frozenset({"candidates"})

    def check_answer(self, control, value, path, ctx):
        ids = candidate_ids(ctx.data_value)
        if ids is None:
            return [
                Issue(path, "invalid_data", "The item has no list of candidates for this control's field.")
            ]
        if not isinstance(value, list) or not all(json_scalar(v) for v in value):
            return [Issue(path, "wrong_type", "A ranking is a list of candidate ids, best first.")]
        expected, given = set(ids), set(value)
        if len(value) != len(ids) or given != expected:
            missing = sorted(map(str, expected - given))
            extra = sorted(map(str, given - expected))
            parts = [
                f"missing {', '.join(missing)}" if missing else "",
                f"unknown {', '.join(extra)}" if extra else "",
            ]
            detail = "; ".join(p for p in parts if p) or "an id is repeated"
            return [
                Issue(path, "not_a_permutation", f"A ranking lists every candidate exactly once ({detail}).")
            ]
        return []


class Pairwise(Control):
    type = "pairwise"
    field_types = frozenset({"candidates"})
    options = {"strength": {"type": "boolean"}, "allow_tie": {"type": "boolean"}}

    def answer_values(self, control):
        return {"A", "B", "tie"} if control.get("allow_tie", True) else {"A", "B"}

    def show_if_atoms(self, value):
        return [value["choice"]] if isinstance(value, dict) and isinstance(value.get("choice"), str) else []

    def check_answer(self, control, value, path, ctx):
        ids = candidate_ids(ctx.data_value)
        if ids is None or len(ids) != 2:
            return [
                Issue(path, "invalid_data", "A pairwise comparison needs exactly two candidates in the item.")
            ]
        issues = self.check_object(value, path, ("choice",))
        if issues:
            return issues
        unknown = set(value) - {"choice", "strength"}
        if unknown:
            return [
                Issue(
                    f"{path}.{sorted(unknown)[0]}",
                    "unknown_property",
                    "Only choice and strength are allowed.",
                )
            ]
        choice = value["choice"]
        if choice not in self.answer_values(control) or not isinstance(choice, str):
            allowed = " / ".join(sorted(self.answer_values(control)))
            return [Issue(f"{path}.choice", "invalid_choice", f"choice is one of {allowed}.")]
        strength = value.get("strength")
        if not control.get("strength") or choice == "tie":
            if strength is not None:
                return [
                    Issue(f"{path}.strength", "unexpected_strength", "No strength is given for this answer.")
                ]
            return []
        if strength is None:
            return [Issue(f"{path}.strength", "missing_property", "strength (1, 2 or 3) is required.")]
        if strength not in (1, 2, 3) or isinstance(strength, bool):
            return [Issue(f"{path}.strength", "out_of_bounds", "strength is 1, 2 or 3.")]
        return []


def conversation_turns(value: Any) -> list | None:
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        value = value["messages"]
    return value if isinstance(value, list) else None


class ChatTurnLabels(Control):
    type = "chat_turn_labels"
    field_types = frozenset({"conversation"})
    options = {
        "labels": LABELS,
        "multiple": {"type": "boolean"},
        "per_turn_roles": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "minLength": 1, "maxLength": 50},
        },
    }
    required_options = ("labels",)

    def show_if_atoms(self, value):
        atoms: list = []
        if isinstance(value, dict):
            for v in value.values():
                atoms += v if isinstance(v, list) else [v]
        return atoms

    def answer_values(self, control):
        return {label["value"] for label in control["labels"]}

    def check_answer(self, control, value, path, ctx):
        turns = conversation_turns(ctx.data_value)
        if turns is None:
            return [Issue(path, "invalid_data", "The item has no conversation for this control's field.")]
        if not isinstance(value, dict):
            return [Issue(path, "wrong_type", 'Expected an object: {"<turn index>": label}.')]
        roles = control.get("per_turn_roles")
        issues: list[Issue] = []
        for key, labels in value.items():
            where = f"{path}.{key}"
            index = int(key) if isinstance(key, str) and key.isdecimal() and key.isascii() else None
            if index is None or index >= len(turns) or (key != "0" and key.startswith("0")):
                issues.append(Issue(where, "unknown_turn", f"The conversation has no turn {key!r}."))
                continue
            turn = turns[index]
            role = turn.get("role") if isinstance(turn, dict) else None
            if roles is not None and role not in roles:
                issues.append(Issue(where, "role_not_labelled", f"Turns by {role!r} are not labelled here."))
                continue
            if control.get("multiple"):
                issues += MultipleChoice.check_answer(self, control, labels, where, ctx)  # type: ignore[arg-type]
            else:
                issues += self.check_label(control, labels, where, ctx)
        return issues
