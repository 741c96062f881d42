import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ProjectFeed, feedUrl, parseFeedEvent, type FeedEvent, type FeedSocket, type FeedStatus } from "./project-feed";

const FEED_URL = "ws://tessera.test/ws/projects/7/";

/** A controllable stand-in for WebSocket; every constructed socket lands in `sockets`. */
function fakeWebSocket() {
  const sockets: FakeSocket[] = [];
  class FakeSocket implements FeedSocket {
    onopen: ((event: Event) => void) | null = null;
    onmessage: ((event: MessageEvent) => void) | null = null;
    onclose: ((event: CloseEvent) => void) | null = null;
    closedWithCode: number | undefined;

    constructor(readonly url: string) {
      sockets.push(this);
    }
    close(code?: number): void {
      this.closedWithCode = code;
    }
    serverOpens(): void {
      this.onopen?.(new Event("open"));
    }
    serverSends(data: unknown): void {
      this.onmessage?.(new MessageEvent("message", { data }));
    }
    serverCloses(code: number): void {
      this.onclose?.(new CloseEvent("close", { code }));
    }
  }
  return { WebSocket: FakeSocket, sockets };
}

/** A feed with deterministic delays: jitter 0 gives exactly 500, 1000, 2000, ... ms. */
function setup(random = () => 0) {
  const fake = fakeWebSocket();
  const feed = new ProjectFeed({ url: FEED_URL, WebSocket: fake.WebSocket, random });
  const events: FeedEvent[] = [];
  const statuses: FeedStatus[] = [];
  feed.subscribe((event) => events.push(event));
  feed.onStatus((status) => statuses.push(status));
  const latest = () => {
    const socket = fake.sockets.at(-1);
    if (socket === undefined) throw new Error("no socket was created");
    return socket;
  };
  return { feed, sockets: fake.sockets, latest, events, statuses };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("feedUrl", () => {
  it("uses ws: on http pages and wss: on https pages", () => {
    expect(feedUrl("/ws/projects/1/", { protocol: "http:", host: "localhost:8000" })).toBe(
      "ws://localhost:8000/ws/projects/1/",
    );
    expect(feedUrl("/ws/projects/1/", { protocol: "https:", host: "tessera.example" })).toBe(
      "wss://tessera.example/ws/projects/1/",
    );
  });
});

describe("ProjectFeed", () => {
  it("connects to the given URL on start()", () => {
    const { feed, sockets } = setup();
    expect(sockets).toHaveLength(0);

    feed.start();

    expect(sockets.map((s) => s.url)).toEqual([FEED_URL]);
  });

  it("delivers parsed events to subscribers", () => {
    const { feed, latest, events } = setup();
    feed.start();
    latest().serverOpens();

    latest().serverSends('{"type": "feed.ready", "data": {"project_id": 7}}');
    latest().serverSends(
      JSON.stringify({
        type: "member.added",
        data: { project_id: 7, actor: "alice", username: "bob", role: "annotator" },
      }),
    );

    expect(events).toEqual([
      { type: "feed.ready", data: { project_id: 7 } },
      { type: "member.added", data: { project_id: 7, actor: "alice", username: "bob", role: "annotator" } },
    ]);
  });

  it("ignores malformed messages and keeps delivering later ones", () => {
    const { feed, latest, events } = setup();
    feed.start();
    latest().serverOpens();

    for (const bad of ["not json", "[1, 2]", "null", '{"type": 5, "data": {}}', '{"type": "project.archived"}']) {
      expect(() => latest().serverSends(bad)).not.toThrow();
    }
    latest().serverSends(new ArrayBuffer(4));
    latest().serverSends('{"type": "project.archived", "data": {"project_id": 7, "actor": "alice"}}');

    expect(events).toEqual([{ type: "project.archived", data: { project_id: 7, actor: "alice" } }]);
  });

  it("reconnects after an unexpected close with a doubling, capped delay", () => {
    const { feed, sockets, latest } = setup();
    feed.start();

    // Every attempt fails before opening: 500, 1000, 2000, 4000, 8000, then capped at 15000.
    const expectedDelays = [500, 1000, 2000, 4000, 8000, 15_000, 15_000];
    for (const [attempt, delay] of expectedDelays.entries()) {
      latest().serverCloses(1006);
      vi.advanceTimersByTime(delay - 1);
      expect(sockets).toHaveLength(attempt + 1);
      vi.advanceTimersByTime(1);
      expect(sockets).toHaveLength(attempt + 2);
    }
  });

  it("resets the backoff after a successful open", () => {
    const { feed, sockets, latest } = setup();
    feed.start();
    latest().serverCloses(1006);
    vi.advanceTimersByTime(500);
    latest().serverCloses(1006);
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(3);

    latest().serverOpens();
    latest().serverCloses(1011);
    vi.advanceTimersByTime(499);
    expect(sockets).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(4);
  });

  it("applies jitter that shortens the delay by up to half", () => {
    const { feed, sockets, latest } = setup(() => 0.5);
    feed.start();
    latest().serverCloses(1006);

    vi.advanceTimersByTime(374);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1); // 500 * (1 - 0.5 * 0.5) = 375
    expect(sockets).toHaveLength(2);
  });

  it("does not reconnect after close()", () => {
    const { feed, sockets, latest, statuses } = setup();
    feed.start();
    const socket = latest();
    socket.serverOpens();

    feed.close();
    vi.advanceTimersByTime(60_000);

    expect(socket.closedWithCode).toBe(1000);
    expect(sockets).toHaveLength(1);
    expect(feed.status).toBe("closed");
    expect(feed.willReconnect).toBe(false);
    expect(statuses).toEqual(["connecting", "open", "closed"]);
  });

  it("cancels a pending reconnect on close()", () => {
    const { feed, sockets, latest } = setup();
    feed.start();
    latest().serverCloses(1006);

    feed.close();
    vi.advanceTimersByTime(60_000);

    expect(sockets).toHaveLength(1);
  });

  it.each([4403, 4404])("does not reconnect after the server closes with %i", (code) => {
    const { feed, sockets, latest, statuses } = setup();
    feed.start();
    latest().serverOpens();

    latest().serverCloses(code);
    vi.advanceTimersByTime(60_000);

    expect(sockets).toHaveLength(1);
    expect(feed.willReconnect).toBe(false);
    expect(statuses).toEqual(["connecting", "open", "closed"]);
  });

  it.each([4400, 4429])("waits the longest delay before reconnecting after %i", (code) => {
    const { feed, sockets, latest } = setup();
    feed.start();
    latest().serverOpens();

    latest().serverCloses(code);
    vi.advanceTimersByTime(14_999);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);
    expect(feed.willReconnect).toBe(true);
  });

  it("reconnects after 4401 (signed out): a still-valid session is accepted again", () => {
    const { feed, sockets, latest } = setup();
    feed.start();
    latest().serverOpens();

    latest().serverCloses(4401);
    vi.advanceTimersByTime(500);

    expect(sockets).toHaveLength(2);
  });

  it("reports a gap when a socket opens after an earlier one was open, not on the first open", () => {
    const { feed, latest } = setup();
    let gaps = 0;
    feed.onGap(() => (gaps += 1));
    feed.start();
    latest().serverOpens();
    expect(gaps).toBe(0);

    latest().serverCloses(1006);
    vi.advanceTimersByTime(500);
    latest().serverCloses(1006); // a failed attempt is no gap of its own
    vi.advanceTimersByTime(1000);
    latest().serverOpens();
    expect(gaps).toBe(1);

    feed.close();
    feed.start(); // e.g. back from the back-forward cache
    latest().serverOpens();
    expect(gaps).toBe(2);
  });

  it("can be started again after close()", () => {
    const { feed, sockets } = setup();
    feed.start();
    feed.close();

    feed.start();

    expect(sockets).toHaveLength(2);
    expect(feed.status).toBe("connecting");
  });

  it("stops delivering to an unsubscribed handler", () => {
    const { feed, latest } = setup();
    const kept: string[] = [];
    const dropped: string[] = [];
    feed.subscribe((event) => kept.push(event.type));
    const unsubscribe = feed.subscribe((event) => dropped.push(event.type));
    feed.start();
    latest().serverOpens();

    latest().serverSends('{"type": "feed.ready", "data": {"project_id": 7}}');
    unsubscribe();
    latest().serverSends('{"type": "project.archived", "data": {"project_id": 7, "actor": "alice"}}');

    expect(kept).toEqual(["feed.ready", "project.archived"]);
    expect(dropped).toEqual(["feed.ready"]);
  });

  it("reports status transitions through a reconnect", () => {
    const { feed, latest, statuses } = setup();
    const removedHandlerSaw: FeedStatus[] = [];
    feed.onStatus((status) => removedHandlerSaw.push(status))();

    feed.start();
    latest().serverOpens();
    latest().serverCloses(1006);
    vi.advanceTimersByTime(500);
    latest().serverOpens();

    expect(statuses).toEqual(["connecting", "open", "closed", "connecting", "open"]);
    expect(feed.status).toBe("open");
    expect(removedHandlerSaw).toEqual([]);
  });

  it("keeps delivering to other subscribers when one throws", () => {
    const { feed, latest, events } = setup();
    const consoleError = vi.spyOn(console, "error").mockImplementation(() => {});
    feed.subscribe(() => {
      throw new Error("boom");
    });
    feed.start();
    latest().serverOpens();

    latest().serverSends('{"type": "feed.ready", "data": {"project_id": 7}}');

    expect(events).toEqual([{ type: "feed.ready", data: { project_id: 7 } }]);
    expect(consoleError).toHaveBeenCalledTimes(1);
  });
});

describe("parseFeedEvent", () => {
  it("keeps unknown types as unrecognized events", () => {
    expect(parseFeedEvent('{"type": "task.created", "data": {"task_id": 3}}')).toEqual({
      type: "unrecognized",
      name: "task.created",
      data: { task_id: 3 },
    });
  });

  it("treats a known type with data that breaks the contract as unrecognized", () => {
    expect(parseFeedEvent('{"type": "project.updated", "data": {"project_id": 7, "actor": "alice", "fields": "name"}}')).toEqual({
      type: "unrecognized",
      name: "project.updated",
      data: { project_id: 7, actor: "alice", fields: "name" },
    });
  });

  it("validates every stats counter", () => {
    const stats = { members: 3, managers: 1, reviewers: 1, annotators: 1, schema_versions: 2, guideline_versions: 1 };
    expect(parseFeedEvent(JSON.stringify({ type: "project.stats_updated", data: { project_id: 7, stats } }))).toEqual({
      type: "project.stats_updated",
      data: { project_id: 7, stats },
    });
    expect(
      parseFeedEvent(
        JSON.stringify({ type: "project.stats_updated", data: { project_id: 7, stats: { ...stats, members: "3" } } }),
      ),
    ).toMatchObject({ type: "unrecognized", name: "project.stats_updated" });
  });
});
