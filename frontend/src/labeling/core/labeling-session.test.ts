/** The labeling session controller, driven without rendering anything: intents in, state out. */
import { afterEach, describe, expect, it, vi } from "vitest";

import type { FeedEvent } from "../../realtime/project-feed";
import type { PageConfig } from "../shell/config";
import { registerTextTools } from "../tools/text";
import { SessionClient } from "./api";
import { draftKey } from "./drafts";
import { LabelingSession, WAITING_OFFLINE, leaseAtRisk } from "./labeling-session";
import { outboxKey } from "./outbox";
import { ActiveTimer } from "./session";
import type { KeyValue } from "./storage";

registerTextTools();

const definition = {
  version: 1,
  fields: [{ name: "text", type: "text" }],
  controls: [
    { name: "sentiment", type: "single_choice", field: "text", required: true, labels: [{ value: "positive" }, { value: "negative" }] },
    { name: "note", type: "text", field: "text" },
  ],
};

const config: PageConfig = {
  projectId: 3,
  projectName: "Reviews",
  user: "ann",
  schema: { version: 1, definition },
  leaseSeconds: 600,
  rejectReasons: [],
  guidelines: null,
  links: { guidelines: "/g", project: "/p" },
  feedPath: "",
};

const assignment = (id: number, extra: Record<string, unknown> = {}) => ({
  id,
  status: "leased",
  item: { id: id * 10, data: { text: `item ${id}` } },
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

type Answer = { status: number; body: unknown } | "offline";
type Route = (init: RequestInit) => Answer;

/** A fake server: `"METHOD path"` -> a route (a list is answered in order, the last one repeats). */
function fakeServer(routes: Record<string, Route | Route[]>) {
  const calls: { method: string; path: string; init: RequestInit }[] = [];
  const fetchImpl = vi.fn(async (url: string, init: RequestInit) => {
    const method = init.method ?? "GET";
    const path = url.replace("/api/projects/3/", "");
    calls.push({ method, path, init });
    const route = routes[`${method} ${path}`];
    const handler = Array.isArray(route) ? (route.length > 1 ? route.shift()! : route[0]!) : route;
    const answer: Answer = handler ? handler(init) : { status: 404, body: { code: "not_found", detail: path } };
    if (answer === "offline") throw new TypeError("Failed to fetch");
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  });
  return { client: new SessionClient(3, fetchImpl), calls };
}

function memory(): KeyValue & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

const ok = (body: unknown) => (): Answer => ({ status: 200, body });
const fail = (status: number, body: unknown) => (): Answer => ({ status, body });
const next = (a: unknown) => ok({ assignment: a, reason: "", resumed: false });

let sessions: LabelingSession[] = [];
function session(routes: Record<string, Route | Route[]>, storage = memory()) {
  const server = fakeServer({ "GET queue/progress/": ok({ mine: { submitted: 4 }, total_items: 10, completed_share: 0.5 }), ...routes });
  const s = new LabelingSession({ config, client: server.client, storage, timer: new ActiveTimer({ now: () => 0 }), now: () => 42 });
  sessions.push(s);
  return { s, calls: server.calls, storage };
}
afterEach(() => {
  for (const s of sessions) s.dispose();
  sessions = [];
});

describe("LabelingSession", () => {
  it("claims and shows the next item, starting from the prediction when there is no draft", async () => {
    const prediction = { id: 9, model_name: "m", model_version: "1", score: 0.9, result: { sentiment: "negative", unknown: 1 } };
    const { s } = session({ "POST queue/next/": next(assignment(1, { prediction })) });

    await s.resume();

    expect(s.state.phase).toEqual({ kind: "working" });
    expect(s.state.assignment?.id).toBe(1);
    expect(s.state.activeControl).toBe("sentiment");
    expect(s.state.readyAt).toBe(42);
    expect(s.state.predictionId).toBe(9);
    expect(s.store.result.sentiment).toBe("negative");
    expect([...s.store.predicted]).toEqual(["sentiment"]);
    expect(s.heartbeatRunning).toBe(true);
    await vi.waitFor(() => expect(s.state.progress).toEqual({ submitted: 4, total: 10, share: 0.5 }));
  });

  it("restores the local draft over the server's older one", async () => {
    const storage = memory();
    storage.setItem(
      draftKey(3, 1),
      JSON.stringify({ assignmentId: 1, itemId: 10, result: { sentiment: "positive" }, savedAt: Date.now(), synced: false }),
    );
    const { s } = session({ "POST queue/next/": next(assignment(1, { draft: { sentiment: "negative" }, draft_saved_at: "2020-01-01T00:00:00Z" })) }, storage);
    await s.loadNext();
    expect(s.store.result).toEqual({ sentiment: "positive" });
  });

  it("shows why there is nothing to label", async () => {
    const { s } = session({ "POST queue/next/": ok({ assignment: null, reason: "quota_reached", resumed: false }) });
    await s.loadNext();
    expect(s.state.phase).toEqual({ kind: "empty", reason: "quota_reached" });
  });

  it("asks for the guidelines first, then loads once they are acknowledged", async () => {
    const { s, calls } = session({
      "POST queue/next/": [
        fail(409, { code: "guidelines_not_acknowledged", detail: "Read them", guideline_version: 2 }),
        next(assignment(1)),
      ],
      "POST guideline-versions/2/acknowledge/": ok({}),
    });
    await s.loadNext();
    expect(s.state.phase).toEqual({ kind: "guidelines", version: 2, detail: "Read them" });
    expect(s.state.guidelinesOpen).toBe(true);

    await s.acknowledge(2);
    await vi.waitFor(() => expect(s.state.phase.kind).toBe("working"));
    expect(s.state.guidelinesOpen).toBe(false);
    expect(s.state.notice).toEqual({ tone: "ok", text: "Thanks: you confirmed guidelines v2." });
    expect(calls.map((c) => c.path)).toContain("guideline-versions/2/acknowledge/");
  });

  it("refuses to submit with a required control unanswered, and says which", async () => {
    const { s, calls } = session({ "POST queue/next/": next(assignment(1)) });
    await s.loadNext();

    const outcome = await s.submit();

    expect(outcome).toEqual({ status: "missing", missing: ["sentiment"] });
    expect(s.state.problems).toEqual({ sentiment: ["Required: answer this before submitting."] });
    expect(s.state.notice).toEqual({ tone: "error", text: "Answer sentiment first." });
    expect(calls.some((c) => c.path.endsWith("submit/"))).toBe(false);

    s.setAnswer("sentiment", "positive");
    expect(s.state.problems).toEqual({ sentiment: [] });
    expect(s.state.notice).toBeNull();
  });

  it("keeps every change locally at once (never lose work)", async () => {
    const { s, storage } = session({ "POST queue/next/": next(assignment(1)) });
    await s.loadNext();
    s.setAnswer("sentiment", "negative");
    expect(JSON.parse(storage.getItem(draftKey(3, 1))!).result).toEqual({ sentiment: "negative" });
    expect(s.state.draftState).toBe("pending");
  });

  it("submits with an idempotency key and moves on to the next item", async () => {
    const { s, calls } = session({
      "POST queue/next/": [next(assignment(1)), next(assignment(2))],
      "POST assignments/1/submit/": ok({ id: 100 }),
      "PUT assignments/1/draft/": ok({}),
    });
    await s.loadNext();
    s.setAnswer("sentiment", "positive");

    expect(await s.submit()).toEqual({ status: "sent" });

    const sent = calls.find((c) => c.path === "assignments/1/submit/")!;
    expect((sent.init.headers as Record<string, string>)["Idempotency-Key"]).toBeTruthy();
    expect(JSON.parse(String(sent.init.body))).toMatchObject({ result: { sentiment: "positive" }, prediction: null });
    await vi.waitFor(() => expect(s.state.assignment?.id).toBe(2));
    expect(s.state.notice).toEqual({ tone: "ok", text: "Submitted. Here is your next item." });
    expect(s.state.submitting).toBe(false);
  });

  it("after the last item says so instead of promising a next one", async () => {
    // Issue #16 walk: the empty queue showed "Submitted. Here is your next item." above "Nothing to label".
    const { s } = session({
      "POST queue/next/": [next(assignment(1)), ok({ assignment: null, reason: "queue_empty", resumed: false })],
      "POST assignments/1/submit/": ok({ id: 100 }),
      "PUT assignments/1/draft/": ok({}),
    });
    await s.loadNext();
    s.setAnswer("sentiment", "positive");

    expect(await s.submit()).toEqual({ status: "sent" });

    await vi.waitFor(() => expect(s.state.phase).toEqual({ kind: "empty", reason: "queue_empty" }));
    await vi.waitFor(() => expect(s.state.notice).toEqual({ tone: "ok", text: "Submitted. That was the last item for now." }));
  });

  it("queues the submission while offline and waits for the connection", async () => {
    const { s, storage } = session({
      "POST queue/next/": next(assignment(1)),
      "POST assignments/1/submit/": () => "offline",
      "PUT assignments/1/draft/": () => "offline",
    });
    await s.loadNext();
    s.setAnswer("sentiment", "positive");

    expect(await s.submit()).toEqual({ status: "queued" });

    expect(s.state.phase).toEqual({ kind: "waiting", detail: WAITING_OFFLINE });
    expect(s.state.pending).toHaveLength(1);
    expect(JSON.parse(storage.getItem(outboxKey(3))!)).toHaveLength(1);
    expect(s.heartbeatRunning).toBe(false);
  });

  it("sends what an earlier visit queued before claiming a new item", async () => {
    const storage = memory();
    const queued = { assignmentId: 7, itemId: 70, key: "k", body: { result: { sentiment: "positive" } }, attempts: 1, nextAt: 0, queuedAt: 0 };
    storage.setItem(outboxKey(3), JSON.stringify([queued]));
    const { s, calls } = session({ "POST assignments/7/submit/": ok({ id: 1 }), "POST queue/next/": next(assignment(1)) }, storage);

    await s.resume();

    expect(calls.map((c) => c.path).slice(0, 2)).toEqual(["assignments/7/submit/", "queue/next/"]);
    expect(s.state.phase.kind).toBe("working");
    expect(s.state.pending).toHaveLength(0);
  });

  it("shows the server's problems next to each control when it refuses the annotation", async () => {
    const { s } = session({
      "POST queue/next/": next(assignment(1)),
      "PUT assignments/1/draft/": ok({}),
      "POST assignments/1/submit/": fail(400, {
        code: "invalid_annotation",
        detail: "Invalid",
        errors: [{ path: "sentiment", code: "invalid_choice", message: "Not a label" }, { path: "note[0]", code: "x", message: "Too long" }],
      }),
    });
    await s.loadNext();
    s.setAnswer("sentiment", "positive");

    expect(await s.submit()).toEqual({ status: "refused" });

    expect(s.state.problems).toEqual({ sentiment: ["Not a label"], note: ["Too long"] });
    expect(s.state.notice?.text).toBe("The server found problems in this annotation; they are shown next to each control.");
    expect(s.state.phase.kind).toBe("working");
  });

  it("learns at once from the feed that the lease is gone, and keeps the work", async () => {
    const { s } = session({
      "POST queue/next/": next(assignment(1)),
      "POST assignments/1/heartbeat/": fail(409, { code: "lease_lost", detail: "Your hold expired." }),
    });
    await s.loadNext();
    const expired: FeedEvent = { type: "unrecognized", name: "lease.expired", data: { items: [10] } } as FeedEvent;

    s.feedEvent(expired);

    await vi.waitFor(() => expect(s.state.phase).toEqual({ kind: "lost", detail: "Your hold expired. Your work is kept in this browser." }));
    expect(s.heartbeatRunning).toBe(false);
  });

  it("reacts to guideline and schema changes, removal, and a closed feed", async () => {
    const { s } = session({ "POST queue/next/": next(assignment(1)) });
    await s.loadNext();
    s.feedEvent({ type: "guideline.version_created", data: { version: 3 } } as FeedEvent);
    expect(s.state.notice?.tone).toBe("warn");
    s.feedEvent({ type: "member.removed", data: { username: "ann" } } as FeedEvent);
    expect(s.state.phase).toEqual({ kind: "lost", detail: "You were removed from this project. Your work is kept in this browser." });
    s.feedClosed(); // the removal stays the message
    expect(s.state.phase).toEqual({ kind: "lost", detail: "You were removed from this project. Your work is kept in this browser." });
  });

  it("skips with a reason and claims a fresh item", async () => {
    const { s, calls } = session({
      "POST queue/next/": [next(assignment(1)), next(assignment(2))],
      "POST assignments/1/skip/": ok(assignment(1, { status: "skipped" })),
    });
    await s.loadNext();
    s.setSkipOpen(true);
    expect(s.state.skipOpen).toBe(true);

    await s.skip("Broken");

    expect(JSON.parse(String(calls.find((c) => c.path === "assignments/1/skip/")!.init.body))).toEqual({ reason: "Broken" });
    expect(s.state.skipOpen).toBe(false);
    await vi.waitFor(() => expect(s.state.assignment?.id).toBe(2));
  });

  it("keeps overlays and labels as plain state", async () => {
    const { s } = session({ "POST queue/next/": fail(409, { code: "annotator_paused", detail: "Paused by a manager." }) });
    await s.loadNext();
    expect(s.state.phase).toEqual({ kind: "paused", detail: "Paused by a manager." });
    s.setSkipOpen(true); // only while working
    expect(s.state.skipOpen).toBe(false);
    s.setHelp((h) => !h);
    expect(s.state.help).toBe(true);
    s.toggleActiveLabel("box", "car");
    s.toggleActiveLabel("box", "car");
    expect(s.state.activeLabel).toEqual({ box: undefined });
  });
});

describe("leaseAtRisk", () => {
  it("reads lease.expired and item.leased", () => {
    const current = { id: 1, item: { id: 10 } };
    expect(leaseAtRisk({ type: "unrecognized", name: "item.leased", data: { item_id: 10, assignment_id: 2 } } as FeedEvent, current)).toBe(true);
    expect(leaseAtRisk({ type: "unrecognized", name: "item.leased", data: { item_id: 10, assignment_id: 1 } } as FeedEvent, current)).toBe(false);
    expect(leaseAtRisk({ type: "unrecognized", name: "lease.expired", data: { items: [10] } } as FeedEvent, null)).toBe(false);
  });
});
