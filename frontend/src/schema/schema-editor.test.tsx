import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { ControlType } from "./schema-definition";
import { SchemaEditor, type SchemaEditorConfig } from "./schema-editor";

const TYPES: ControlType[] = [
  { type: "single_choice", field_types: null, options: ["labels"], required_options: ["labels"] },
  { type: "text", field_types: null, options: ["max_length", "min_length", "placeholder"], required_options: [] },
  { type: "bbox", field_types: ["image"], options: ["labels"], required_options: ["labels"] },
];

const SCHEMA = {
  version: 1,
  fields: [{ name: "text", type: "text" }],
  controls: [
    {
      name: "sentiment",
      type: "single_choice",
      field: "text",
      required: true,
      labels: [{ value: "positive", hotkey: "1" }, { value: "negative" }],
    },
  ],
};

const config = (overrides: Partial<SchemaEditorConfig> = {}): SchemaEditorConfig => ({
  examples: [
    {
      name: "text",
      title: "text",
      kind: "control",
      schema: {
        version: 1,
        fields: [{ name: "t", type: "text" }],
        controls: [{ name: "answer", type: "text", field: "t" }],
      },
    },
  ],
  controls: TYPES,
  fieldTypes: ["text", "image"],
  issues: [],
  ...overrides,
});

let host: HTMLElement;
let form: HTMLFormElement;
let field: HTMLTextAreaElement;

function mount(text: string, overrides: Partial<SchemaEditorConfig> = {}, storage: Map<string, string> | null = null) {
  field.value = text;
  const store = storage && {
    getItem: (k: string) => storage.get(k) ?? null,
    setItem: (k: string, v: string) => void storage.set(k, v),
  };
  act(() => {
    render(<SchemaEditor config={config(overrides)} field={field} form={form} storage={store} />, host);
  });
}

const $ = <T extends Element = HTMLElement>(selector: string) => host.querySelector<T>(selector);
const $$ = (selector: string) => [...host.querySelectorAll<HTMLElement>(selector)];
const byLabel = <T extends HTMLElement = HTMLInputElement>(label: string) => {
  const element = host.querySelector<T>(`[aria-label="${label}"]`);
  if (element === null) throw new Error(`no element labelled ${label}`);
  return element;
};

function type(element: HTMLInputElement | HTMLTextAreaElement, value: string) {
  act(() => {
    element.value = value;
    element.dispatchEvent(new Event("input", { bubbles: true }));
  });
}

function click(element: HTMLElement | null) {
  if (element === null) throw new Error("nothing to click");
  act(() => element.click());
}

const tab = (name: string) => $$(".se-tab").find((b) => b.textContent === name) ?? null;
const button = (name: string) => $$("button").find((b) => b.textContent?.trim() === name) ?? null;
const submitted = () => {
  const event = new Event("submit", { cancelable: true });
  act(() => {
    form.dispatchEvent(event);
  });
  return !event.defaultPrevented;
};

beforeEach(() => {
  document.body.innerHTML = `<form id="f"><div id="host"></div><textarea name="definition"></textarea></form>`;
  form = document.getElementById("f") as HTMLFormElement;
  host = document.getElementById("host") as HTMLElement;
  field = form.querySelector("textarea") as HTMLTextAreaElement;
});

afterEach(() => {
  act(() => render(null, host));
});

describe("SchemaEditor", () => {
  it("starts in the form view with a live preview of the server's definition", () => {
    mount(JSON.stringify(SCHEMA, null, 2));

    expect(tab("Form")?.getAttribute("aria-pressed")).toBe("true");
    expect($$(".pv-choice__text").map((e) => e.textContent)).toEqual(["positive", "negative"]);
    expect($(".se-status")?.textContent).toBe("✓ Valid JSON · 1 field · 1 control");
  });

  it("a label edited in the form updates the preview and the JSON the form submits", () => {
    mount(JSON.stringify(SCHEMA, null, 2));

    type(byLabel("sentiment label 2: value"), "mixed");
    type(byLabel("sentiment label 2: hotkey"), "3");

    expect($$(".pv-choice__text").map((e) => e.textContent)).toEqual(["positive", "mixed"]);
    expect($$(".pv-kbd").map((e) => e.textContent)).toEqual(["1", "3"]);
    expect(JSON.parse(field.value).controls[0].labels).toEqual([
      { value: "positive", hotkey: "1" },
      { value: "mixed", hotkey: "3" },
    ]);
    expect(submitted()).toBe(true);
  });

  it("adds a control with its type, name, field and required flag", () => {
    mount(JSON.stringify(SCHEMA));

    act(() => {
      const select = byLabel<HTMLSelectElement>("New control: type");
      select.value = "text";
      select.dispatchEvent(new Event("change", { bubbles: true }));
    });
    type(byLabel("New control: name"), "why");
    click($(".sb-add .sb-check input"));
    click(button("Add control"));

    expect(JSON.parse(field.value).controls[1]).toEqual({ name: "why", type: "text", field: "text", required: true });
    expect($$(".pv-control").map((c) => c.dataset.controlType)).toEqual(["single_choice", "text"]);
  });

  it("edits as YAML and still submits JSON", () => {
    mount(JSON.stringify(SCHEMA));

    click(tab("YAML"));
    const editor = $<HTMLTextAreaElement>(".se-code__input")!;
    expect(editor.value).toContain("  - name: sentiment\n");
    type(editor, editor.value.replace("value: negative", "value: neutral"));

    expect(JSON.parse(field.value).controls[0].labels[1]).toEqual({ value: "neutral" });
    expect($$(".pv-choice__text").map((e) => e.textContent)).toEqual(["positive", "neutral"]);
    expect($(".se-status")?.textContent).toBe("✓ Valid YAML · 1 field · 1 control");

    click(tab("JSON"));
    expect(JSON.parse($<HTMLTextAreaElement>(".se-code__input")!.value).controls[0].labels[1]).toEqual({
      value: "neutral",
    });
  });

  it("shows a syntax error inline, keeps the last preview and does not submit", () => {
    mount(JSON.stringify(SCHEMA), {}, new Map([["tessera.schema-editor.view", "yaml"]]));

    const editor = $<HTMLTextAreaElement>(".se-code__input")!;
    type(editor, `${editor.value}\n  bad: [\n`);

    expect($(".se-status")?.getAttribute("role")).toBe("alert");
    expect($(".se-status")?.textContent).toMatch(/^✕ Line \d+, column \d+: /);
    expect($(".pv")?.classList.contains("pv--stale")).toBe(true);
    expect($$(".pv-choice__text")).toHaveLength(2);
    expect(submitted()).toBe(false);
    expect($(".se-blocked-save")?.textContent).toMatch(/^Not saved: the YAML has a syntax error\./);

    click(tab("JSON"));
    expect(tab("YAML")?.getAttribute("aria-pressed")).toBe("true");
    expect($(".se-notice")?.textContent).toBe("Fix the YAML syntax error before switching to JSON.");
  });

  it("starts in JSON when the server sent back text that does not parse", () => {
    mount('{"version": 1,', {}, new Map([["tessera.schema-editor.view", "form"]]));

    expect(tab("JSON")?.getAttribute("aria-pressed")).toBe("true");
    expect($<HTMLTextAreaElement>(".se-code__input")!.value).toBe('{"version": 1,');
  });

  it("loads an example and undoes it", () => {
    mount(JSON.stringify(SCHEMA));

    act(() => {
      const select = byLabel<HTMLSelectElement>("Start from an example");
      select.value = "text";
      select.dispatchEvent(new Event("change", { bubbles: true }));
    });

    expect(JSON.parse(field.value).controls[0].name).toBe("answer");
    expect($(".se-notice")?.textContent).toBe("Loaded the example “text”.Undo");

    click(button("Undo"));
    expect(JSON.parse(field.value)).toEqual(SCHEMA);
  });

  it("Check lists what can be seen without the server", () => {
    const schema = structuredClone(SCHEMA);
    schema.controls[0]!.labels.push({ value: "<img src=x onerror=alert(1)>" }, { value: "positive" });
    mount(JSON.stringify(schema));

    click(button("Check"));

    expect($$(".se-check li").map((li) => li.textContent)).toEqual([
      `controls[0].labels[2].value The label "<img src=x onerror=alert(1)>" contains '<' or '>'; markup is not allowed.`,
      'controls[0].labels[3].value The label "positive" is listed twice.',
    ]);
    expect(host.querySelector("img")).toBeNull();
    expect($$(".pv-control--invalid")).toHaveLength(1);
    expect(byLabel("sentiment label 4: value").getAttribute("aria-invalid")).toBe("true");
    expect(byLabel("sentiment label 4: value").title).toBe('The label "positive" is listed twice.');
    expect(byLabel("sentiment label 1: value").hasAttribute("aria-invalid")).toBe(false);
  });

  it("shows the server's issues on their control until the text changes", () => {
    mount(JSON.stringify(SCHEMA), {
      issues: [{ path: "controls[0].labels[1].value", code: "x", message: "Server says no." }],
    });

    expect($(".pv-control--invalid .pv-issues")?.textContent).toBe("controls[0].labels[1].value Server says no.");

    type(byLabel("sentiment label 2: value"), "neg");
    expect($(".pv-issues")).toBeNull();
  });
});
