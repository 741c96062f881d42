import { afterEach, expect, it, vi } from "vitest";

const CONFIG = {
  editable: true,
  current: null,
  issues: [{ path: "controls", code: "too_short", message: "Must have at least 1 item(s)." }],
  field_types: ["text"],
  controls: [{ type: "text", field_types: null, options: ["placeholder"], required_options: [] }],
  examples: [],
};

function setPage(config: unknown): void {
  document.body.innerHTML = `
    <form id="schema-form" method="post">
      <div id="schema-editor" hidden></div>
      <div id="schema-definition-field"><textarea name="definition" required>{"version": 1, "fields": [], "controls": []}</textarea></div>
    </form>
    <div id="schema-preview"><p>needs JavaScript</p></div>
    <script id="schema-editor-config" type="application/json">${JSON.stringify(config)}</script>`;
}

async function runEntry(): Promise<void> {
  vi.resetModules();
  await import("./schema-editor");
}

afterEach(() => {
  document.body.innerHTML = "";
});

it("mounts the editor in place of the textarea, which stays in the form", async () => {
  setPage(CONFIG);

  await runEntry();

  expect(document.getElementById("schema-editor")!.hidden).toBe(false);
  expect(document.getElementById("schema-definition-field")!.hidden).toBe(true);
  expect(document.querySelector<HTMLTextAreaElement>('textarea[name="definition"]')!.required).toBe(false);
  expect(document.querySelector(".se-tab[aria-pressed='true']")?.textContent).toBe("Form");
  expect(document.querySelector(".pv-issues")?.textContent).toBe("controls Must have at least 1 item(s).");
});

it("shows a read-only preview for people who cannot edit", async () => {
  setPage({
    ...CONFIG,
    editable: false,
    current: { version: 1, fields: [], controls: [{ name: "why", type: "text", field: "f" }] },
  });

  await runEntry();

  expect(document.getElementById("schema-editor")!.hidden).toBe(true);
  expect(document.getElementById("schema-definition-field")!.hidden).toBe(false);
  expect(document.querySelector("#schema-preview .pv-control__title")?.textContent).toBe("why");
});

it("leaves the server's form alone when the config is unusable", async () => {
  setPage("not a config");

  await runEntry();

  expect(document.getElementById("schema-editor")!.hidden).toBe(true);
  expect(document.getElementById("schema-preview")!.textContent).toBe("needs JavaScript");
});
