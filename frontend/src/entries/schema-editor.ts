/**
 * Label schema page: enhances the server's form with the schema editor (managers), or shows a
 * read-only preview of the current version (everyone else).
 *
 * Django renders `{{ editor_config|json_script:"schema-editor-config" }}`:
 * {"editable": true, "current": {...} | null, "issues": [{path, code, message}],
 *  "field_types": ["text", ...], "controls": [{type, field_types, options, required_options}],
 *  "examples": [{name, title, kind, schema}]}
 * next to `#schema-form` (with `#schema-definition-field` holding the `definition` textarea and an
 * empty, hidden `#schema-editor`) and/or an empty `#schema-preview`. Without this script the form
 * still saves the JSON typed into the textarea.
 */
import { h, render } from "preact";

import type { ControlType, Issue } from "../schema/schema-definition";
import { SchemaEditor, type SchemaEditorConfig, type SchemaExample } from "../schema/schema-editor";
import { SchemaPreview } from "../schema/schema-preview";
import "../schema/schema-pages.css";

interface PageConfig extends SchemaEditorConfig {
  editable: boolean;
  current: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;

/** The page config, or `null` if it is missing or unusable. */
export function readConfig(): PageConfig | null {
  const script = document.getElementById("schema-editor-config");
  if (script === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(script.textContent ?? "");
  } catch {
    return null;
  }
  if (!isObject(raw)) return null;
  const { editable, current, issues, field_types, controls, examples } = raw;
  if (!Array.isArray(controls) || !Array.isArray(field_types)) return null;
  return {
    editable: editable === true,
    current: current ?? null,
    issues: Array.isArray(issues)
      ? issues
          .filter(isObject)
          .map((i) => ({ path: String(i.path ?? ""), message: String(i.message ?? ""), code: String(i.code ?? "") }))
      : ([] as Issue[]),
    fieldTypes: field_types.map(String),
    controls: controls.filter(isObject) as unknown as ControlType[],
    examples: Array.isArray(examples) ? (examples.filter(isObject) as unknown as SchemaExample[]) : [],
  };
}

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

const config = readConfig();
const host = document.getElementById("schema-editor");
const fieldWrapper = document.getElementById("schema-definition-field");
const form = document.getElementById("schema-form");
const textarea = fieldWrapper?.querySelector("textarea") ?? null;

if (
  config?.editable &&
  host !== null &&
  fieldWrapper !== null &&
  form instanceof HTMLFormElement &&
  textarea !== null
) {
  render(h(SchemaEditor, { config, field: textarea, form, storage: storage() }), host);
  host.hidden = false;
  fieldWrapper.hidden = true; // still submitted: the editor writes the JSON into it
  // A hidden required field that is empty would block the submit without a visible message; the
  // editor refuses an empty definition itself, with one.
  textarea.required = false;
}

const previewHost = document.getElementById("schema-preview");
if (config !== null && previewHost !== null && config.current !== null) {
  previewHost.replaceChildren();
  render(h(SchemaPreview, { definition: config.current }), previewHost);
}
