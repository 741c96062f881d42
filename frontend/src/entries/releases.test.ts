import { describe, expect, it, vi } from "vitest";

import type { FeedEvent } from "../realtime/project-feed";
import { attach, pollReproduction, readReleaseConfig, releaseAction, showProgress } from "./releases";

function page(status = "building"): HTMLElement {
  const section = document.createElement("section");
  section.dataset.feedPath = "/ws/projects/3/";
  section.dataset.releaseId = "7";
  section.dataset.status = status;
  section.innerHTML = '<progress max="1" value="0"></progress><span data-release-progress-text>0 of ? records written</span>';
  return section;
}

const event = (name: string, data: Record<string, unknown>): FeedEvent => ({ type: "unrecognized", name, data });

describe("readReleaseConfig", () => {
  it("reads the feed path and release id of a building release", () => {
    expect(readReleaseConfig(page())).toEqual({ feedPath: "/ws/projects/3/", releaseId: 7 });
  });

  it("does nothing for a published release or a foreign feed URL", () => {
    expect(readReleaseConfig(page("published"))).toBeNull();
    const foreign = page();
    foreign.dataset.feedPath = "//evil.example/ws/";
    expect(readReleaseConfig(foreign)).toBeNull();
  });
});

describe("releaseAction", () => {
  it("turns progress of this release into a progress update", () => {
    expect(releaseAction(event("release.progress", { release_id: 7, records_done: 4, records_total: 10 }), 7)).toEqual({
      kind: "progress",
      done: 4,
      total: 10,
    });
  });

  it("reloads when this release is published or failed", () => {
    expect(releaseAction(event("release.published", { release_id: 7 }), 7)).toEqual({ kind: "reload" });
    expect(releaseAction(event("release.failed", { release_id: 7 }), 7)).toEqual({ kind: "reload" });
  });

  it("ignores other releases, other events and malformed progress", () => {
    expect(releaseAction(event("release.published", { release_id: 8 }), 7)).toBeNull();
    expect(releaseAction(event("release.progress", { release_id: 7, records_done: "4", records_total: 10 }), 7)).toBeNull();
    expect(releaseAction({ type: "feed.ready", data: { project_id: 3 } }, 7)).toBeNull();
  });
});

describe("attach", () => {
  it("moves the bar on progress and reloads on publication", () => {
    const container = page();
    let handler: ((event: FeedEvent) => void) | null = null;
    const feed = {
      subscribe: (h: (event: FeedEvent) => void) => {
        handler = h;
        return () => undefined;
      },
    };
    const reload = vi.fn();
    attach(container, feed, reload);
    handler!({ type: "feed.ready", data: { project_id: 3 } });
    expect(container.dataset.feed).toBe("ready");
    handler!(event("release.progress", { release_id: 7, records_done: 3, records_total: 12 }));
    const bar = container.querySelector("progress")!;
    expect([bar.value, bar.max]).toEqual([3, 12]);
    expect(container.textContent).toContain("3 of 12 records written");
    expect(reload).not.toHaveBeenCalled();
    handler!(event("release.published", { release_id: 7 }));
    expect(reload).toHaveBeenCalledOnce();
  });

  it("writes text, never markup", () => {
    const container = page();
    showProgress(container, 1, 2);
    expect(container.querySelector("[data-release-progress-text]")!.innerHTML).toBe("1 of 2 records written");
  });
});

describe("pollReproduction", () => {
  function section(status: string): HTMLElement {
    const element = document.createElement("section");
    element.dataset.reproduceApi = "/api/projects/3/releases/1/reproduce/";
    element.dataset.reproduceStatus = status;
    element.innerHTML = '<progress max="1" value="0"></progress><span data-reproduce-progress-text></span>';
    return element;
  }

  it("moves the bar while the rebuild runs and reloads when it is done", async () => {
    const element = section("queued");
    const states = [
      { status: "running", progress: { records_done: 2, records_total: 8 } },
      { status: "done", progress: { records_done: 0, records_total: 0 } },
    ];
    const seen: string[] = [];
    const reload = vi.fn();
    await pollReproduction(
      element,
      async () => {
        const state = states.shift()!;
        if (state.status === "running") seen.push("running");
        return state;
      },
      reload,
      async () => {
        if (seen.length === 1) expect(element.textContent).toBe("running: 2 of 8 records written");
      },
    );
    expect(reload).toHaveBeenCalledOnce();
  });

  it("does nothing once the result is shown or for a foreign URL", () => {
    expect(pollReproduction(section("done"), vi.fn(), vi.fn())).toBeNull();
    const foreign = section("queued");
    foreign.dataset.reproduceApi = "//evil.example/api/";
    expect(pollReproduction(foreign, vi.fn(), vi.fn())).toBeNull();
  });
});
