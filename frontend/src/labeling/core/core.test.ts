import { describe, expect, it, vi } from "vitest";

import type { Definition } from "../contract";
import { ApiError } from "../../api/http";
import { SessionClient } from "./api";
import { DraftKeeper, draftKey } from "./drafts";
import { HotkeyMap, comboOf, describeCombo, isTypingTarget } from "./hotkeys";
import { Outbox, outboxKey } from "./outbox";
import { NextItemLoader } from "./prefetch";
import { ActiveTimer, Heartbeat, heartbeatInterval } from "./session";
import { isEmpty, missingRequired, resultForSubmit, showIfAtoms, visibleControls } from "./show-if";
import type { KeyValue } from "./storage";
import { AnswerStore, canonicalJson, sameJson } from "./store";

function memory(): KeyValue & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

describe("AnswerStore", () => {
  it("undoes and redoes single steps", () => {
    const store = new AnswerStore();
    store.set("a", "x");
    store.set("a", "y");
    expect(store.result).toEqual({ a: "y" });
    expect(store.undo()).toBe(true);
    expect(store.result).toEqual({ a: "x" });
    expect(store.undo()).toBe(true);
    expect(store.result).toEqual({});
    expect(store.undo()).toBe(false);
    store.redo();
    store.redo();
    expect(store.result).toEqual({ a: "y" });
    expect(store.redo()).toBe(false);
  });

  it("coalesces consecutive steps with the same key into one", () => {
    const store = new AnswerStore();
    for (const text of ["h", "he", "hel", "hello"]) store.set("note", text, { coalesce: "type" });
    store.set("other", 1);
    store.set("note", "hello!", { coalesce: "type" }); // a new run after another action
    store.undo();
    expect(store.result.note).toBe("hello");
    store.undo();
    store.undo();
    expect(store.result).toEqual({});
  });

  it("ends a run on undo and clears redo on a new change", () => {
    const store = new AnswerStore();
    store.set("n", "a", { coalesce: "t" });
    store.undo();
    store.set("n", "b", { coalesce: "t" });
    expect(store.canRedo).toBe(false);
    store.undo();
    expect(store.result).toEqual({});
  });

  it("ignores no-op sets and tracks predictions until edited", () => {
    const store = new AnswerStore({ s: "pos" }, ["s"]);
    const listener = vi.fn();
    store.subscribe(listener);
    store.set("s", "pos");
    expect(listener).not.toHaveBeenCalled();
    store.set("s", "neg");
    expect(store.predicted.has("s")).toBe(false);
    store.undo();
    expect(store.predicted.has("s")).toBe(true);
    expect(listener).toHaveBeenCalledTimes(2);
  });

  it("compares JSON structurally", () => {
    expect(sameJson({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(canonicalJson({ b: 1, a: [2] })).toBe('{"a":[2],"b":1}');
  });
});

const def = (controls: Definition["controls"]): Definition => ({
  version: 1,
  fields: [{ name: "text", type: "text" }],
  controls,
});

describe("show_if", () => {
  const definition = def([
    { name: "has_errors", type: "single_choice", field: "text", labels: [{ value: "yes" }, { value: "no" }] },
    { name: "note", type: "text", field: "text", required: true, show_if: { control: "has_errors", equals: "yes" } },
    { name: "deep", type: "text", field: "text", show_if: { control: "note", in: ["x"] } },
    { name: "cat", type: "taxonomy", field: "text", choices: [] },
    { name: "leaf", type: "text", field: "text", show_if: { control: "cat", equals: "Phones" } },
    { name: "pref", type: "pairwise", field: "text" },
    { name: "why", type: "text", field: "text", show_if: { control: "pref", in: ["A", "B"] } },
    { name: "rate", type: "rating", field: "text", min: 0, max: 1, step: 0.5 },
    { name: "low", type: "text", field: "text", show_if: { control: "rate", equals: 0.5 } },
    { name: "turns", type: "chat_turn_labels", field: "text", labels: [] },
    { name: "bad", type: "text", field: "text", show_if: { control: "turns", equals: "unsafe" } },
  ]);

  it("hides a control whose controller is unanswered or differs", () => {
    expect(visibleControls(definition, {}).has("note")).toBe(false);
    expect(visibleControls(definition, { has_errors: "no" }).has("note")).toBe(false);
    expect(visibleControls(definition, { has_errors: "yes" }).has("note")).toBe(true);
  });

  it("hides a control whose controller is hidden, even if answered", () => {
    expect(visibleControls(definition, { has_errors: "no", note: "x" }).has("deep")).toBe(false);
    expect(visibleControls(definition, { has_errors: "yes", note: "x" }).has("deep")).toBe(true);
  });

  it("compares per type: taxonomy leaf, pairwise choice, rating number, chat labels", () => {
    const shown = visibleControls(definition, {
      cat: [["Electronics", "Phones"], ["Home"]],
      pref: { choice: "B", strength: 2 },
      rate: 0.5,
      turns: { "1": ["helpful", "unsafe"] },
    });
    expect([...shown].filter((n) => ["leaf", "why", "low", "bad"].includes(n))).toEqual(["leaf", "why", "low", "bad"]);
    expect(visibleControls(definition, { pref: { choice: "tie" } }).has("why")).toBe(false);
    expect(visibleControls(definition, { cat: ["Phones", "Electronics"] }).has("leaf")).toBe(false);
  });

  it("matches atoms like the server", () => {
    expect(showIfAtoms("multiple_choice", ["a", 1, 1.5, true])).toEqual(["a", 1]);
    expect(showIfAtoms("rating", 1.5)).toEqual([1.5]);
    expect(showIfAtoms("single_choice", true)).toEqual([]);
    expect(isEmpty({})).toBe(true);
    expect(isEmpty(0)).toBe(false);
  });

  it("drops hidden and empty answers before submit and lists missing required ones", () => {
    expect(resultForSubmit(definition, { has_errors: "no", note: "stale", rate: 0 })).toEqual({ has_errors: "no", rate: 0 });
    expect(missingRequired(definition, { has_errors: "yes" }).map((c) => c.name)).toEqual(["note"]);
    expect(missingRequired(definition, { has_errors: "no" })).toEqual([]);
  });
});

describe("HotkeyMap", () => {
  const key = (k: string, mods: Partial<KeyboardEvent> = {}, target: EventTarget | null = document.body) => ({
    key: k,
    ctrlKey: false,
    metaKey: false,
    shiftKey: false,
    altKey: false,
    target,
    ...mods,
  });

  it("dispatches case-insensitively and keeps the first of two conflicting bindings", () => {
    const first = vi.fn();
    const second = vi.fn();
    const map = new HotkeyMap([
      { key: "p", description: "PER", run: first },
      { key: "P", description: "other", run: second },
    ]);
    expect(map.conflicts).toHaveLength(1);
    expect(map.dispatch(key("P", { shiftKey: true }))).toBe(true);
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).not.toHaveBeenCalled();
  });

  it("distinguishes ctrl+z from ctrl+shift+z and matches ? without caring about shift", () => {
    const undo = vi.fn();
    const redo = vi.fn();
    const help = vi.fn();
    const map = new HotkeyMap([
      { key: "z", ctrl: true, description: "Undo", run: undo },
      { key: "z", ctrl: true, shift: true, description: "Redo", run: redo },
      { key: "?", description: "Help", run: help },
    ]);
    map.dispatch(key("Z", { ctrlKey: true, shiftKey: true }));
    map.dispatch(key("z", { metaKey: true }));
    map.dispatch(key("?", { shiftKey: true }));
    expect([undo.mock.calls.length, redo.mock.calls.length, help.mock.calls.length]).toEqual([1, 1, 1]);
    expect(map.dispatch(key("z"))).toBe(false);
    expect(comboOf({ key: "Enter", ctrl: true })).toBe("ctrl+Enter");
    expect(describeCombo({ key: "z", ctrl: true, shift: true })).toBe("Ctrl+Shift+Z");
  });

  it("ignores label keys while typing, except bindings allowed in inputs", () => {
    const textarea = document.createElement("textarea");
    const checkbox = Object.assign(document.createElement("input"), { type: "checkbox" });
    const label = vi.fn();
    const submit = vi.fn();
    const map = new HotkeyMap([
      { key: "1", description: "positive", run: label },
      { key: "Enter", ctrl: true, description: "Submit", run: submit, inInputs: true },
    ]);
    expect(map.dispatch(key("1", {}, textarea))).toBe(false);
    expect(map.dispatch(key("1", {}, checkbox))).toBe(true);
    expect(map.dispatch(key("Enter", { ctrlKey: true }, textarea))).toBe(true);
    expect(label).toHaveBeenCalledTimes(1);
    expect(submit).toHaveBeenCalledTimes(1);
    expect(isTypingTarget(document.createElement("select"))).toBe(true);
    expect(map.dispatch(key("1", { isComposing: true }))).toBe(false);
  });
});

describe("DraftKeeper", () => {
  it("writes locally at once and to the server after a pause", async () => {
    vi.useFakeTimers();
    const storage = memory();
    const save = vi.fn().mockResolvedValue({});
    const keeper = new DraftKeeper({ projectId: 1, storage, save, delayMs: 500, now: () => 1000 });
    keeper.begin(7, 70);
    keeper.change({ a: 1 });
    keeper.change({ a: 2 });
    expect(JSON.parse(storage.data.get(draftKey(1, 7))!)).toMatchObject({ result: { a: 2 }, synced: false });
    expect(save).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(500);
    expect(save).toHaveBeenCalledTimes(1);
    expect(save).toHaveBeenCalledWith(7, { a: 2 }, false);
    expect(JSON.parse(storage.data.get(draftKey(1, 7))!).synced).toBe(true);
    keeper.discard(7);
    expect(storage.data.has(draftKey(1, 7))).toBe(false);
    vi.useRealTimers();
  });

  it("keeps the local copy when the server cannot be reached and restores it", async () => {
    vi.useFakeTimers();
    const storage = memory();
    const states: string[] = [];
    const save = vi.fn().mockRejectedValue(new ApiError(0, "network_error", "offline"));
    const keeper = new DraftKeeper({ projectId: 1, storage, save, delayMs: 100, now: () => 5000, onState: (s) => states.push(s) });
    keeper.begin(7, 70);
    keeper.change({ a: "unsaved" });
    await vi.advanceTimersByTimeAsync(100);
    expect(states).toContain("offline");
    expect(keeper.hasPending).toBe(true);
    // a reload: a new keeper, the server has an older draft
    const fresh = new DraftKeeper({ projectId: 1, storage, save });
    expect(fresh.restore(7, { a: "old" }, new Date(1000).toISOString())).toEqual({ a: "unsaved" });
    expect(fresh.restore(8, { a: "server" }, null)).toEqual({ a: "server" });
    keeper.cancel();
    vi.useRealTimers();
  });

  it("prefers the server copy when it is newer than a synced local one", () => {
    const storage = memory();
    storage.setItem(draftKey(1, 7), JSON.stringify({ assignmentId: 7, itemId: 1, result: { a: "local" }, savedAt: 1000, synced: true }));
    const keeper = new DraftKeeper({ projectId: 1, storage, save: vi.fn() });
    expect(keeper.restore(7, { a: "server" }, new Date(2000).toISOString())).toEqual({ a: "server" });
  });
});

describe("Outbox", () => {
  const entry = { assignmentId: 3, itemId: 30, key: "key-1", body: { result: { a: 1 } } };

  it("keeps a submission offline and retries it with the same key when online", async () => {
    vi.useFakeTimers();
    const storage = memory();
    const annotation = { id: 1 } as never;
    const send = vi
      .fn()
      .mockRejectedValueOnce(new ApiError(0, "network_error", "offline"))
      .mockRejectedValueOnce(new ApiError(503, "http_503", "down"))
      .mockResolvedValueOnce(annotation);
    const sent = vi.fn();
    const outbox = new Outbox({ projectId: 9, storage, send, baseDelayMs: 1000, onSent: sent });
    const first = await outbox.submit(entry);
    expect(first.status).toBe("queued");
    expect(JSON.parse(storage.data.get(outboxKey(9))!)).toHaveLength(1);
    // a reload keeps it
    expect(new Outbox({ projectId: 9, storage, send: vi.fn() }).pending).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000); // backoff: 1 s, then 2 s
    expect(send).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(send).toHaveBeenCalledTimes(3);
    expect(send.mock.calls.every(([e]) => e.key === "key-1")).toBe(true);
    expect(sent).toHaveBeenCalledWith(expect.objectContaining({ key: "key-1" }), annotation);
    expect(outbox.pending).toHaveLength(0);
    vi.useRealTimers();
  });

  it("reports a definitive refusal such as lease_lost and drops it from the queue", async () => {
    const storage = memory();
    const refused = vi.fn();
    const outbox = new Outbox({
      projectId: 9,
      storage,
      send: vi.fn().mockRejectedValue(new ApiError(409, "lease_lost", "lost")),
      onRefused: refused,
    });
    const outcome = await outbox.submit(entry);
    expect(outcome.status).toBe("refused");
    expect(refused.mock.calls[0]![1].code).toBe("lease_lost");
    expect(outbox.pending).toHaveLength(0);
  });

  it("flushes at once when the browser comes back online", async () => {
    const target = new EventTarget();
    const send = vi.fn().mockRejectedValueOnce(new ApiError(0, "network_error", "x")).mockResolvedValue({ id: 2 });
    const outbox = new Outbox({ projectId: 9, storage: memory(), send, baseDelayMs: 60_000 });
    const stop = outbox.listen(target as unknown as Window);
    await outbox.submit(entry);
    target.dispatchEvent(new Event("online"));
    await vi.waitFor(() => expect(outbox.pending).toHaveLength(0));
    stop();
  });
});

describe("SessionClient", () => {
  it("sends the Idempotency-Key and keeps the error body", async () => {
    const fetchImpl = vi.fn().mockResolvedValue(
      new Response(JSON.stringify({ code: "invalid_annotation", detail: "bad", errors: [{ path: "a", code: "x", message: "m" }] }), {
        status: 400,
      }),
    );
    const client = new SessionClient(4, fetchImpl);
    const error = await client.submit(5, { result: {} }, "abc").catch((e) => e);
    const [url, init] = fetchImpl.mock.calls[0]!;
    expect(url).toBe("/api/projects/4/assignments/5/submit/");
    expect(init.headers["Idempotency-Key"]).toBe("abc");
    expect(error).toBeInstanceOf(ApiError);
    expect(error.problems).toEqual([{ path: "a", code: "x", message: "m" }]);
    expect(error.transient).toBe(false);
  });

  it("turns a network failure into a transient status-0 error", async () => {
    const client = new SessionClient(4, vi.fn().mockRejectedValue(new TypeError("fail")));
    const error = await client.next().catch((e) => e);
    expect([error.status, error.transient]).toEqual([0, true]);
  });
});

describe("ActiveTimer and Heartbeat", () => {
  it("counts visible, recently active time only", () => {
    let now = 0;
    const timer = new ActiveTimer({ now: () => now }, 1000);
    now = 500;
    expect(timer.take()).toBe(500);
    now = 3000; // idle after 1000
    expect(timer.take()).toBe(500);
    timer.activity();
    timer.setVisible(false);
    now = 3500;
    expect(timer.take()).toBe(0);
    timer.setVisible(true);
    now = 3700;
    expect(timer.peek()).toBe(200);
  });

  it("stops and reports a lost lease", async () => {
    const lost = vi.fn();
    const beat = new Heartbeat({ intervalMs: 1000, beat: () => Promise.reject(new ApiError(409, "lease_lost", "x")), onLost: lost });
    beat.start();
    await beat.beatNow();
    expect(lost).toHaveBeenCalledTimes(1);
    expect(beat.running).toBe(false);
    expect(heartbeatInterval(600)).toBe(60_000);
    expect(heartbeatInterval(30)).toBe(10_000);
  });

  it("keeps beating through transient errors", async () => {
    const lost = vi.fn();
    const errors = vi.fn();
    const beat = new Heartbeat({ intervalMs: 1000, beat: () => Promise.reject(new ApiError(0, "network_error", "x")), onLost: lost, onError: errors });
    beat.start();
    await beat.beatNow();
    expect([lost.mock.calls.length, errors.mock.calls.length, beat.running]).toEqual([0, 1, true]);
    beat.stop();
  });
});

describe("NextItemLoader", () => {
  it("loads once, warms the media file and hands the answer over", async () => {
    const load = vi.fn().mockResolvedValue({ assignment: { item: { id: 1, data: {}, media_url: "/m/1", media_type: "image" } }, reason: "", resumed: false });
    const warm = vi.fn();
    const loader = new NextItemLoader(load, warm);
    loader.start();
    loader.start();
    const next = await loader.take();
    expect(load).toHaveBeenCalledTimes(1);
    expect(warm).toHaveBeenCalledWith("/m/1", "image");
    expect(next.assignment?.item.id).toBe(1);
    expect(loader.started).toBe(false);
  });
});

import { comparable, differs, summarise } from "./compare";

describe("compare", () => {
  const spans = { name: "ner", type: "spans", field: "text" };
  const rels = { name: "rel", type: "relations", field: "text", spans: "ner" };
  it("compares spans by offsets and label, not ids", () => {
    const a = { ner: [{ id: "s1", start: 0, end: 3, label: "PER" }] };
    const b = { ner: [{ id: "x9", start: 0, end: 3, label: "PER" }] };
    const c = { ner: [{ id: "s1", start: 0, end: 4, label: "PER" }] };
    expect(differs(spans, [a, b])).toBe(false);
    expect(differs(spans, [a, c])).toBe(true);
    expect(differs(spans, [a])).toBe(false);
  });
  it("compares relations through the spans they join", () => {
    const a = { ner: [{ id: "s1", start: 0, end: 3, label: "PER" }, { id: "s2", start: 5, end: 8, label: "ORG" }], rel: [{ from: "s1", to: "s2", label: "works_for" }] };
    const b = { ner: [{ id: "b", start: 5, end: 8, label: "ORG" }, { id: "a", start: 0, end: 3, label: "PER" }], rel: [{ from: "a", to: "b", label: "works_for" }] };
    expect(comparable(rels, a.rel, a)).toBe(comparable(rels, b.rel, b));
  });
  it("ignores the order of multiple choices and summarises as text", () => {
    const mc = { name: "t", type: "multiple_choice", field: "text" };
    expect(differs(mc, [{ t: ["a", "b"] }, { t: ["b", "a"] }])).toBe(false);
    expect(summarise({ name: "p", type: "pairwise", field: "c" }, { choice: "B", strength: 2 })).toBe("B (strength 2)");
    expect(summarise(spans, [{ id: "s", start: 0, end: 3, label: "PER", text: "<b>Zoë" }])).toBe("PER: <b>Zoë");
    expect(summarise(mc, [])).toBe("—");
  });
});
