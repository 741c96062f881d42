import { act } from "preact/test-utils";
import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { Control, Definition, LabelingContext, Result } from "../../contract";
import { AnswerStore } from "../../core/store";
import { controlToolFor, fieldViewFor } from "../../registry";
import { visibleControls } from "../../core/show-if";
import { registerTextTools } from "./index";
import { applyLabel, spanConflict, spansOf } from "./spans";
import { parseRichText, safeHref, type RichNode } from "./sanitize";
import { resetTextState, textState, updateTextState } from "./selection";
import { pointToOffset } from "./text-view";
import { flattenTaxonomy } from "./taxonomy";
import { move } from "./ranking";
import { ratingSteps } from "./rating";
import { addRelation, relationDraft } from "./relations";
import { arcBetween, arrowsFor, relationControlsFor, spanMeasurer } from "./relation-arrows";
import { toggleTurnLabel, turnsOf } from "./conversation";

registerTextTools();

let root: HTMLElement;
beforeEach(() => {
  root = document.createElement("div");
  document.body.replaceChildren(root);
  resetTextState();
});
afterEach(() => render(null, root));

interface Harness {
  store: AnswerStore;
  ctx: () => LabelingContext;
  draw: () => void;
  activeLabel: Record<string, string | undefined>;
}

function harness(definition: Definition, data: Record<string, unknown>, initial: Result = {}, readOnly = false): Harness {
  const store = new AnswerStore(initial);
  const activeLabel: Record<string, string | undefined> = {};
  let active: string | null = definition.controls[0]?.name ?? null;
  const ctx = (): LabelingContext => {
    const visible = visibleControls(definition, store.result);
    return {
      definition,
      item: { id: 1, data },
      result: store.result,
      setAnswer: (c, a, o) => !readOnly && store.set(c, a, o),
      readOnly,
      activeControl: active,
      setActiveControl: (n) => (active = n),
      activeLabel,
      setActiveLabel: (c, l) => (activeLabel[c] = l),
      predicted: store.predicted,
      others: [],
      visible: (n) => visible.has(n),
    };
  };
  const draw = () => {
    const c = ctx();
    render(
      <div>
        {definition.fields.map((field) => {
          const view = fieldViewFor(field.type)!;
          const controls = definition.controls.filter((x) => x.field === field.name && view.hosts.includes(x.type));
          return <view.View key={field.name} field={field} value={data[field.source ?? field.name]} controls={controls} ctx={c} />;
        })}
        {definition.controls.map((control) => {
          const tool = controlToolFor(control.type)!;
          const field = definition.fields.find((f) => f.name === control.field)!;
          return tool.Panel ? <tool.Panel key={control.name} control={control} field={field} value={data[field.source ?? field.name]} ctx={c} /> : null;
        })}
      </div>,
      root,
    );
  };
  store.subscribe(() => act(draw));
  act(draw);
  return { store, ctx, draw: () => act(draw), activeLabel };
}

const def = (controls: Control[], fields: Definition["fields"] = [{ name: "text", type: "text" }]): Definition => ({ version: 1, fields, controls });
const click = (el: Element | null | undefined) => act(() => (el as HTMLElement).click());
const byText = (selector: string, text: string) => [...root.querySelectorAll(selector)].find((e) => e.textContent?.includes(text));

describe("rich text sanitiser", () => {
  const tags = (nodes: RichNode[]): string[] => nodes.flatMap((n) => (n.kind === "element" ? [n.tag, ...tags(n.children)] : []));
  const text = (nodes: RichNode[]): string => nodes.map((n) => (n.kind === "text" ? n.runs.map((r) => r.text).join("") : text(n.children))).join("");

  it("drops scripts, handlers, images, styles and unknown tags", () => {
    const nodes = parseRichText('<p onclick="x()">Hi <b style="color:red">there</b><script>window.__pwned=1</script><img src=x onerror="alert(1)"><iframe src="//evil"></iframe><custom>ok</custom></p>');
    expect(tags(nodes)).toEqual(["p", "b"]);
    expect(text(nodes)).toBe("Hi thereok");
    const p = nodes[0] as { attrs: Record<string, string> };
    expect(p.attrs).toEqual({});
  });

  it("keeps only safe link targets", () => {
    expect(safeHref("java\tscript:alert(1)")).toBeNull();
    expect(safeHref(" JAVASCRIPT:alert(1)")).toBeNull();
    expect(safeHref("data:text/html,x")).toBeNull();
    expect(safeHref("https://example.org/a")).toBe("https://example.org/a");
    const [a] = parseRichText('<a href="javascript:alert(1)" title="t">x</a><a href="mailto:a@b.c">m</a>');
    expect((a as { attrs: object }).attrs).toEqual({ title: "t" });
  });

  it("maps every displayed character to its source code points, entities as one unit", () => {
    const source = "<p>😀 A&amp;B <i>Zoë</i></p>";
    const nodes = parseRichText(source);
    const runs = nodes.flatMap(function walk(n): { s: number; e: number; text: string; linear: boolean }[] {
      return n.kind === "text" ? n.runs : n.children.flatMap(walk);
    });
    const chars = Array.from(source);
    for (const run of runs) {
      if (run.linear) expect(chars.slice(run.s, run.e).join("")).toBe(run.text);
      else expect(chars.slice(run.s, run.e).join("")).toBe("&amp;");
    }
    expect(runs.map((r) => r.text).join("")).toBe("😀 A&B Zoë");
  });

  it("treats a lone < as text and survives unclosed tags and comments", () => {
    expect(text(parseRichText("a < b <!-- <script>x</script> --> c"))).toBe("a < b  c");
    expect(text(parseRichText("<b>bold <i>both"))).toBe("bold both");
    expect(text(parseRichText("<script>never closed"))).toBe("");
  });
});

describe("text views and spans", () => {
  const spansDef = def([{ name: "ner", type: "spans", field: "text", labels: [{ value: "PER", hotkey: "p" }, { value: "ORG", hotkey: "o" }] }]);
  const source = "😀 Zoë Adams joined Acme.";

  it("renders hostile text as text", () => {
    harness(def([{ name: "s", type: "single_choice", field: "text", labels: [{ value: "a" }] }]), { text: '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>' });
    expect(root.querySelector("img, script")).toBeNull();
    expect(root.querySelector(".tx-body")?.textContent).toContain("<img src=x");
  });

  it("turns a DOM selection into code point offsets", () => {
    harness(spansDef, { text: source });
    const body = root.querySelector(".tx-body")!;
    const node = body.querySelector("[data-s]")!.firstChild as Text;
    const at = node.data.indexOf("Zoë");
    expect(pointToOffset(node, at, body)).toBe(2); // the emoji is one code point, two UTF-16 units
    expect(pointToOffset(node, node.data.indexOf("Acme") + 4, body)).toBe(23);
  });

  it("labels the pending selection with a key, relabels the selected span, refuses overlaps", () => {
    const h = harness(spansDef, { text: source });
    const tool = controlToolFor("spans")!;
    updateTextState({ pending: { field: "text", start: 2, end: 11, text: "Zoë Adams" } });
    act(() => tool.hotkeys!(spansDef.controls[0]!, h.ctx()).find((k) => k.key === "p")!.run());
    expect(spansOf(h.store.result.ner)).toEqual([{ id: "s1", start: 2, end: 11, label: "PER", text: "Zoë Adams" }]);
    expect(root.querySelector("[data-span='s1']")?.getAttribute("data-label")).toBe("PER");
    act(() => applyLabel(spansDef.controls[0]!, h.ctx(), "ORG")); // s1 is selected: relabel
    expect(spansOf(h.store.result.ner)[0]!.label).toBe("ORG");
    updateTextState({ pending: { field: "text", start: 6, end: 18, text: "Adams joined" } });
    act(() => applyLabel(spansDef.controls[0]!, h.ctx(), "PER"));
    expect(spansOf(h.store.result.ner)).toHaveLength(1);
    expect(root.textContent).toContain("may not overlap");
    expect(spanConflict([{ id: "a", start: 0, end: 3, label: "X" }], 3, 5, "X", false)).toBeNull(); // touching is fine
    expect(spanConflict([{ id: "a", start: 0, end: 3, label: "X" }], 0, 3, "X", true)).not.toBeNull();
  });

  it("deletes the selected span and the relations that use it", () => {
    const d = def([
      { name: "ner", type: "spans", field: "text", labels: [{ value: "PER" }] },
      { name: "rel", type: "relations", field: "text", spans: "ner", labels: [{ value: "knows" }] },
    ]);
    const h = harness(d, { text: "Ann knows Bob" }, {
      ner: [{ id: "s1", start: 0, end: 3, label: "PER" }, { id: "s2", start: 10, end: 13, label: "PER" }],
      rel: [{ from: "s1", to: "s2", label: "knows" }],
    });
    updateTextState({ selectedSpan: { control: "ner", id: "s2" } });
    act(() => void controlToolFor("spans")!.deleteSelected!(d.controls[0]!, h.ctx()));
    expect(h.store.result.ner).toHaveLength(1);
    expect(h.store.result.rel).toEqual([]);
  });

  it("draws spans over rich text and keeps source offsets", () => {
    const d = def([{ name: "ner", type: "spans", field: "body", labels: [{ value: "ORG" }] }], [{ name: "body", type: "rich_text" }]);
    const html = "<p>Hello <b>Acme</b> &amp; co</p><script>window.__pwned=1</script>";
    harness(d, { body: html }, { ner: [{ id: "s1", start: 12, end: 16, label: "ORG" }] });
    expect(root.querySelector("script")).toBeNull();
    expect(root.querySelector("b [data-span='s1']")?.textContent).toBe("Acme");
    expect(Array.from(html).slice(12, 16).join("")).toBe("Acme");
  });

  it("renders Markdown rich text with spans on the source offsets, and maps a selection back", () => {
    const d = def([{ name: "ner", type: "spans", field: "body", labels: [{ value: "PER" }] }], [{ name: "body", type: "rich_text" }]);
    const md = "## Meeting\n\n**Ann** met [Bob](javascript:alert(1)) in `Lisbon`.";
    const start = Array.from(md).indexOf("A");
    harness(d, { body: md }, { ner: [{ id: "s1", start, end: start + 3, label: "PER" }] });
    const body = root.querySelector<HTMLElement>(".tx-body--md")!;
    expect(body.querySelector("h2")?.textContent).toBe("Meeting");
    expect(body.querySelector("strong [data-span='s1']")?.textContent).toBe("Ann");
    expect(body.querySelector("a")).toBeNull(); // the unsafe link is plain text
    expect(body.querySelector("code")?.textContent).toBe("Lisbon");
    expect(body.textContent).toBe("MeetingAnn met Bob in Lisbon.");
    const lisbon = body.querySelector("code")!.querySelector("[data-s]")!.firstChild!;
    expect(pointToOffset(lisbon, 3, body)).toBe(Array.from(md).indexOf("L") + 3);
  });
});

describe("Markdown in conversation turns and candidates", () => {
  it("shows Markdown as elements, refuses unsafe links and never makes markup from HTML", () => {
    const d = def([], [{ name: "responses", type: "candidates" }]);
    harness(d, {
      responses: ["**Yes.** Use `pip install x`:\n- fast\n- [docs](https://example.org) [bad](javascript:alert(1))", "<img src=x onerror=alert(1)> no"],
    });
    const [first, second] = Array.from(root.querySelectorAll<HTMLElement>(".cd-item__text"));
    expect(first!.querySelector("strong")?.textContent).toBe("Yes.");
    expect(first!.querySelector("code")?.textContent).toBe("pip install x");
    expect(first!.querySelectorAll("li")).toHaveLength(2);
    expect(Array.from(first!.querySelectorAll("a")).map((a) => a.getAttribute("href"))).toEqual(["https://example.org"]);
    expect(second!.querySelector("img")).toBeNull();
    expect(second!.textContent).toBe("<img src=x onerror=alert(1)> no");
  });
});

describe("choice tools", () => {
  const single = def([{ name: "s", type: "single_choice", field: "text", labels: [{ value: "pos", hotkey: "1" }, { value: "neg", hotkey: "2" }] }]);

  it("single choice: click, hotkey and clearing by choosing again", () => {
    const h = harness(single, { text: "x" });
    click(byText("button", "neg"));
    expect(h.store.result.s).toBe("neg");
    act(() => controlToolFor("single_choice")!.hotkeys!(single.controls[0]!, h.ctx())[0]!.run());
    expect(h.store.result.s).toBe("pos");
    click(byText("button", "pos"));
    expect(h.store.result.s).toBeNull();
  });

  it("multiple choice keeps the schema's order", () => {
    const d = def([{ name: "m", type: "multiple_choice", field: "text", labels: [{ value: "a" }, { value: "b" }, { value: "c" }] }]);
    const h = harness(d, { text: "x" });
    click(byText("button", "c"));
    click(byText("button", "a"));
    expect(h.store.result.m).toEqual(["a", "c"]);
    click(byText("button", "c"));
    expect(h.store.result.m).toEqual(["a"]);
  });

  it("read-only panels do not change anything", () => {
    const h = harness(single, { text: "x" }, { s: "pos" }, true);
    expect((byText("button", "neg") as HTMLButtonElement).disabled).toBe(true);
    expect(h.store.result.s).toBe("pos");
  });
});

describe("taxonomy, rating, free text", () => {
  it("taxonomy: filter and pick a path (multiple)", () => {
    const choices = [{ value: "Electronics", children: [{ value: "Phones" }] }, { value: "Home" }];
    expect(flattenTaxonomy(choices)).toEqual([["Electronics"], ["Electronics", "Phones"], ["Home"]]);
    const d = def([{ name: "t", type: "taxonomy", field: "text", multiple: true, choices }]);
    const h = harness(d, { text: "x" });
    const filter = root.querySelector<HTMLInputElement>("input[type=search]")!;
    act(() => {
      filter.value = "pho";
      filter.dispatchEvent(new Event("input", { bubbles: true }));
    });
    expect(root.querySelectorAll(".lb-tree li")).toHaveLength(1);
    click(root.querySelector(".lb-tree input"));
    expect(h.store.result.t).toEqual([["Electronics", "Phones"]]);
  });

  it("rating: steps on the grid and arrow keys", () => {
    expect(ratingSteps(0, 1, 0.25)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(ratingSteps(0, 0.3, 0.1)).toEqual([0, 0.1, 0.2, 0.3]);
    const d = def([{ name: "r", type: "rating", field: "text", min: 1, max: 5 }]);
    const h = harness(d, { text: "x" });
    click(byText("button", "3"));
    act(() => void root.querySelector(".lb-rating__scale")!.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true })));
    expect(h.store.result.r).toBe(4);
  });

  it("free text: typing is one undo step", () => {
    const d = def([{ name: "f", type: "text", field: "text", max_length: 50 }]);
    const h = harness(d, { text: "x" });
    const box = root.querySelector("textarea")!;
    for (const value of ["a", "ab", "abc"]) {
      act(() => {
        box.value = value;
        box.dispatchEvent(new Event("input", { bubbles: true }));
      });
    }
    expect(h.store.result.f).toBe("abc");
    h.store.undo();
    expect(h.store.result.f).toBeUndefined();
    expect(root.textContent).toContain("0 / 50");
  });
});

describe("candidates: ranking and pairwise", () => {
  const fields = [{ name: "c", type: "candidates" }];

  it("ranking moves rows by buttons and Alt+arrows and keeps ids", () => {
    expect(move(["a", "b", "c"], 2, 0)).toEqual(["c", "a", "b"]);
    const d = def([{ name: "order", type: "ranking", field: "c" }], fields);
    const h = harness(d, { c: [{ id: "x", text: "X" }, "second", { id: 7, text: "seven" }] });
    click(root.querySelector("[aria-label='Move 2 up']"));
    expect(h.store.result.order).toEqual([1, "x", 7]);
    const rows = root.querySelectorAll(".lb-rank__row");
    act(() => void rows[1]!.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", altKey: true, bubbles: true })));
    expect(h.store.result.order).toEqual([1, 7, "x"]);
  });

  it("ranking: Keep this order answers with the item's order", () => {
    const d = def([{ name: "order", type: "ranking", field: "c" }], fields);
    const h = harness(d, { c: ["a", "b"] });
    click(byText("button", "Keep this order"));
    expect(h.store.result.order).toEqual([0, 1]);
  });

  it("pairwise: choice with strength only when asked, never for a tie", () => {
    const d = def([{ name: "p", type: "pairwise", field: "c", strength: true }], fields);
    const h = harness(d, { c: ["one", "two"] });
    click(byText("button", "B is better"));
    expect(h.store.result.p).toEqual({ choice: "B", strength: 2 });
    click(byText("button", "Much better"));
    expect(h.store.result.p).toEqual({ choice: "B", strength: 3 });
    click(byText("button", "Tie"));
    expect(h.store.result.p).toEqual({ choice: "tie" });
    const plain = def([{ name: "p", type: "pairwise", field: "c", allow_tie: false }], fields);
    const h2 = harness(plain, { c: ["one", "two"] });
    expect(byText("button", "Tie")).toBeUndefined();
    act(() => controlToolFor("pairwise")!.hotkeys!(plain.controls[0]!, h2.ctx()).find((k) => k.key === "[")!.run());
    expect(h2.store.result.p).toEqual({ choice: "A" });
  });
});

describe("relations and chat turn labels", () => {
  it("relations need two different spans and refuse duplicates", () => {
    const d = def([
      { name: "ner", type: "spans", field: "text", labels: [{ value: "PER" }] },
      { name: "rel", type: "relations", field: "text", spans: "ner", labels: [{ value: "knows" }] },
    ]);
    const h = harness(d, { text: "Ann knows Bob" }, { ner: [{ id: "s1", start: 0, end: 3, label: "PER" }, { id: "s2", start: 10, end: 13, label: "PER" }] });
    const [from, to] = root.querySelectorAll("select");
    act(() => {
      from!.value = "s1";
      from!.dispatchEvent(new Event("change", { bubbles: true }));
    });
    act(() => {
      to!.value = "s2";
      to!.dispatchEvent(new Event("change", { bubbles: true }));
    });
    expect(relationDraft("rel")).toEqual({ from: "s1", to: "s2" });
    click(byText("button", "+ knows"));
    expect(h.store.result.rel).toEqual([{ from: "s1", to: "s2", label: "knows" }]);
    expect(addRelation(d.controls[1]!, h.ctx(), "knows")).toMatch(/exists/);
    // drawn over the text as an arc with an arrowhead, hidden from screen readers (the list is the accessible form)
    const svg = root.querySelector<SVGElement>("svg.tx-arrows")!;
    expect(svg.getAttribute("aria-hidden")).toBe("true");
    expect(svg.querySelectorAll(".tx-arrow")).toHaveLength(1);
    expect(svg.querySelector(".tx-arrow path")!.getAttribute("marker-end")).toMatch(/^url\(#tx-head-/);
    expect(svg.querySelector(".tx-arrow text")!.textContent).toBe("knows");
    expect(root.querySelector(".tx-body")!.textContent).toBe("Ann knows Bob"); // the label is not part of the text
  });

  it("arcs rise with the distance, start and end on the spans' tops, and part when repeated", () => {
    const a = { x: 0, y: 40, width: 20, height: 16 };
    const b = { x: 200, y: 40, width: 40, height: 16 };
    const first = arcBetween(a, b);
    const second = arcBetween(a, b, 1);
    expect(first.path).toBe("M 10 40 C 10 -0.2, 220 -0.2, 220 40"); // rise 14 + 210 / 8
    expect(first.top).toEqual({ x: 115, y: 9.8 });
    expect(second.top.y).toBeLessThan(first.top.y);
    expect(arcBetween(a, { ...a, x: 30 }).top.y).toBeGreaterThan(first.top.y); // neighbours: a low arc
  });

  it("measures a span from its first rendered run, found by its start; a span not shown has no box", () => {
    const d = def([{ name: "ner", type: "spans", field: "text", labels: [{ value: "PER" }] }]);
    const spans = [{ id: "s1", start: 0, end: 3, label: "PER" }, { id: "s2", start: 10, end: 13, label: "PER" }, { id: "gone", start: 40, end: 42, label: "PER" }];
    const h = harness(d, { text: "Ann knows Bob" }, { ner: spans });
    const body = root.querySelector<HTMLElement>(".tx-body")!;
    const runs = Array.from(body.querySelectorAll<HTMLElement>("[data-s]"));
    const bob = runs.find((r) => r.textContent === "Bob")!;
    bob.getBoundingClientRect = () => ({ left: 70, top: 20, width: 24, height: 16 }) as DOMRect;
    bob.getClientRects = () => [] as unknown as DOMRectList;

    const measure = spanMeasurer(body, h.ctx());

    expect(measure("ner", "s2")).toEqual({ x: 70, y: 20, width: 24, height: 16 });
    expect(measure("ner", "gone")).toBeNull();
    expect(measure("ner", "nope")).toBeNull();
  });

  it("draws only relations whose spans exist, undirected ones without a head, one lane per repeat", () => {
    const d = def([
      { name: "ner", type: "spans", field: "text", labels: [{ value: "PER" }] },
      { name: "rel", type: "relations", field: "text", spans: "ner", directed: false, labels: [{ value: "knows" }, { value: "likes" }] },
    ]);
    const spans = [{ id: "s1", start: 0, end: 3, label: "PER" }, { id: "s2", start: 10, end: 13, label: "PER" }];
    const rel = [
      { from: "s1", to: "s2", label: "knows" },
      { from: "s2", to: "s1", label: "likes" },
      { from: "s1", to: "gone", label: "knows" },
    ];
    const h = harness(d, { text: "Ann knows Bob" }, { ner: spans, rel });
    const box = (_c: string, id: string) => (id === "s1" ? { x: 0, y: 30, width: 30, height: 16 } : { x: 100, y: 30, width: 30, height: 16 });

    const arrows = arrowsFor(relationControlsFor(h.ctx(), [d.controls[0]!]), h.ctx(), box);

    expect(arrows.map((a) => [a.label, a.directed])).toEqual([["knows", false], ["likes", false]]);
    expect(arrows[1]!.labelAt.y).toBeLessThan(arrows[0]!.labelAt.y); // the second arc between the pair rises higher
    expect(root.querySelector(".tx-arrow path")!.getAttribute("marker-end")).toBeNull();
  });

  it("chat turn labels only on allowed roles; hotkeys label the focused turn", () => {
    const d = def(
      [{ name: "tl", type: "chat_turn_labels", field: "chat", per_turn_roles: ["assistant"], labels: [{ value: "good", hotkey: "g" }, { value: "bad" }] }],
      [{ name: "chat", type: "conversation", source: "messages" }],
    );
    const messages = [
      { role: "user", content: "<script>window.__pwned=1</script>hi" },
      { role: "assistant", content: "hello" },
      { role: "assistant", content: "again" },
    ];
    expect(turnsOf({ messages })).toHaveLength(3);
    const h = harness(d, { messages });
    expect(root.querySelector("script")).toBeNull();
    expect(root.querySelectorAll(".cv-turn__labels")).toHaveLength(2);
    act(() => controlToolFor("chat_turn_labels")!.hotkeys!(d.controls[0]!, h.ctx()).find((k) => k.key === "g")!.run());
    expect(h.store.result.tl).toEqual({ "1": "good" });
    updateTextState({ turn: { chat: 2 } });
    act(() => toggleTurnLabel(d.controls[0]!, h.ctx(), textState().turn.chat!, "bad"));
    act(() => toggleTurnLabel(d.controls[0]!, h.ctx(), 1, "good"));
    expect(h.store.result.tl).toEqual({ "2": "bad" });
  });
});

describe("others' spans on the review page", () => {
  it("are drawn as dashed underlines with the annotator's name", () => {
    const d = def([{ name: "ner", type: "spans", field: "text", labels: [{ value: "PER" }] }]);
    const store = new AnswerStore({ ner: [{ id: "s1", start: 0, end: 3, label: "PER" }] });
    const ctx: LabelingContext = {
      definition: d,
      item: { id: 1, data: { text: "Ann and Bob" } },
      result: store.result,
      setAnswer: () => undefined,
      readOnly: true,
      activeControl: null,
      setActiveControl: () => undefined,
      activeLabel: {},
      setActiveLabel: () => undefined,
      predicted: new Set(),
      others: [{ annotator: "bob", color: "#c2185b", result: { ner: [{ id: "x", start: 8, end: 11, label: "PER" }] } }],
      visible: () => true,
    };
    const view = fieldViewFor("text")!;
    act(() => render(<view.View field={d.fields[0]!} value="Ann and Bob" controls={d.controls} ctx={ctx} />, root));
    const theirs = root.querySelector<HTMLElement>(".tx-other")!;
    expect(theirs.textContent).toBe("Bob");
    expect(theirs.title).toBe("bob: PER");
    expect(theirs.style.textDecoration).toContain("dashed");
  });
});
