import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { SchemaPreview } from "./schema-preview";
import { docsExamples } from "./schema-test-examples";

let root: HTMLElement;

beforeEach(() => {
  root = document.createElement("div");
  document.body.replaceChildren(root);
});

afterEach(() => {
  render(null, root);
});

const show = (definition: unknown, issues: { path: string; message: string }[] = []) => {
  render(<SchemaPreview definition={definition} issues={issues} />, root);
  return root;
};

const oneControl = (control: Record<string, unknown>, fieldType = "text") => ({
  version: 1,
  fields: [{ name: "f", type: fieldType }],
  controls: [{ name: "c", field: "f", ...control }],
});

/** What each control type must draw: a selector inside its card and how many of them. */
const WIDGETS: Record<string, [string, number]> = {
  single_choice: [".pv-mark--radio", 3],
  multiple_choice: [".pv-mark--checkbox", 3],
  taxonomy: ['[role="treeitem"]', 6],
  spans: [".pv-chip", 2],
  relations: [".pv-chip", 1],
  image_class: [".pv-mark--radio", 2],
  bbox: [".pv-shape--box", 1],
  polygon: [".pv-shape--polygon", 1],
  keypoints: [".pv-shape--points", 1],
  audio_segments: [".pv-wave", 1],
  transcription: ["textarea.pv-textarea", 1],
  video_segments: [".pv-wave", 1],
  video_bbox: [".pv-media__canvas--video", 1],
  rating: [".pv-star, .pv-step", 5],
  ranking: [".pv-rank", 3],
  pairwise: [".pv-option", 3],
  text: ["textarea.pv-textarea", 1],
  chat_turn_labels: [".pv-turn", 2],
};

describe("SchemaPreview", () => {
  const examples = docsExamples();

  it("covers every control type of the docs", () => {
    const types = new Set([...examples.keys()].filter((name) => !name.startsWith("use_case")));

    expect(types).toEqual(new Set(Object.keys(WIDGETS)));
  });

  it.each(Object.entries(WIDGETS))("draws a %s control from its docs example", (type, [selector, count]) => {
    const schema = examples.get(type)!;
    const index = schema.controls.findIndex((control) => control.type === type);

    show(schema);

    const card = root.querySelectorAll<HTMLElement>(".pv-control")[index]!;
    expect(card.dataset.controlType).toBe(type);
    expect(card.querySelectorAll(selector)).toHaveLength(count);
    expect(card.querySelector(".pv-unknown")).toBeNull();
  });

  it.each([...examples.keys()].filter((name) => name.startsWith("use_case")))("draws every control of %s", (name) => {
    const schema = examples.get(name)!;

    show(schema);

    expect([...root.querySelectorAll<HTMLElement>(".pv-control")].map((card) => card.dataset.controlType)).toEqual(
      schema.controls.map((control) => control.type),
    );
    expect(root.querySelector(".pv-unknown")).toBeNull();
  });

  it("shows required markers, hotkeys, colours and the title", () => {
    show(
      oneControl({
        type: "single_choice",
        required: true,
        title: "Tone",
        labels: [{ value: "pos", hotkey: "1", color: "#2e7d32" }],
      }),
    );

    expect(root.querySelector(".pv-control__title")?.textContent).toBe("Tone* (required)");
    expect(root.querySelector(".pv-badge--required")?.textContent).toBe("required");
    expect(root.querySelector(".pv-kbd")?.textContent).toBe("1");
    expect((root.querySelector(".pv-mark") as HTMLElement).style.borderColor).toBe("rgb(46, 125, 50)");
  });

  it("says when a control is shown", () => {
    const schema = examples.get("use_case_ner")!;

    show(schema);

    const notes = [...root.querySelectorAll(".pv-showif")].map((note) => note.textContent);
    expect(notes.length).toBeGreaterThan(0);
    expect(notes[0]).toMatch(/^↳ Shown when \w+ is /);
  });

  it("lists show_if with `in` as alternatives", () => {
    show({
      version: 1,
      fields: [{ name: "f", type: "text" }],
      controls: [
        { name: "a", type: "single_choice", field: "f", labels: [{ value: "x" }, { value: "y" }] },
        { name: "b", type: "text", field: "f", show_if: { control: "a", in: ["x", "y"] } },
      ],
    });

    expect(root.querySelector(".pv-showif")?.textContent).toBe("↳ Shown when a is one of x, y");
  });

  it("renders a label with markup as text", () => {
    const label = "<img src=x onerror=alert(1)>";

    show(
      oneControl({ type: "spans", title: "<b>bold</b>", labels: [{ value: label, color: "red;background:url(x)" }] }),
    );

    expect(root.querySelector("img")).toBeNull();
    expect(root.querySelector("b")).toBeNull();
    expect(root.querySelector(".pv-chip__text")?.textContent).toBe(label);
    expect(root.querySelector(".pv-control__title")?.textContent).toBe("<b>bold</b>");
    expect((root.querySelector(".pv-chip") as HTMLElement).getAttribute("style")).toBeNull();
  });

  it("puts issues next to the control they belong to", () => {
    show(oneControl({ type: "single_choice", labels: [{ value: "a" }] }), [
      { path: "controls[0].labels[0].value", message: "The label 'a' is listed twice." },
      { path: "fields[0].type", message: "Must be one of: text." },
    ]);

    expect(root.querySelector(".pv-control--invalid .pv-issues")?.textContent).toBe(
      "controls[0].labels[0].value The label 'a' is listed twice.",
    );
    expect(root.querySelector(".pv > .pv-issues")?.textContent).toBe("fields[0].type Must be one of: text.");
  });

  it("survives definitions of any shape", () => {
    for (const value of [
      null,
      3,
      "x",
      [],
      {},
      { controls: "no" },
      { controls: [null, 1, { type: 5 }, { type: "rating", min: 5, max: 1 }] },
    ]) {
      show(value);
      expect(root.textContent).not.toBe("");
    }
    expect(root.querySelector(".pv-unknown")?.textContent).toBe("Unknown control type 5: nothing to show.");
    expect(root.querySelector(".pv-missing")?.textContent).toBe("Set min below max to see the scale.");
  });

  it("shows the first labels of a very long list and counts the rest", () => {
    show(oneControl({ type: "multiple_choice", labels: Array.from({ length: 5000 }, (_, i) => ({ value: `l${i}` })) }));

    expect(root.querySelectorAll(".pv-choice")).toHaveLength(60);
    expect(root.querySelector(".pv-more")?.textContent).toBe("+4,940 more");
  });

  it("draws a number scale when stars do not fit", () => {
    show(oneControl({ type: "rating", min: 0, max: 1, step: 0.25, min_label: "bad", max_label: "good" }));

    expect([...root.querySelectorAll(".pv-step")].map((s) => s.textContent)).toEqual([
      "0.00",
      "0.25",
      "0.50",
      "0.75",
      "1.00",
    ]);
    expect(root.querySelector(".pv-scale__ends")?.textContent).toBe("badgood");
  });

  it("labels only the turns of the allowed roles", () => {
    show(
      oneControl(
        { type: "chat_turn_labels", per_turn_roles: ["assistant"], labels: [{ value: "helpful" }] },
        "conversation",
      ),
    );

    expect([...root.querySelectorAll(".pv-turn")].map((turn) => turn.querySelectorAll(".pv-chip").length)).toEqual([
      0, 1,
    ]);
  });
});
