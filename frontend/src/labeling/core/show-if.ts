/**
 * show_if, evaluated exactly as the server does (projects/schema/validate.py `_shown`,
 * projects/schema/controls.py `show_if_atoms`, `is_empty`): a control is shown when its controller
 * is shown, answered, and one of the controller's answer atoms equals the wanted value.
 */
import type { Control, Definition, Result } from "../contract";

/** `null`, "", [] and {} are "not answered" (docs/SCHEMA.md). */
export function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object") return Object.keys(value as object).length === 0;
  return false;
}

const isJsonScalar = (v: unknown): boolean =>
  typeof v === "string" || (typeof v === "number" && Number.isInteger(v));
const isNumber = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);

/** The values of an answer that show_if compares, per control type. */
export function showIfAtoms(type: string, value: unknown): unknown[] {
  if (type === "taxonomy") {
    if (Array.isArray(value) && value.length > 0 && value.every(Array.isArray)) {
      return (value as unknown[][])
        .filter((path) => path.length > 0 && typeof path[path.length - 1] === "string")
        .map((path) => path[path.length - 1]);
    }
    if (Array.isArray(value) && value.length > 0 && typeof value[value.length - 1] === "string") {
      return [value[value.length - 1]];
    }
    return [];
  }
  if (type === "pairwise") {
    const choice = isRecord(value) ? value.choice : undefined;
    return typeof choice === "string" ? [choice] : [];
  }
  if (type === "chat_turn_labels") {
    const atoms: unknown[] = [];
    if (isRecord(value)) for (const v of Object.values(value)) atoms.push(...(Array.isArray(v) ? v : [v]));
    return atoms;
  }
  if (Array.isArray(value)) return value.filter(isJsonScalar);
  return isJsonScalar(value) || isNumber(value) ? [value] : [];
}

/** Python's `==` for the scalars show_if compares: numbers (and booleans, as 0/1) by value. */
export function pyEquals(a: unknown, b: unknown): boolean {
  const num = (v: unknown) => (typeof v === "boolean" ? Number(v) : v);
  const x = num(a);
  const y = num(b);
  if (typeof x === "number" && typeof y === "number") return x === y;
  return typeof x === typeof y && x === y;
}

/** Names of the controls shown for `result`, in schema order. */
export function visibleControls(definition: Definition, result: Result): Set<string> {
  const visible = new Map<string, Control>();
  for (const control of definition.controls) {
    const rule = control.show_if;
    let shown = true;
    if (rule) {
      const target = visible.get(rule.control);
      const answer = result[rule.control];
      if (target === undefined || isEmpty(answer)) shown = false;
      else {
        const atoms = showIfAtoms(target.type, answer);
        const wanted = "equals" in rule ? [rule.equals] : Array.isArray(rule.in) ? rule.in : [];
        shown = wanted.some((w) => atoms.some((a) => pyEquals(a, w)));
      }
    }
    if (shown) visible.set(control.name, control);
  }
  return new Set(visible.keys());
}

/** The result to submit: answers of hidden controls and empty answers dropped. */
export function resultForSubmit(definition: Definition, result: Result): Result {
  const visible = visibleControls(definition, result);
  const out: Result = {};
  for (const control of definition.controls) {
    const value = result[control.name];
    if (visible.has(control.name) && !isEmpty(value)) out[control.name] = value;
  }
  return out;
}

/** Required, shown controls that have no answer yet. */
export function missingRequired(
  definition: Definition,
  result: Result,
  emptyFor: (control: Control, value: unknown) => boolean = (_c, v) => isEmpty(v),
): Control[] {
  const visible = visibleControls(definition, result);
  return definition.controls.filter(
    (c) => c.required && visible.has(c.name) && emptyFor(c, result[c.name]),
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
