/** The review session controller, driven without rendering anything. */
import { describe, expect, it, vi } from "vitest";

import type { PageConfig } from "../shell/config";
import { SessionClient } from "./api";
import { ReviewSession } from "./review-session";

const definition = {
  version: 1,
  fields: [{ name: "text", type: "text" }],
  controls: [{ name: "sentiment", type: "single_choice", field: "text", labels: [{ value: "positive" }, { value: "negative" }] }],
};

const config: PageConfig = {
  projectId: 3,
  projectName: "Reviews",
  user: "rita",
  schema: { version: 1, definition },
  leaseSeconds: 600,
  rejectReasons: ["wrong_label", "other"],
  guidelines: null,
  links: { guidelines: "/g", project: "/p" },
  feedPath: "",
};

const annotation = (id: number, annotator: string, sentiment: string, review = "pending") => ({
  id,
  item: 10,
  annotator,
  result: { sentiment },
  revision: 1,
  review,
  schema_version: 1,
  created_at: "2026-01-01T00:00:00Z",
});

const task = (annotations: unknown[]) => ({ item: { id: 10, data: { text: "t" } }, item_state: "in_review", annotations, reason: "" });

function server(answers: Record<string, { status: number; body: unknown }[]>) {
  const calls: { path: string; body: unknown }[] = [];
  const fetchImpl = vi.fn(async (url: string, init: RequestInit) => {
    const path = url.replace("/api/projects/3/", "");
    calls.push({ path, body: init.body ? JSON.parse(String(init.body)) : undefined });
    const list = answers[path] ?? [];
    const answer = list.length > 1 ? list.shift()! : (list[0] ?? { status: 404, body: { code: "not_found", detail: path } });
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  });
  return { session: new ReviewSession({ config, client: new SessionClient(3, fetchImpl) }), calls };
}

describe("ReviewSession", () => {
  it("shows the first pending annotation of the next item", async () => {
    const { session } = server({ "review/next/": [{ status: 200, body: task([annotation(1, "ann", "positive", "accepted"), annotation(2, "bob", "negative")]) }] });
    await session.loadNext();
    expect(session.state.phase).toBe("working");
    expect(session.annotation?.annotator).toBe("bob");
    expect(session.state.reason).toBe("wrong_label");
  });

  it("says when nothing waits for review, and shows a failure", async () => {
    const { session } = server({
      "review/next/": [
        { status: 200, body: { item: null, item_state: null, annotations: [], reason: "queue_empty" } },
        { status: 403, body: { code: "permission_denied", detail: "Reviewers only." } },
      ],
    });
    await session.loadNext();
    expect(session.state.phase).toBe("empty");
    await session.loadNext();
    expect([session.state.phase, session.state.error]).toEqual(["error", "Reviewers only."]);
  });

  it("needs a comment to reject, then sends reason and comment and moves to the next pending one", async () => {
    const { session, calls } = server({
      "review/next/": [{ status: 200, body: task([annotation(1, "ann", "positive"), annotation(2, "bob", "negative")]) }],
      "annotations/1/review/": [{ status: 200, body: {} }],
    });
    await session.loadNext();
    session.startReject();
    expect(session.state.mode).toBe("reject");
    expect(await session.decide("reject")).toBe("need_comment");
    expect(session.state.notice?.tone).toBe("error");

    session.setComment("  Wrong label  ");
    expect(await session.decide("reject")).toBe("done");

    expect(calls.at(-1)).toEqual({ path: "annotations/1/review/", body: { decision: "reject", revision: 1, reason: "wrong_label", comment: "Wrong label" } });
    expect(session.annotations[0]!.review).toBe("rejected");
    expect([session.state.mode, session.state.comment, session.state.selected, session.state.busy]).toEqual(["view", "", 1, false]);
    expect(session.state.notice).toEqual({ tone: "ok", text: "ann's annotation rejected." });
  });

  it("fixes: edits only while fixing, submits the edited result, then loads the next item", async () => {
    const { session, calls } = server({
      "review/next/": [{ status: 200, body: task([annotation(1, "ann", "positive")]) }, { status: 200, body: task([]) }],
      "annotations/1/review/": [{ status: 200, body: {} }],
    });
    await session.loadNext();
    session.setAnswer("sentiment", "negative"); // viewing: ignored
    expect(session.store.result).toEqual({});
    session.startFix();
    session.setAnswer("sentiment", "negative");

    expect(await session.decide("fix")).toBe("done");

    expect(calls.find((c) => c.path === "annotations/1/review/")!.body).toEqual({ decision: "fix", revision: 1, result: { sentiment: "negative" } });
    await vi.waitFor(() => expect(calls.filter((c) => c.path === "review/next/")).toHaveLength(2));
  });

  it("ignores decisions on an annotation already decided", async () => {
    const { session, calls } = server({ "review/next/": [{ status: 200, body: task([annotation(1, "ann", "positive", "accepted")]) }] });
    await session.loadNext();
    expect(await session.decide("accept")).toBe("ignored");
    session.startReject();
    session.startFix();
    expect(session.state.mode).toBe("view");
    expect(calls).toHaveLength(1);
  });
});
