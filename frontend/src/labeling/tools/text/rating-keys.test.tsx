/** Number keys on rating scales, and the page's tab stops (issue #16: keyboard-first annotators). */
import { act } from "preact/test-utils";
import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { Control, Definition, LabelingContext } from "../../contract";
import { HotkeyMap } from "../../core/hotkeys";
import { visibleControls } from "../../core/show-if";
import { AnswerStore } from "../../core/store";
import { HelpOverlay, toolBindings } from "../../shell/keys";
import { Workspace } from "../../shell/workspace";
import { registerTextTools } from "./index";
import { ratingDigits } from "./rating";

registerTextTools();

let root: HTMLElement;
beforeEach(() => {
  root = document.createElement("div");
  document.body.replaceChildren(root);
});
afterEach(() => render(null, root));

const def = (controls: Control[]): Definition => ({ version: 1, fields: [{ name: "text", type: "text" }], controls });

/** The workspace as the labeling page draws it, with the page's hotkey map on the document. */
function page(definition: Definition) {
  const store = new AnswerStore({});
  let active: string | null = definition.controls[0]?.name ?? null;
  const ctx = (): LabelingContext => {
    const visible = visibleControls(definition, store.result);
    return {
      definition,
      item: { id: 1, data: { text: "The soup was cold." } },
      result: store.result,
      setAnswer: (c, a, o) => store.set(c, a, o),
      readOnly: false,
      activeControl: active,
      setActiveControl: (n) => {
        active = n;
        draw();
      },
      activeLabel: {},
      setActiveLabel: () => undefined,
      predicted: store.predicted,
      others: [],
      visible: (n) => visible.has(n),
    };
  };
  const draw = () => render(<Workspace ctx={ctx()} />, root);
  const onKey = (event: KeyboardEvent) => {
    if (event.defaultPrevented) return;
    if (new HotkeyMap(toolBindings(ctx())).dispatch(event)) event.preventDefault();
  };
  document.addEventListener("keydown", onKey);
  store.subscribe(() => act(draw));
  act(draw);
  return { store, ctx, active: () => active, dispose: () => document.removeEventListener("keydown", onKey) };
}

const press = (target: Element | Document, key: string, mods: KeyboardEventInit = {}) =>
  act(() => void target.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...mods })));
const scaleOf = (name: string) => root.querySelector(`[data-control="${name}"] .lb-rating__scale`)!;
const stepButton = (name: string, value: string) =>
  [...root.querySelectorAll<HTMLButtonElement>(`[data-control="${name}"] .lb-rating__step`)].find((b) => b.textContent === value)!;

const rating = (extra: Partial<Control> = {}): Control => ({ name: "quality", type: "rating", field: "text", min: 1, max: 5, ...extra });
const note: Control = { name: "note", type: "text", field: "text" };

describe("rating number keys", () => {
  it("digits on the scale: 1..9 in range, 0 only when 0 is a step", () => {
    expect(ratingDigits(rating()).map((d) => d.key)).toEqual(["1", "2", "3", "4", "5"]);
    expect(ratingDigits(rating({ min: 0, max: 10 })).map((d) => d.key)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"]);
    expect(ratingDigits(rating({ min: 0, max: 1, step: 0.25 })).map((d) => d.key)).toEqual(["1", "0"]);
    expect(ratingDigits(rating({ min: 2, max: 8, step: 2 })).map((d) => d.key)).toEqual(["2", "4", "6", "8"]);
  });

  it("the only rating of the form takes digits anywhere, but not while typing, and not out of range", () => {
    const p = page(def([rating(), note]));
    press(document.body, "4");
    expect(p.store.result.quality).toBe(4);
    press(document.body, "4"); // a key sets, it does not toggle
    expect(p.store.result.quality).toBe(4);
    press(document.body, "7");
    press(document.body, "0");
    expect(p.store.result.quality).toBe(4);
    press(root.querySelector("textarea")!, "2");
    expect(p.store.result.quality).toBe(4);
    press(document.body, "2", { ctrlKey: true });
    expect(p.store.result.quality).toBe(4);
    expect(root.querySelector(".lb-rating__keys")!.textContent).toContain("anywhere on the page");
    expect(stepButton("quality", "3").getAttribute("aria-keyshortcuts")).toBe("3");
    p.dispose();
  });

  it("0 rates on a scale starting at 0", () => {
    const p = page(def([rating({ min: 0, max: 3 })]));
    press(document.body, "0");
    expect(p.store.result.quality).toBe(0);
    p.dispose();
  });

  it("choice hotkeys keep their digits; the focused scale wins them", () => {
    const choice: Control = { name: "sentiment", type: "single_choice", field: "text", labels: [{ value: "pos", hotkey: "1" }, { value: "neg", hotkey: "2" }] };
    const p = page(def([choice, rating()]));
    press(document.body, "2");
    expect(p.store.result.sentiment).toBe("neg");
    press(document.body, "4"); // not bound: the rating is not focused
    expect(p.store.result.quality).toBeUndefined();
    expect(root.querySelector(".lb-rating__keys")!.textContent).toContain("while the scale has focus");
    const button = stepButton("quality", "1");
    act(() => button.focus());
    press(button, "2");
    expect(p.store.result.quality).toBe(2);
    expect(p.store.result.sentiment).toBe("neg");
    expect(document.activeElement).toBe(stepButton("quality", "2"));
    expect(p.active()).toBe("quality");
    p.dispose();
  });

  it("with two ratings only the focused one takes digits", () => {
    const p = page(def([rating(), rating({ name: "fluency" })]));
    press(document.body, "3");
    expect(p.store.result).toEqual({});
    press(scaleOf("fluency").querySelector("button")!, "3");
    expect(p.store.result).toEqual({ fluency: 3 });
    expect(new HotkeyMap(toolBindings(p.ctx())).bindings).toEqual([]);
    p.dispose();
  });

  it("the help overlay lists the page-wide digits", () => {
    const p = page(def([rating({ title: "Quality" })]));
    const map = new HotkeyMap(toolBindings(p.ctx()));
    expect(map.bindings.map((b) => `${b.key} ${b.description}`)).toEqual(["1 Quality: rate 1", "2 Quality: rate 2", "3 Quality: rate 3", "4 Quality: rate 4", "5 Quality: rate 5"]);
    expect(map.conflicts).toEqual([]);
    p.dispose();
    act(() => render(<HelpOverlay map={map} onClose={() => undefined} />, root));
    const rows = [...root.querySelectorAll("tr")].map((r) => r.textContent);
    expect(rows).toContain("4Quality: rate 4");
    expect(rows.some((r) => r?.startsWith("Tab / Shift+TabNext / previous button or box in form order"))).toBe(true);
    expect(rows.some((r) => r?.startsWith("1–9On a focused rating scale: rate that value"))).toBe(true);
  });
});

describe("tab order", () => {
  it("tab stops follow the form order, a rating scale is one stop, focus makes a control active", () => {
    const choice: Control = { name: "sentiment", type: "single_choice", field: "text", labels: [{ value: "pos" }, { value: "neg" }] };
    const p = page(def([choice, rating(), note]));
    const stops = [...root.querySelectorAll<HTMLElement>(".lb-controls button, .lb-controls textarea, .lb-controls input")].filter((e) => e.tabIndex >= 0);
    expect(stops.map((e) => e.closest<HTMLElement>("[data-control]")!.dataset.control)).toEqual(["sentiment", "sentiment", "quality", "note"]);
    expect(root.querySelectorAll("[tabindex]:not([tabindex='0']):not([tabindex='-1'])")).toHaveLength(0);
    act(() => stops[2]!.focus());
    expect(p.active()).toBe("quality");
    press(stops[2]!, "ArrowRight");
    press(document.activeElement!, "ArrowRight");
    expect(p.store.result.quality).toBe(2);
    const after = [...root.querySelectorAll<HTMLElement>("[data-control=quality] button")].filter((e) => e.tabIndex >= 0);
    expect(after.map((b) => b.textContent)).toEqual(["2"]);
    p.dispose();
  });
});
