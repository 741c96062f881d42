import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { ControlOptions, editableOptions, parseOption, showIfFrom } from "./schema-control-options";
import type { ControlType, Definition } from "./schema-definition";

const PAIRWISE: ControlType = {
  type: "pairwise",
  field_types: ["candidates"],
  options: ["allow_tie", "strength"],
  required_options: [],
};
const RATING: ControlType = {
  type: "rating",
  field_types: null,
  options: ["level", "max", "max_label", "min", "min_label", "step"],
  required_options: ["min", "max"],
};
const TEXT: ControlType = {
  type: "text",
  field_types: null,
  options: ["max_length", "min_length", "placeholder"],
  required_options: [],
};

const DEFINITION: Definition = {
  version: 1,
  fields: [{ name: "responses", type: "candidates" }],
  controls: [
    { name: "preference", type: "pairwise", field: "responses" },
    { name: "rating", type: "rating", field: "responses", min: 1, max: 5 },
    { name: "why", type: "text", field: "responses" },
  ],
};

let host: HTMLElement;
let patches: Record<string, unknown>[];

beforeEach(() => {
  host = document.createElement("div");
  document.body.append(host);
  patches = [];
});
afterEach(() => host.remove());

function mount(index: number, type: ControlType) {
  act(() => {
    render(
      <ControlOptions index={index} definition={DEFINITION} type={type} change={(p) => patches.push(p)} />,
      host,
    );
  });
}

const byLabel = (label: string) => host.querySelector<HTMLInputElement>(`[aria-label="${label}"]`);

describe("control options", () => {
  it("lists the options of each type in a fixed order", () => {
    expect(editableOptions(PAIRWISE)).toEqual(["allow_tie", "strength"]);
    expect(editableOptions(RATING)).toEqual(["min", "max", "step", "min_label", "max_label", "level"]);
    expect(editableOptions(TEXT)).toEqual(["min_length", "max_length", "placeholder"]);
  });

  it("parses numbers, keeps half-typed text, and removes emptied options", () => {
    expect(parseOption("number", "10")).toBe(10);
    expect(parseOption("number", "0.")).toBe("0.");
    expect(parseOption("number", "")).toBeUndefined();
    expect(parseOption("roles", "assistant, user")).toEqual(["assistant", "user"]);
  });

  it("builds show_if with equals or in", () => {
    expect(showIfFrom("rating", "5")).toEqual({ control: "rating", equals: "5" });
    expect(showIfFrom("rating", "4, 5")).toEqual({ control: "rating", in: ["4", "5"] });
    expect(showIfFrom("", "5")).toBeUndefined();
  });

  it("sets pairwise tie and strength", () => {
    mount(0, PAIRWISE);
    act(() => byLabel("preference: Allow a tie")?.click());
    act(() => byLabel("preference: Ask how strong the preference is")?.click());
    expect(patches).toEqual([{ allow_tie: true }, { strength: true }]);
    expect(host.textContent).not.toContain("Show only when"); // the first control has nothing before it
  });

  it("sets rating end labels and a text control's minimum length and show_if", () => {
    mount(1, RATING);
    const low = byLabel("rating: Label of the lowest value");
    expect(byLabel("rating: Lowest value")?.value).toBe("1");
    act(() => {
      if (low) {
        low.value = "poor";
        low.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
    expect(patches).toEqual([{ min_label: "poor" }]);
    patches = [];
    mount(2, TEXT);
    const min = byLabel("why: Minimum length (characters)");
    act(() => {
      if (min) {
        min.value = "10";
        min.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
    const when = host.querySelector<HTMLSelectElement>('[aria-label="why: show only when control"]');
    act(() => {
      if (when) {
        when.value = "preference";
        when.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
    expect(patches).toEqual([{ min_length: 10 }, { show_if: { control: "preference", equals: "" } }]);
  });
});
