import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { parseFeedEvent, type FeedEvent, type FeedStatus } from "./project-feed";
import { LiveActivity, describeEvent } from "./live-activity";

/** A minimal feed the test drives by hand. Events go through the real parser, as on the wire. */
function fakeFeed() {
  const eventHandlers = new Set<(event: FeedEvent) => void>();
  const statusHandlers = new Set<(status: FeedStatus) => void>();
  const feed = {
    status: "closed" as FeedStatus,
    willReconnect: true,
    subscribe(handler: (event: FeedEvent) => void) {
      eventHandlers.add(handler);
      return () => eventHandlers.delete(handler);
    },
    onStatus(handler: (status: FeedStatus) => void) {
      statusHandlers.add(handler);
      return () => statusHandlers.delete(handler);
    },
  };
  return {
    feed,
    send(type: string, data: Record<string, unknown>) {
      const event = parseFeedEvent(JSON.stringify({ type, data }));
      if (event === null) throw new Error("test sent a malformed event");
      act(() => eventHandlers.forEach((handler) => {
        handler(event);
      }));
    },
    setStatus(status: FeedStatus, willReconnect = true) {
      feed.status = status;
      feed.willReconnect = willReconnect;
      act(() => statusHandlers.forEach((handler) => {
        handler(status);
      }));
    },
  };
}

let container: HTMLElement;

function mount(feed: ReturnType<typeof fakeFeed>["feed"]) {
  act(() => {
    render(<LiveActivity feed={feed} now={() => new Date(2025, 2, 14, 9, 5)} />, container);
  });
}

const byId = (id: string) => container.querySelector(`#${id}`);
const listedTexts = () => [...container.querySelectorAll("#live-events > li .live-activity__text")].map((li) => li.textContent);

beforeEach(() => {
  container = document.createElement("div");
  document.body.append(container);
});

afterEach(() => {
  render(null, container);
  document.body.replaceChildren();
});

describe("LiveActivity", () => {
  it("shows the empty state in a labelled polite live region", () => {
    mount(fakeFeed().feed);

    const list = byId("live-events");
    expect(list?.tagName).toBe("OL");
    expect(list?.getAttribute("aria-live")).toBe("polite");
    expect(list?.getAttribute("aria-label")).toBe("Live activity");
    expect(list?.children).toHaveLength(0);
    expect(container.querySelector(".live-activity__empty")?.textContent).toBe(
      "No activity yet. Changes made by anyone in this project appear here live.",
    );
  });

  it("lists events newest first with their time, and hides the empty state", () => {
    const { feed, send } = fakeFeed();
    mount(feed);

    send("feed.ready", { project_id: 1 });
    send("project.updated", { project_id: 1, actor: "alice", fields: ["name", "overlap"] });
    send("member.added", { project_id: 1, actor: "alice", username: "bob", role: "annotator" });

    expect(listedTexts()).toEqual(["alice added bob as annotator", "alice changed name, overlap"]);
    const time = container.querySelector("#live-events > li time");
    expect(time?.textContent).toBe("09:05");
    expect(time?.getAttribute("datetime")).toBe(new Date(2025, 2, 14, 9, 5).toISOString());
    expect(container.querySelector(".live-activity__empty")).toBeNull();
  });

  it("keeps only the 20 newest events", () => {
    const { feed, send } = fakeFeed();
    mount(feed);

    for (let i = 1; i <= 25; i++) {
      send("member.removed", { project_id: 1, actor: "alice", username: `user${i}` });
    }

    const expected = Array.from({ length: 20 }, (_, k) => `alice removed user${25 - k}`);
    expect(listedTexts()).toEqual(expected);
  });

  it("renders markup in event data as literal text", () => {
    const { feed, send } = fakeFeed();
    mount(feed);

    send("member.added", { project_id: 1, actor: "alice", username: "<img src=x onerror=alert(1)>", role: "annotator" });

    expect(listedTexts()).toEqual(["alice added <img src=x onerror=alert(1)> as annotator"]);
    expect(container.querySelector("img")).toBeNull();
    expect(document.querySelector("img")).toBeNull();
  });

  it("writes project.stats_updated into [data-stat] elements instead of listing it", () => {
    const stats = document.createElement("dl");
    stats.innerHTML = `
      <dd data-stat="members">3</dd>
      <dd data-stat="annotators">1</dd>
      <dd data-stat="guideline_versions">0</dd>
      <dd data-stat="unknown_key">unchanged</dd>`;
    document.body.append(stats);
    const { feed, send } = fakeFeed();
    mount(feed);

    send("project.stats_updated", {
      project_id: 1,
      stats: { members: 5, managers: 1, reviewers: 1, annotators: 2, schema_versions: 4, guideline_versions: 1 },
    });

    const statText = (key: string) => stats.querySelector(`[data-stat="${key}"]`)?.textContent;
    expect(statText("members")).toBe("5");
    expect(statText("annotators")).toBe("2");
    expect(statText("guideline_versions")).toBe("1");
    expect(statText("unknown_key")).toBe("unchanged");
    expect(listedTexts()).toEqual([]);
    expect(container.querySelector(".live-activity__empty")).not.toBeNull();
  });

  it("shows the connection state in the status pill", () => {
    const { feed, setStatus } = fakeFeed();
    mount(feed);
    const pill = () => {
      const element = byId("live-status");
      return { text: element?.textContent, className: element?.className };
    };

    expect(pill()).toEqual({ text: "Connecting…", className: "live-pill live-pill--closed" });
    setStatus("connecting");
    expect(pill()).toEqual({ text: "Connecting…", className: "live-pill live-pill--closed" });
    setStatus("open");
    expect(pill()).toEqual({ text: "Live", className: "live-pill live-pill--open" });
    setStatus("closed");
    expect(pill()).toEqual({ text: "Reconnecting…", className: "live-pill live-pill--closed" });
    setStatus("connecting");
    expect(pill()).toEqual({ text: "Reconnecting…", className: "live-pill live-pill--closed" });
    setStatus("closed", false);
    expect(pill()).toEqual({ text: "Offline", className: "live-pill live-pill--closed" });
  });
});

describe("describeEvent", () => {
  const cases: [type: string, data: Record<string, unknown>, text: string | null][] = [
    ["project.updated", { project_id: 1, actor: "alice", fields: ["name", "overlap"] }, "alice changed name, overlap"],
    ["project.updated", { project_id: 1, actor: "alice", fields: [] }, "alice updated the project"],
    ["project.archived", { project_id: 1, actor: "alice" }, "alice archived the project"],
    ["project.unarchived", { project_id: 1, actor: "alice" }, "alice unarchived the project"],
    ["member.added", { project_id: 1, actor: "alice", username: "bob", role: "reviewer" }, "alice added bob as reviewer"],
    ["member.removed", { project_id: 1, actor: "alice", username: "bob" }, "alice removed bob"],
    [
      "member.role_changed",
      { project_id: 1, actor: "alice", username: "bob", role: "manager" },
      "alice changed bob's role to manager",
    ],
    ["schema.version_created", { project_id: 1, actor: "alice", version: 3 }, "alice created schema version 3"],
    ["guideline.version_created", { project_id: 1, actor: "carol", version: 2 }, "carol created guideline version 2"],
    ["task.created", { project_id: 1 }, "task.created"],
    ["feed.ready", { project_id: 1 }, null],
  ];

  it.each(cases)("%s %j -> %s", (type, data, text) => {
    const event = parseFeedEvent(JSON.stringify({ type, data }));
    expect(event).not.toBeNull();
    expect(describeEvent(event!)).toBe(text);
  });
});

describe("data events", () => {
  it("lists finished imports and splits but not progress ticks", () => {
    expect(describeEvent({ type: "unrecognized", name: "import.progress", data: { job_id: 1 } })).toBeNull();
    expect(
      describeEvent({
        type: "unrecognized",
        name: "import.finished",
        data: { status: "succeeded", created: 1200, duplicates: 3 },
      }),
    ).toBe("Import finished: 1,200 items added, 3 duplicates skipped");
    expect(describeEvent({ type: "unrecognized", name: "import.finished", data: { status: "failed" } })).toBe(
      "An import failed; nothing was imported",
    );
    expect(describeEvent({ type: "unrecognized", name: "split.assigned", data: { actor: "maria" } })).toBe(
      "maria assigned splits",
    );
  });
});

describe("labeling events", () => {
  const event = (name: string, data: Record<string, unknown>) => describeEvent({ type: "unrecognized", name, data });

  it("lists submissions, reviews and skips but not leases or state ticks", () => {
    expect(event("item.leased", { item_id: 4 })).toBeNull();
    expect(event("lease.expired", { items: [4] })).toBeNull();
    expect(event("item.state_changed", { item_id: 4, state: "completed" })).toBeNull();
    expect(event("annotation.submitted", { item_id: 1204, annotation_id: 9 })).toBe(
      "Annotation submitted on item #1,204",
    );
    expect(event("review.decided", { item_id: 7, decision: "reject" })).toBe(
      "A reviewer rejected an annotation on item #7",
    );
    expect(event("item.skipped", { item_id: 3 })).toBe("Item #3 skipped");
    expect(event("items.sent_to_review", { items: 12, why: "label migration" })).toBe(
      "12 items sent back to review (label migration)",
    );
    expect(event("member.paused", { actor: "maria", username: "rui" })).toBe("maria paused rui");
  });
});
