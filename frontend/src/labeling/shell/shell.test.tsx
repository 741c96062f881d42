import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { SessionClient } from "../core/api";
import { draftKey } from "../core/drafts";
import { registerTextTools } from "../tools/text";
import type { PageConfig } from "./config";
import { LabelingApp, leaseAtRisk } from "./labeling-app";
import { ReviewApp } from "./review-app";

registerTextTools();

const definition = {
  version: 1,
  fields: [{ name: "text", type: "text" }],
  controls: [
    { name: "sentiment", type: "single_choice", field: "text", required: true, labels: [{ value: "positive", hotkey: "1" }, { value: "negative", hotkey: "2" }] },
    { name: "note", type: "text", field: "text", show_if: { control: "sentiment", equals: "negative" } },
  ],
};

const config: PageConfig = {
  projectId: 3,
  projectName: "Reviews",
  user: "ann",
  schema: { version: 1, definition },
  leaseSeconds: 600,
  rejectReasons: ["wrong_label", "other"],
  guidelines: null,
  links: { guidelines: "/g", project: "/p" },
  feedPath: "",
};

const assignment = (id: number, text: string, extra: Record<string, unknown> = {}) => ({
  id,
  status: "leased",
  item: { id: id * 10, data: { text } },
  lease_expires_at: null,
  draft: null,
  draft_saved_at: null,
  active_ms: 0,
  schema: { version: 1, definition },
  annotation: null,
  correction: null,
  prediction: null,
  ...extra,
});

type Route = (init: RequestInit) => { status: number; body: unknown };

function fakeServer(routes: Record<string, Route | Route[]>) {
  const calls: { method: string; url: string; init: RequestInit }[] = [];
  const fetchImpl = vi.fn(async (url: string, init: RequestInit) => {
    const method = init.method ?? "GET";
    calls.push({ method, url, init });
    const key = `${method} ${url.replace("/api/projects/3/", "")}`;
    const route = routes[key];
    const handler = Array.isArray(route) ? (route.length > 1 ? route.shift()! : route[0]!) : route;
    if (!handler) return new Response(JSON.stringify({ code: "not_found", detail: key }), { status: 404 });
    const { status, body } = handler(init);
    return new Response(JSON.stringify(body), { status });
  });
  return { client: new SessionClient(3, fetchImpl), calls };
}

let root: HTMLElement;
beforeEach(() => {
  localStorage.clear();
  root = document.createElement("div");
  document.body.replaceChildren(root);
});
afterEach(() => render(null, root));

const key = (k: string, mods: KeyboardEventInit = {}) =>
  act(() => void document.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true, ...mods })));
const until = (check: () => void) => vi.waitFor(check, { timeout: 2000 });
const ok = (body: unknown) => () => ({ status: 200, body });

describe("LabelingApp", () => {
  it("labels with a hotkey, submits with Ctrl+Enter and an Idempotency-Key, then shows the next item", async () => {
    const server = fakeServer({
      "POST queue/next/": [ok({ assignment: assignment(1, "first <b>item</b>"), reason: "", resumed: false }), ok({ assignment: assignment(2, "second"), reason: "", resumed: false })],
      "GET queue/progress/": ok({ mine: { submitted: 0 }, total_items: 2, completed_share: 0 }),
      "POST assignments/1/submit/": () => ({ status: 201, body: { id: 9 } }),
    });
    act(() => render(<LabelingApp config={config} client={server.client} />, root));
    await until(() => expect(root.querySelector(".tx-body")?.textContent).toBe("first <b>item</b>"));
    expect(root.querySelector("b")).toBeNull();
    key("Enter", { ctrlKey: true }); // required control empty: refused locally
    await until(() => expect(root.textContent).toContain("Required"));
    key("2");
    await until(() => expect(root.querySelector("[data-control='note']")).not.toBeNull()); // show_if
    key("1");
    await until(() => expect(root.querySelector("[data-control='note']")).toBeNull());
    key("Enter", { ctrlKey: true });
    await until(() => expect(root.querySelector(".tx-body")?.textContent).toBe("second"));
    const submit = server.calls.find((c) => c.url.endsWith("assignments/1/submit/"))!;
    expect(JSON.parse(String(submit.init.body)).result).toEqual({ sentiment: "positive" });
    expect((submit.init.headers as Record<string, string>)["Idempotency-Key"]).toMatch(/.{8,}/);
  });

  it("rates with a number key and submits with Enter on the focused scale without clearing it", async () => {
    const rated = { version: 1, fields: [{ name: "text", type: "text" }], controls: [{ name: "quality", type: "rating", field: "text", min: 1, max: 5, required: true }] };
    const item = { ...assignment(1, "first"), schema: { version: 1, definition: rated } };
    const server = fakeServer({
      "POST queue/next/": [ok({ assignment: item, reason: "", resumed: false }), ok({ assignment: null, reason: "queue_empty", resumed: false })],
      "GET queue/progress/": ok({ mine: { submitted: 0 }, total_items: 1, completed_share: 0 }),
      "POST assignments/1/submit/": () => ({ status: 201, body: { id: 9 } }),
    });
    act(() => render(<LabelingApp config={{ ...config, schema: { version: 1, definition: rated } }} client={server.client} />, root));
    await until(() => expect(root.querySelector(".lb-rating__scale")).not.toBeNull());
    key("3"); // the form's only rating: anywhere on the page
    await until(() => expect(root.querySelector("[aria-checked=true]")?.textContent).toBe("3"));
    const three = root.querySelector<HTMLButtonElement>("[aria-checked=true]")!;
    act(() => three.focus());
    act(() => void three.dispatchEvent(new KeyboardEvent("keydown", { key: "4", bubbles: true, cancelable: true })));
    await until(() => expect(document.activeElement?.textContent).toBe("4"));
    const enter = new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true });
    act(() => void document.activeElement!.dispatchEvent(enter));
    expect(enter.defaultPrevented).toBe(true); // no click: the chosen value is not cleared
    await until(() => expect(server.calls.some((c) => c.url.endsWith("assignments/1/submit/"))).toBe(true));
    const submit = server.calls.find((c) => c.url.endsWith("assignments/1/submit/"))!;
    expect(JSON.parse(String(submit.init.body)).result).toEqual({ quality: 4 });
  });

  it("keeps a submission offline and sends it with the same key when back online", async () => {
    let online = false;
    const server = fakeServer({
      "POST queue/next/": [ok({ assignment: assignment(1, "one"), reason: "", resumed: false }), ok({ assignment: null, reason: "queue_empty", resumed: false })],
      "GET queue/progress/": ok({}),
      "POST assignments/1/submit/": () => (online ? { status: 201, body: { id: 1 } } : { status: 503, body: { code: "http_503", detail: "down" } }),
    });
    act(() => render(<LabelingApp config={config} client={server.client} />, root));
    await until(() => expect(root.querySelector(".tx-body")).not.toBeNull());
    key("1");
    key("Enter", { ctrlKey: true });
    await until(() => expect(root.textContent).toContain("Waiting for the connection"));
    expect(JSON.parse(localStorage.getItem("tessera:outbox:3")!)).toHaveLength(1);
    online = true;
    act(() => void window.dispatchEvent(new Event("online")));
    await until(() => expect(root.textContent).toContain("Nothing to label right now"));
    const keys = server.calls.filter((c) => c.url.endsWith("submit/")).map((c) => (c.init.headers as Record<string, string>)["Idempotency-Key"]);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
  });

  it("restores the local draft after a reload and explains a lost lease", async () => {
    localStorage.setItem(draftKey(3, 1), JSON.stringify({ assignmentId: 1, itemId: 10, result: { sentiment: "negative", note: "kept" }, savedAt: Date.now(), synced: false }));
    const server = fakeServer({
      "POST queue/next/": ok({ assignment: assignment(1, "one", { draft: { sentiment: "positive" }, draft_saved_at: "2020-01-01T00:00:00Z" }), reason: "", resumed: true }),
      "GET queue/progress/": ok({}),
      "POST assignments/1/submit/": () => ({ status: 409, body: { code: "lease_lost", detail: "Your hold on this item expired." } }),
    });
    act(() => render(<LabelingApp config={config} client={server.client} />, root));
    await until(() => expect(root.querySelector<HTMLTextAreaElement>("textarea")?.value).toBe("kept"));
    key("Enter", { ctrlKey: true });
    await until(() => expect(root.textContent).toContain("Your hold on this item was lost"));
    expect(JSON.parse(localStorage.getItem(draftKey(3, 1))!).result.note).toBe("kept");
  });

  it("asks to acknowledge the guidelines, then loads the item", async () => {
    const server = fakeServer({
      "POST queue/next/": [
        () => ({ status: 409, body: { code: "guidelines_not_acknowledged", detail: "Read them.", guideline_version: 4 } }),
        ok({ assignment: assignment(1, "one"), reason: "", resumed: false }),
      ],
      "POST guideline-versions/4/acknowledge/": ok({}),
      "GET queue/progress/": ok({}),
    });
    act(() => render(<LabelingApp config={config} client={server.client} />, root));
    await until(() => expect(root.textContent).toContain("I have read v4"));
    const button = [...root.querySelectorAll("button")].find((b) => b.textContent?.includes("I have read v4"))!;
    act(() => button.click());
    await until(() => expect(root.querySelector(".tx-body")?.textContent).toBe("one"));
  });

  it("explains paused annotators and shows a correction's comment as text", async () => {
    const paused = fakeServer({ "POST queue/next/": () => ({ status: 409, body: { code: "annotator_paused", detail: "Too many errors." } }) });
    act(() => render(<LabelingApp config={config} client={paused.client} />, root));
    await until(() => expect(root.textContent).toContain("You are paused"));
    act(() => render(null, root));
    const correction = fakeServer({
      "POST queue/next/": ok({
        assignment: assignment(1, "one", {
          status: "correction",
          annotation: { id: 5, result: { sentiment: "negative" }, revision: 2 },
          correction: { reason: "wrong_label", comment: "<img src=x onerror=alert(1)> see rule 2", reviewer: "rita", at: "" },
        }),
        reason: "",
        resumed: false,
      }),
      "GET queue/progress/": ok({}),
      "POST assignments/1/submit/": () => ({ status: 200, body: {} }),
    });
    act(() => render(<LabelingApp config={config} client={correction.client} />, root));
    await until(() => expect(root.textContent).toContain("see rule 2"));
    expect(root.querySelector("img")).toBeNull();
    expect(root.querySelector("[aria-checked='true']")?.textContent).toContain("negative");
    key("1");
    key("Enter", { ctrlKey: true });
    await until(() => expect(correction.calls.some((c) => c.url.endsWith("submit/"))).toBe(true));
    const body = JSON.parse(String(correction.calls.find((c) => c.url.endsWith("submit/"))!.init.body));
    expect(body.base_revision).toBe(2);
  });
});

describe("ReviewApp", () => {
  const task = {
    item: { id: 10, data: { text: "review me" } },
    item_state: "in_review",
    reason: "",
    annotations: [
      { id: 1, item: 10, annotator: "ann", result: { sentiment: "positive" }, revision: 1, review: "pending", schema_version: 1, created_at: "" },
      { id: 2, item: 10, annotator: "bob", result: { sentiment: "negative", note: "<script>window.__pwned=1</script>" }, revision: 1, review: "pending", schema_version: 1, created_at: "" },
    ],
  };

  it("compares side by side, accepts with A and rejects with a reason and comment", async () => {
    const server = fakeServer({
      "POST review/next/": [ok(task), ok({ item: null, item_state: null, annotations: [], reason: "queue_empty" })],
      "POST annotations/1/review/": () => ({ status: 201, body: {} }),
      "POST annotations/2/review/": () => ({ status: 201, body: {} }),
    });
    act(() => render(<ReviewApp config={config} client={server.client} />, root));
    await until(() => expect(root.querySelector(".rv-compare")).not.toBeNull());
    expect(root.querySelector("tr.rv-differs th")?.textContent).toContain("sentiment");
    expect(root.querySelector("script")).toBeNull();
    expect(root.textContent).toContain("<script>window.__pwned=1</script>");
    key("a");
    await until(() => expect(root.textContent).toContain("ann's annotation accepted"));
    key("r");
    const comment = root.querySelector<HTMLTextAreaElement>("[role=dialog] textarea")!;
    act(() => {
      comment.value = "Rule 2: factual is neutral.";
      comment.dispatchEvent(new Event("input", { bubbles: true }));
    });
    const select = root.querySelector<HTMLSelectElement>("[role=dialog] select")!;
    act(() => {
      select.value = "other";
      select.dispatchEvent(new Event("change", { bubbles: true }));
    });
    key("Enter", { ctrlKey: true });
    await until(() => expect(root.textContent).toContain("Nothing to review"));
    const reject = server.calls.find((c) => c.url.endsWith("annotations/2/review/"))!;
    expect(JSON.parse(String(reject.init.body))).toEqual({ decision: "reject", revision: 1, reason: "other", comment: "Rule 2: factual is neutral." });
    const accept = server.calls.find((c) => c.url.endsWith("annotations/1/review/"))!;
    expect(JSON.parse(String(accept.init.body))).toEqual({ decision: "accept", revision: 1 });
  });

  it("fixes an annotation: edit, then submit as a fix", async () => {
    const server = fakeServer({
      "POST review/next/": ok(task),
      "POST annotations/1/review/": () => ({ status: 201, body: {} }),
    });
    act(() => render(<ReviewApp config={config} client={server.client} />, root));
    await until(() => expect(root.querySelector(".rv-compare")).not.toBeNull());
    key("f");
    key("2");
    key("Enter", { ctrlKey: true });
    await until(() => expect(server.calls.some((c) => c.url.endsWith("annotations/1/review/"))).toBe(true));
    const fix = JSON.parse(String(server.calls.find((c) => c.url.endsWith("annotations/1/review/"))!.init.body));
    expect(fix).toEqual({ decision: "fix", revision: 1, result: { sentiment: "negative" } });
  });
});


describe("lease events from the project feed", () => {
  const current = { id: 7, item: { id: 42 } };
  const event = (name: string, data: Record<string, unknown>) => ({ type: "unrecognized" as const, name, data });

  it("checks the lease at once when the sweep expired it or another assignment took a slot of the item", () => {
    expect(leaseAtRisk(event("lease.expired", { items: [3, 42] }), current)).toBe(true);
    expect(leaseAtRisk(event("item.leased", { item_id: 42, assignment_id: 8 }), current)).toBe(true);
  });

  it("ignores other items, our own lease, unrelated events and pages without an item", () => {
    expect(leaseAtRisk(event("lease.expired", { items: [3] }), current)).toBe(false);
    expect(leaseAtRisk(event("item.leased", { item_id: 42, assignment_id: 7 }), current)).toBe(false);
    expect(leaseAtRisk(event("item.leased", { item_id: 41, assignment_id: 8 }), current)).toBe(false);
    expect(leaseAtRisk(event("annotation.submitted", { item_id: 42 }), current)).toBe(false);
    expect(leaseAtRisk(event("lease.expired", { items: [42] }), null)).toBe(false);
    expect(leaseAtRisk(event("lease.expired", { items: "42" }), current)).toBe(false);
    expect(leaseAtRisk({ type: "feed.ready", data: { project_id: 1 } }, current)).toBe(false);
  });
});
