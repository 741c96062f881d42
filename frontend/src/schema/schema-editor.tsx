import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import { SchemaBuilder } from "./schema-builder";
import {
  editable,
  looseDefinition,
  parseText,
  printValue,
  quickCheck,
  type ControlType,
  type Definition,
  type Format,
  type Issue,
  type ParseResult,
} from "./schema-definition";
import { SchemaPreview } from "./schema-preview";
import "./schema-editor.css";

/** An example of docs/SCHEMA.md, as projects.schema.examples.schema_examples() sends it. */
export interface SchemaExample {
  name: string;
  title: string;
  kind: "control" | "use_case";
  schema: unknown;
}

export interface SchemaEditorConfig {
  examples: readonly SchemaExample[];
  controls: readonly ControlType[];
  fieldTypes: readonly string[];
  /** What the server refused on the last save, listed until the author changes the text. */
  issues: readonly Issue[];
}

export interface SchemaEditorProps {
  config: SchemaEditorConfig;
  /** The form's `definition` textarea: it starts with the text and always receives JSON to submit. */
  field: HTMLTextAreaElement;
  form: HTMLFormElement;
  /** Where the chosen view is remembered between visits; `null` to not remember. */
  storage?: Pick<Storage, "getItem" | "setItem"> | null;
}

type View = "form" | Format;
const VIEWS: readonly { view: View; label: string }[] = [
  { view: "form", label: "Form" },
  { view: "json", label: "JSON" },
  { view: "yaml", label: "YAML" },
];
const VIEW_KEY = "tessera.schema-editor.view";

function storedView(storage: SchemaEditorProps["storage"]): View | null {
  try {
    const value = storage?.getItem(VIEW_KEY);
    return value === "form" || value === "json" || value === "yaml" ? value : null;
  } catch {
    return null; // storage disabled: just do not remember
  }
}

/** The page starts with the JSON the server rendered; a remembered YAML view converts it once. */
function initialState(text: string, remembered: View | null): { text: string; format: Format; view: View } {
  const parsed = parseText(text, "json");
  if (!parsed.ok) return { text, format: "json", view: "json" }; // show the text the server refused
  if (remembered === "yaml") return { text: printValue(parsed.value, "yaml"), format: "yaml", view: "yaml" };
  return { text, format: "json", view: remembered ?? "form" };
}

const where = (result: ParseResult): string =>
  result.ok || result.error.line === null ? "" : `Line ${result.error.line}, column ${result.error.column ?? 1}: `;

/**
 * The schema editor: the definition as a form, JSON or YAML (one text, shown in the chosen format),
 * a live preview of the controls, a quick check, and examples to start from. The server's form
 * still does the saving: the hidden textarea always holds the JSON to submit.
 */
export function SchemaEditor({ config, field, form, storage = null }: SchemaEditorProps) {
  const [start] = useState(() => initialState(field.value, storedView(storage)));
  const [format, setFormat] = useState<Format>(start.format);
  const [text, setText] = useState(start.text);
  const [view, setView] = useState<View>(start.view);
  const [notice, setNotice] = useState<{ message: string; undo?: string } | null>(null);
  const [checked, setChecked] = useState<Issue[] | null>(null);
  const [serverIssues, setServerIssues] = useState<readonly Issue[]>(config.issues);
  const [blocked, setBlocked] = useState<string | null>(null);
  const parsed = useMemo(() => parseText(text, format), [text, format]);
  const lastGood = useRef<unknown>(parsed.ok ? parsed.value : null);
  if (parsed.ok) lastGood.current = parsed.value;
  const codeRef = useRef<HTMLTextAreaElement>(null);

  // The form submits JSON, whatever the author edits in.
  useEffect(() => {
    field.value = format === "json" || !parsed.ok ? text : printValue(parsed.value, "json");
  }, [text, format, parsed, field]);

  // A definition that does not parse is not sent: the author keeps the text and the chosen view.
  useEffect(() => {
    const onSubmit = (event: SubmitEvent) => {
      const now = parseText(codeRef.current?.value ?? text, format);
      if (now.ok) return;
      event.preventDefault();
      setBlocked(`Not saved: the ${format.toUpperCase()} has a syntax error. ${where(now)}${now.error.message}`);
      if (view === "form") setView(format);
      codeRef.current?.focus();
    };
    form.addEventListener("submit", onSubmit);
    return () => form.removeEventListener("submit", onSubmit);
  }, [form, text, format, view]);

  const changeText = (next: string) => {
    setText(next);
    setChecked(null);
    setBlocked(null);
    setServerIssues([]);
  };

  const changeDefinition = (definition: Definition) => {
    changeText(printValue(definition, format));
    setNotice(null);
  };

  const choose = (next: View) => {
    try {
      storage?.setItem(VIEW_KEY, next);
    } catch {
      // storage disabled
    }
    if (next === "form" || next === format) {
      setView(next);
      return;
    }
    if (!parsed.ok) {
      setNotice({ message: `Fix the ${format.toUpperCase()} syntax error before switching to ${next.toUpperCase()}.` });
      return;
    }
    setText(printValue(parsed.value, next));
    setFormat(next);
    setView(next);
    setNotice(null);
  };

  const loadExample = (name: string) => {
    const example = config.examples.find((e) => e.name === name);
    if (example === undefined) return;
    const before = text;
    changeText(printValue(example.schema, format));
    setNotice({ message: `Loaded the example “${example.title}”.`, undo: before });
  };

  const quick = useMemo(
    () => (parsed.ok ? quickCheck(parsed.value, config.controls, config.fieldTypes) : []),
    [parsed, config.controls, config.fieldTypes],
  );
  const builderDefinition = parsed.ok ? editable(parsed.value) : null;
  const loose = looseDefinition(lastGood.current);
  const previewIssues = serverIssues.length > 0 ? serverIssues : (checked ?? []);

  return (
    <div class="se">
      <div class="se-toolbar">
        <div class="se-tabs" role="group" aria-label="Edit as">
          {VIEWS.map(({ view: v, label }) => (
            <button key={v} type="button" class="se-tab" aria-pressed={view === v} onClick={() => choose(v)}>
              {label}
            </button>
          ))}
        </div>
        <div class="se-toolbar__end">
          {config.examples.length > 0 && (
            <select
              class="se-examples"
              aria-label="Start from an example"
              value=""
              onChange={(e) => loadExample((e.currentTarget as HTMLSelectElement).value)}
            >
              <option value="">Start from an example…</option>
              <optgroup label="One control">
                {config.examples
                  .filter((e) => e.kind === "control")
                  .map((e) => (
                    <option key={e.name} value={e.name}>
                      {e.title}
                    </option>
                  ))}
              </optgroup>
              <optgroup label="Use cases">
                {config.examples
                  .filter((e) => e.kind === "use_case")
                  .map((e) => (
                    <option key={e.name} value={e.name}>
                      {e.title}
                    </option>
                  ))}
              </optgroup>
            </select>
          )}
          <button
            type="button"
            class="button button--ghost button--small"
            onClick={() => setChecked(parsed.ok ? quick : [])}
          >
            Check
          </button>
        </div>
      </div>

      {notice !== null && (
        <p class="se-notice" role="status">
          {notice.message}
          {notice.undo !== undefined && (
            <button
              type="button"
              class="linkbutton"
              onClick={() => {
                changeText(notice.undo ?? "");
                setNotice(null);
              }}
            >
              Undo
            </button>
          )}
        </p>
      )}

      <div class="se-body">
        <div class="se-edit">
          {view === "form" ? (
            builderDefinition !== null ? (
              <SchemaBuilder
                definition={builderDefinition}
                types={config.controls}
                fieldTypes={config.fieldTypes}
                issues={serverIssues.length > 0 ? serverIssues : quick}
                onChange={changeDefinition}
              />
            ) : (
              <div class="se-blocked">
                <p>The form needs a definition that parses and is an object with lists of fields and controls.</p>
                <button type="button" class="button button--ghost button--small" onClick={() => setView(format)}>
                  Fix it in {format.toUpperCase()}
                </button>
              </div>
            )
          ) : (
            <label class="se-code">
              <span class="sr-only">Schema as {format.toUpperCase()}</span>
              <textarea
                ref={codeRef}
                class={`se-code__input${parsed.ok ? "" : " se-code__input--error"}`}
                value={text}
                rows={24}
                spellcheck={false}
                autocapitalize="off"
                aria-invalid={!parsed.ok}
                aria-describedby="se-status"
                onInput={(e) => changeText((e.currentTarget as HTMLTextAreaElement).value)}
                onKeyDown={indentWithTab}
              />
            </label>
          )}
          <Status parsed={parsed} quick={quick} format={format} />
          {blocked !== null && (
            <p class="se-blocked-save" role="alert">
              {blocked}
            </p>
          )}
          {checked !== null && <CheckResult issues={checked} parsed={parsed} />}
        </div>
        <div class="se-preview" aria-labelledby="se-preview-title">
          <h3 class="se-preview__title" id="se-preview-title">
            Live preview <span class="pv-muted">what annotators see</span>
          </h3>
          {!parsed.ok && loose !== null && <p class="se-preview__stale">Showing the last version that parsed.</p>}
          <SchemaPreview definition={lastGood.current} issues={previewIssues} stale={!parsed.ok} />
        </div>
      </div>
    </div>
  );
}

function Status({ parsed, quick, format }: { parsed: ParseResult; quick: readonly Issue[]; format: Format }) {
  if (!parsed.ok) {
    return (
      <p class="se-status se-status--error" id="se-status" role="alert">
        <span aria-hidden="true">✕ </span>
        {where(parsed)}
        {parsed.error.message}
      </p>
    );
  }
  const loose = looseDefinition(parsed.value);
  const counts =
    loose === null ? "" : ` · ${plural(loose.fields.length, "field")} · ${plural(loose.controls.length, "control")}`;
  return (
    <p class={`se-status${quick.length > 0 ? " se-status--warn" : " se-status--ok"}`} id="se-status">
      <span aria-hidden="true">{quick.length > 0 ? "! " : "✓ "}</span>
      Valid {format.toUpperCase()}
      {counts}
      {quick.length > 0 ? ` · ${plural(quick.length, "problem")} found: press Check to list them` : ""}
    </p>
  );
}

function CheckResult({ issues, parsed }: { issues: readonly Issue[]; parsed: ParseResult }) {
  if (!parsed.ok) return null;
  return (
    <div class={`se-check${issues.length > 0 ? " se-check--problems" : ""}`} role="status">
      {issues.length === 0 ? (
        <p>No problems found here. Saving runs the full validation on the server.</p>
      ) : (
        <>
          <p>
            <strong>{plural(issues.length, "problem")}</strong> to fix before saving:
          </p>
          <ol>
            {issues.map((issue, i) => (
              <li key={i}>
                {issue.path !== "" && <code>{issue.path}</code>} {issue.message}
              </li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}

const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

/** Tab indents by two spaces instead of leaving the editor; Escape then Tab still leaves (WCAG 2.1.2). */
function indentWithTab(event: KeyboardEvent): void {
  const area = event.currentTarget as HTMLTextAreaElement;
  if (event.key === "Escape") {
    area.dataset.tabLeaves = "1";
    return;
  }
  if (event.key !== "Tab" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
  if (area.dataset.tabLeaves === "1") {
    delete area.dataset.tabLeaves;
    return;
  }
  event.preventDefault();
  area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
  area.dispatchEvent(new Event("input", { bubbles: true }));
}
