/**
 * Label schema definitions in the browser: the types, a quick check of the common mistakes, and the
 * edits the form builder makes (parsing and printing JSON or YAML: schema-text.ts). No UI framework imports.
 *
 * The server (projects.schema.validate_schema) is the judge: the quick check here only catches what
 * can be seen without it (syntax, duplicates, markup in labels, dangling references), so an author
 * gets feedback while typing. Every edit returns a new definition; nothing is mutated in place.
 */
import { type Format, type ParseResult, type SyntaxProblem, convertText, jsonErrorOffset, parseText, positionOf, printValue } from "./schema-text";

// The text side (JSON/YAML parse and print) lives in schema-text.ts; importers keep using this module.
export { convertText, jsonErrorOffset, parseText, positionOf, printValue };
export type { Format, ParseResult, SyntaxProblem };

export interface Label {
  value: string;
  hotkey?: string;
  color?: string;
  description?: string;
}

export interface Field {
  name: string;
  type: string;
  source?: string;
  title?: string;
}

export interface ShowIf {
  control: string;
  equals?: unknown;
  in?: unknown[];
}

export interface Control {
  name: string;
  type: string;
  field: string;
  required?: boolean;
  show_if?: ShowIf;
  title?: string;
  description?: string;
  [option: string]: unknown;
}

export interface Definition {
  version: number;
  fields: Field[];
  controls: Control[];
}

/** One control type as the server registers it (projects.schema.controls.CONTROLS). */
export interface ControlType {
  type: string;
  /** The field types it may answer; `null` means any. */
  field_types: string[] | null;
  options: string[];
  required_options: string[];
}

export interface Issue {
  path: string;
  message: string;
  code?: string;
}

export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const COLOR_PATTERN = /^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

export const CONTROL_TITLES: Readonly<Record<string, string>> = {
  single_choice: "Single choice",
  multiple_choice: "Multiple choice",
  taxonomy: "Taxonomy",
  spans: "Text spans",
  relations: "Span relations",
  image_class: "Image class",
  bbox: "Bounding boxes",
  polygon: "Polygons",
  keypoints: "Keypoints",
  audio_segments: "Audio segments",
  transcription: "Transcription",
  video_segments: "Video segments",
  video_bbox: "Video boxes",
  rating: "Rating",
  ranking: "Ranking",
  pairwise: "Pairwise preference",
  text: "Free text",
  chat_turn_labels: "Chat turn labels",
};

export const controlTitle = (type: string): string => CONTROL_TITLES[type] ?? type;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

// --- Reading a definition of any shape -------------------------------------------------------------

/** The fields and controls of whatever was typed, keeping only entries that are objects. */
export function looseDefinition(value: unknown): { fields: Partial<Field>[]; controls: Partial<Control>[] } | null {
  if (!isRecord(value)) return null;
  const objects = (list: unknown) => (Array.isArray(list) ? list.filter(isRecord) : []);
  return { fields: objects(value.fields) as Partial<Field>[], controls: objects(value.controls) as Partial<Control>[] };
}

/** The key that holds a control's list of named options in the form builder, if any. */
export function labelListKey(
  type: string | undefined,
  options: readonly string[] = [],
): "labels" | "choices" | "keypoints" | null {
  if (type === "taxonomy") return "choices";
  if (type === "keypoints") return "keypoints";
  return options.includes("labels") ? "labels" : null;
}

export const labelsOf = (control: Partial<Control>, key: string): Partial<Label>[] => {
  const list = control[key];
  return Array.isArray(list) ? (list.filter(isRecord) as Partial<Label>[]) : [];
};

// --- Quick check ----------------------------------------------------------------------------------

/**
 * The mistakes that can be seen without the server: shape, names, duplicates, markup and control
 * characters in labels, hotkeys, colours and references. Messages follow the server's wording.
 */
export function quickCheck(value: unknown, types: readonly ControlType[], fieldTypes: readonly string[]): Issue[] {
  const issues: Issue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  if (!isRecord(value)) return [{ path: "", message: "A label schema must be a JSON object." }];
  if (value.version !== 1) add("version", "Must be 1.");
  for (const key of Object.keys(value)) {
    if (!["version", "fields", "controls"].includes(key)) add(key, `'${key}' is not an option here.`);
  }
  const fields = Array.isArray(value.fields) ? value.fields : null;
  const controls = Array.isArray(value.controls) ? value.controls : null;
  if (fields === null) add("fields", "A list of fields is required.");
  else if (fields.length === 0) add("fields", "Add at least one field.");
  if (controls === null) add("controls", "A list of controls is required.");
  else if (controls.length === 0) add("controls", "Add at least one control.");

  const fieldTypeByName = new Map<string, string>();
  (fields ?? []).forEach((field, i) => {
    const where = `fields[${i}]`;
    if (!isRecord(field)) {
      add(where, "Each field must be an object.");
      return;
    }
    if (typeof field.name !== "string" || !NAME_PATTERN.test(field.name)) {
      add(`${where}.name`, "A name starts with a letter or _ and has at most 64 letters, digits or _.");
    } else if (fieldTypeByName.has(field.name)) add(`${where}.name`, `The field name '${field.name}' is used twice.`);
    if (typeof field.type !== "string" || !fieldTypes.includes(field.type)) {
      add(`${where}.type`, `Must be one of: ${fieldTypes.join(", ")}.`);
    }
    if (typeof field.name === "string") fieldTypeByName.set(field.name, String(field.type));
  });

  const typeByName = new Map(types.map((t) => [t.type, t]));
  const seenControls = new Set<string>();
  const hotkeys = new Map<string, string>();
  (controls ?? []).forEach((control, i) => {
    const where = `controls[${i}]`;
    if (!isRecord(control)) {
      add(where, "Each control must be an object.");
      return;
    }
    const name = control.name;
    if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
      add(`${where}.name`, "A name starts with a letter or _ and has at most 64 letters, digits or _.");
    } else if (seenControls.has(name)) add(`${where}.name`, `The control name '${name}' is used twice.`);
    const type = typeof control.type === "string" ? typeByName.get(control.type) : undefined;
    if (type === undefined) add(`${where}.type`, `Unknown control type ${JSON.stringify(control.type)}.`);
    if (typeof control.field !== "string" || !fieldTypeByName.has(control.field)) {
      add(`${where}.field`, `No field is called ${JSON.stringify(control.field)}.`);
    } else if (type?.field_types && !type.field_types.includes(fieldTypeByName.get(control.field) ?? "")) {
      add(`${where}.field`, `A ${type.type} control cannot answer a ${fieldTypeByName.get(control.field)} field.`);
    }
    if (type !== undefined) {
      for (const option of type.required_options) {
        if (!(option in control)) add(`${where}.${option}`, `'${option}' is required.`);
      }
      const allowed = new Set([
        "name",
        "type",
        "field",
        "required",
        "show_if",
        "title",
        "description",
        ...type.options,
      ]);
      for (const key of Object.keys(control))
        if (!allowed.has(key)) add(`${where}.${key}`, `'${key}' is not an option here.`);
    }
    for (const key of ["labels", "keypoints"] as const) {
      const list = control[key];
      if (list === undefined) continue;
      if (!Array.isArray(list)) {
        add(`${where}.${key}`, "Must be a list.");
        continue;
      }
      checkLabels(list, `${where}.${key}`, key === "keypoints" ? "keypoint" : "label", add, hotkeys);
    }
    if (Array.isArray(control.choices)) checkTree(control.choices, `${where}.choices`, add);
    if (control.show_if !== undefined) {
      const target = isRecord(control.show_if) ? control.show_if.control : undefined;
      if (typeof target !== "string" || !seenControls.has(target)) {
        add(`${where}.show_if.control`, "show_if must name a control that comes earlier in the list.");
      }
    }
    if (typeof name === "string") seenControls.add(name);
  });
  return issues;
}

function checkLabel(value: unknown, path: string, what: string, add: (path: string, message: string) => void): void {
  if (typeof value !== "string" || value.length === 0) {
    add(path, `The ${what} needs a value.`);
    return;
  }
  if (value.length > 100) add(path, `The ${what} may have at most 100 characters.`);
  if (/[<>]/.test(value)) add(path, `The ${what} ${JSON.stringify(value)} contains '<' or '>'; markup is not allowed.`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: this check looks for control characters
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value))
    add(path, `The ${what} ${JSON.stringify(value)} contains a control character.`);
  if (value.trim() === "") add(path, `The ${what} is blank.`);
}

function checkLabels(
  list: unknown[],
  path: string,
  what: string,
  add: (path: string, message: string) => void,
  hotkeys: Map<string, string>,
): void {
  const seen = new Set<unknown>();
  list.forEach((label, i) => {
    const where = `${path}[${i}]`;
    if (!isRecord(label)) {
      add(where, `Each ${what} must be an object with a value.`);
      return;
    }
    checkLabel(label.value, `${where}.value`, what, add);
    if (seen.has(label.value)) add(`${where}.value`, `The ${what} ${JSON.stringify(label.value)} is listed twice.`);
    seen.add(label.value);
    if (label.hotkey !== undefined) {
      const key = typeof label.hotkey === "string" ? label.hotkey : "";
      if ([...key].length !== 1 || key.trim() === "") add(`${where}.hotkey`, "A hotkey is one visible character.");
      else if (hotkeys.has(key.toLowerCase())) {
        add(`${where}.hotkey`, `The hotkey '${key}' is already used by ${hotkeys.get(key.toLowerCase())}.`);
      } else hotkeys.set(key.toLowerCase(), JSON.stringify(label.value));
    }
    if (label.color !== undefined && (typeof label.color !== "string" || !COLOR_PATTERN.test(label.color))) {
      add(`${where}.color`, "A colour is #rgb or #rrggbb.");
    }
  });
}

function checkTree(nodes: unknown[], path: string, add: (path: string, message: string) => void): void {
  const stack: [unknown[], string, number][] = [[nodes, path, 1]];
  while (stack.length > 0) {
    const [list, where, depth] = stack.pop()!;
    if (depth > 6) {
      add(where, "A taxonomy may be at most 6 levels deep.");
      continue;
    }
    const seen = new Set<unknown>();
    list.forEach((node, i) => {
      if (!isRecord(node)) {
        add(`${where}[${i}]`, "Each choice must be an object with a value.");
        return;
      }
      checkLabel(node.value, `${where}[${i}].value`, "label", add);
      if (seen.has(node.value)) add(`${where}[${i}].value`, `The label ${JSON.stringify(node.value)} is listed twice.`);
      seen.add(node.value);
      if (Array.isArray(node.children)) stack.push([node.children, `${where}[${i}].children`, depth + 1]);
    });
  }
}

/** Issues whose path is inside `controls[index]`. */
export const issuesOfControl = (issues: readonly Issue[], index: number): Issue[] =>
  issues.filter(
    (issue) =>
      issue.path === `controls[${index}]` ||
      issue.path.startsWith(`controls[${index}].`) ||
      issue.path.startsWith(`controls[${index}][`),
  );

// --- Edits (the form builder) ----------------------------------------------------------------------

/** A definition the builder can edit: the typed value with missing lists filled in. */
export function editable(value: unknown): Definition | null {
  if (!isRecord(value)) return null;
  if (value.fields !== undefined && !Array.isArray(value.fields)) return null;
  if (value.controls !== undefined && !Array.isArray(value.controls)) return null;
  return {
    ...value,
    version: typeof value.version === "number" ? value.version : 1,
    fields: (value.fields as Field[] | undefined) ?? [],
    controls: (value.controls as Control[] | undefined) ?? [],
  } as Definition;
}

/** A name like `base`, `base_2`, ... that is not in `taken`. */
export function freeName(base: string, taken: Iterable<unknown>): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n += 1) if (!used.has(`${base}_${n}`)) return `${base}_${n}`;
}

/** The options a new control of `type` needs to be valid. */
export function defaultOptions(type: string, definition: Definition): Record<string, unknown> {
  switch (type) {
    case "single_choice":
    case "multiple_choice":
    case "image_class":
    case "chat_turn_labels":
      return { labels: [{ value: "yes" }, { value: "no" }] };
    case "spans":
    case "bbox":
    case "polygon":
    case "audio_segments":
    case "video_segments":
    case "video_bbox":
      return { labels: [{ value: "label_1" }] };
    case "relations": {
      const spans = definition.controls.find((control) => control.type === "spans");
      return { spans: spans?.name ?? "spans", labels: [{ value: "related_to" }] };
    }
    case "taxonomy":
      return { choices: [{ value: "Category", children: [{ value: "Subcategory" }] }] };
    case "keypoints":
      return { keypoints: [{ value: "point_1" }, { value: "point_2" }] };
    case "rating":
      return { min: 1, max: 5 };
    default:
      return {};
  }
}

const CONTROL_KEYS = ["name", "type", "field", "required", "show_if", "title", "description"];

export function addField(definition: Definition, field: { name: string; type: string }): Definition {
  return { ...definition, fields: [...definition.fields, { name: field.name, type: field.type }] };
}

/** Changes field `index`; a rename follows into every control that answered the old name. */
export function updateField(definition: Definition, index: number, patch: Partial<Field>): Definition {
  const old = definition.fields[index];
  if (old === undefined) return definition;
  const field = withoutBlank({ ...old, ...patch }) as Field;
  const renamed = patch.name !== undefined && patch.name !== old.name;
  return {
    ...definition,
    fields: definition.fields.map((f, i) => (i === index ? field : f)),
    controls: renamed
      ? definition.controls.map((c) => (c.field === old.name ? { ...c, field: patch.name as string } : c))
      : definition.controls,
  };
}

export function removeField(definition: Definition, index: number): Definition {
  return { ...definition, fields: definition.fields.filter((_, i) => i !== index) };
}

export function addControl(
  definition: Definition,
  control: { type: string; name: string; field: string; required: boolean },
): Definition {
  const added: Control = {
    name: control.name,
    type: control.type,
    field: control.field,
    ...(control.required ? { required: true } : {}),
    ...defaultOptions(control.type, definition),
  };
  return { ...definition, controls: [...definition.controls, added] };
}

/**
 * Changes control `index`. A new type keeps the options both types share (e.g. labels) and gains
 * the defaults it requires; a rename follows into show_if and relations that named the control.
 */
export function updateControl(
  definition: Definition,
  index: number,
  patch: Partial<Control>,
  types: readonly ControlType[],
): Definition {
  const old = definition.controls[index];
  if (old === undefined) return definition;
  let control: Control = { ...old, ...patch };
  if (patch.required === false) delete control.required;
  if (patch.type !== undefined && patch.type !== old.type) {
    const type = types.find((t) => t.type === patch.type);
    const keep = new Set([...CONTROL_KEYS, ...(type?.options ?? [])]);
    const kept = Object.fromEntries(Object.entries(control).filter(([key]) => keep.has(key)));
    const { name, type: newType, field, ...rest } = { ...defaultOptions(patch.type, definition), ...kept } as Control;
    control = { name, type: newType, field, ...rest }; // the identifying keys stay first in the text
  }
  const renamed = patch.name !== undefined && patch.name !== old.name;
  return {
    ...definition,
    controls: definition.controls.map((c, i) => {
      if (i === index) return control;
      if (!renamed) return c;
      let next = c;
      if (isRecord(c.show_if) && c.show_if.control === old.name)
        next = { ...next, show_if: { ...c.show_if, control: patch.name as string } };
      if (c.type === "relations" && c.spans === old.name) next = { ...next, spans: patch.name };
      return next;
    }),
  };
}

export function removeControl(definition: Definition, index: number): Definition {
  return { ...definition, controls: definition.controls.filter((_, i) => i !== index) };
}

export function moveControl(definition: Definition, index: number, by: -1 | 1): Definition {
  const target = index + by;
  if (target < 0 || target >= definition.controls.length) return definition;
  const controls = [...definition.controls];
  [controls[index], controls[target]] = [controls[target] as Control, controls[index] as Control];
  return { ...definition, controls };
}

function withList(
  definition: Definition,
  index: number,
  key: string,
  change: (list: Partial<Label>[]) => Partial<Label>[],
): Definition {
  const control = definition.controls[index];
  if (control === undefined) return definition;
  const list = Array.isArray(control[key]) ? (control[key] as Partial<Label>[]) : [];
  return {
    ...definition,
    controls: definition.controls.map((c, i) => (i === index ? { ...c, [key]: change(list) } : c)),
  };
}

/** Blank optional properties are dropped, not stored as "" (which the schema refuses). */
function withoutBlank<T extends object>(value: T): T {
  return Object.fromEntries(
    Object.entries(value).filter(([key, v]) => key === "value" || key === "name" || v !== ""),
  ) as T;
}

export function addLabel(definition: Definition, index: number, key: string): Definition {
  return withList(definition, index, key, (list) => [
    ...list,
    {
      value: freeName(
        key === "keypoints" ? "point" : "label",
        list.map((l) => l.value),
      ),
    },
  ]);
}

export function updateLabel(
  definition: Definition,
  index: number,
  key: string,
  labelIndex: number,
  patch: Partial<Label>,
): Definition {
  return withList(definition, index, key, (list) =>
    list.map((label, i) => (i === labelIndex ? withoutBlank({ ...label, ...patch }) : label)),
  );
}

export function removeLabel(definition: Definition, index: number, key: string, labelIndex: number): Definition {
  return withList(definition, index, key, (list) => list.filter((_, i) => i !== labelIndex));
}
