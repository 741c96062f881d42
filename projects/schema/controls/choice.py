"""Choice-like controls: single and multiple choice, image classes, taxonomy.

Pure Python, no Django imports."""

from __future__ import annotations

from .base import LABELS, MAX_TAXONOMY_DEPTH, MAX_TAXONOMY_NODES, Control, Issue, check_label_list


class SingleChoice(Control):
    type = "single_choice"
    # ordered: the labels are a scale in schema order (e.g. poor < fair < good): agreement is ordinal.
    options = {"labels": LABELS, "ordered": {"type": "boolean"}}
    required_options = ("labels",)

    def answer_values(self, control):
        return {label["value"] for label in control["labels"]}

    def check_answer(self, control, value, path, ctx):
        return self.check_label(control, value, path, ctx)


class MultipleChoice(Control):
    type = "multiple_choice"
    options = {"labels": LABELS}
    required_options = ("labels",)

    def answer_values(self, control):
        return {label["value"] for label in control["labels"]}

    def check_answer(self, control, value, path, ctx):
        issues = self.check_list(value, path)
        if issues:
            return issues
        seen = set()
        for i, item in enumerate(value):
            issues += self.check_label(control, item, f"{path}[{i}]", ctx)
            if isinstance(item, str) and item in seen:
                issues.append(Issue(f"{path}[{i}]", "duplicate_value", f"{item!r} is chosen twice."))
            seen.add(item) if isinstance(item, str) else None
        return issues


class ImageClass(MultipleChoice):
    type = "image_class"
    field_types = frozenset({"image"})
    options = {"labels": LABELS, "multiple": {"type": "boolean"}}

    def check_answer(self, control, value, path, ctx):
        if control.get("multiple"):
            return super().check_answer(control, value, path, ctx)
        return self.check_label(control, value, path, ctx)


TAXONOMY_NODE = {
    "type": "object",
    "required": ["value"],
    "additionalProperties": False,
    "properties": {
        "value": {"type": "string", "minLength": 1, "maxLength": 100},
        "description": {"type": "string", "maxLength": 2000},
        "children": {"type": "array", "items": {"$ref": "#/$defs/taxonomy_node"}},
    },
}


def _taxonomy_paths(nodes: list[dict]) -> set[tuple[str, ...]]:
    paths: set[tuple[str, ...]] = set()
    stack: list[tuple[tuple[str, ...], list[dict]]] = [((), nodes)]
    while stack:
        prefix, children = stack.pop()
        for node in children:
            path = (*prefix, node["value"])
            paths.add(path)
            if node.get("children"):
                stack.append((path, node["children"]))
    return paths


class Taxonomy(Control):
    type = "taxonomy"
    options = {
        "choices": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/taxonomy_node"}},
        "multiple": {"type": "boolean"},
    }
    required_options = ("choices",)

    def check_options(self, control, path, controls_by_name):
        issues: list[Issue] = []
        count = 0
        # Iterative walk: a hostile tree cannot exhaust the stack.
        stack: list[tuple[str, list[dict], int]] = [(f"{path}.choices", control["choices"], 1)]
        while stack:
            where, nodes, depth = stack.pop()
            if depth > MAX_TAXONOMY_DEPTH:
                issues.append(
                    Issue(where, "too_deep", f"A taxonomy may be at most {MAX_TAXONOMY_DEPTH} levels deep.")
                )
                continue
            count += len(nodes)
            issues += check_label_list(nodes, where)
            for i, node in enumerate(nodes):
                if node.get("children"):
                    stack.append((f"{where}[{i}].children", node["children"], depth + 1))
        if count > MAX_TAXONOMY_NODES:
            issues.append(
                Issue(
                    f"{path}.choices", "too_many", f"A taxonomy may have at most {MAX_TAXONOMY_NODES} nodes."
                )
            )
        return issues

    def show_if_atoms(self, value):
        # show_if on a taxonomy compares the chosen leaf value(s).
        if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            return [v[-1] for v in value if v and isinstance(v[-1], str)]
        if isinstance(value, list) and value and isinstance(value[-1], str):
            return [value[-1]]
        return []

    def _check_path(self, control, item, path, ctx):
        if not isinstance(item, list) or not item or not all(isinstance(v, str) for v in item):
            return [
                Issue(path, "wrong_type", "A taxonomy answer is a non-empty list of values from the root.")
            ]
        key = (id(control), "paths")
        paths = ctx.cache.get(key)
        if paths is None:
            paths = ctx.cache[key] = _taxonomy_paths(control["choices"])
        if tuple(item) not in paths:
            return [Issue(path, "unknown_label", f"{' / '.join(item)!r} is not a path in the taxonomy.")]
        return []

    def check_answer(self, control, value, path, ctx):
        if not control.get("multiple"):
            return self._check_path(control, value, path, ctx)
        issues = self.check_list(value, path)
        if issues:
            return issues
        seen = set()
        for i, item in enumerate(value):
            found = self._check_path(control, item, f"{path}[{i}]", ctx)
            issues += found
            if not found:
                if tuple(item) in seen:
                    issues.append(Issue(f"{path}[{i}]", "duplicate_value", "This path is chosen twice."))
                seen.add(tuple(item))
        return issues
