import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ApiError } from "../api/http";
import { parseFeedEvent, type FeedEvent, type FeedStatus } from "../realtime/project-feed";
import type { QualityApi } from "./api";
import { QualityDashboard, isQualityUpdate } from "./dashboard";
import { HOSTILE, historyFixture, reportFixture } from "./fixture.test-data";
import type { QualityReport } from "./types";

/** A feed the test drives by hand; events go through the real parser, as on the wire. */
function fakeFeed(initial: FeedStatus = "open") {
  const eventHandlers = new Set<(event: FeedEvent) => void>();
  const statusHandlers = new Set<(status: FeedStatus) => void>();
  const feed = {
    status: initial,
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
    subscribers: () => eventHandlers.size,
    async send(type: string, data: Record<string, unknown>) {
      const event = parseFeedEvent(JSON.stringify({ type, data }));
      if (event === null) throw new Error("test sent a malformed event");
      await act(async () => eventHandlers.forEach((handler) => {
        handler(event);
      }));
    },
  };
}

function fakeApi(report: QualityReport | null = reportFixture()): QualityApi & { [K in keyof QualityApi]: ReturnType<typeof vi.fn> } {
  return {
    report: vi.fn(async () => report),
    history: vi.fn(async () => historyFixture()),
    recompute: vi.fn(async () => undefined),
    status: vi.fn(async () => ({ pending: true, last_run: null })),
    members: vi.fn(async () => [
      { id: 40, username: "bruno", role: "annotator", paused_at: "2025-03-14T09:00:00Z" },
      { id: 41, username: "ana", role: "annotator", paused_at: null },
    ]),
    resume: vi.fn(async () => undefined),
  } as never;
}

let container: HTMLElement;
const NOW = () => new Date("2025-03-14T09:05:00.000Z");

async function mount(api: QualityApi, feed = fakeFeed().feed, canManage = true) {
  await act(async () => {
    render(<QualityDashboard api={api} feed={feed} apiBase="/api/projects/3/" canManage={canManage} now={NOW} debounceMs={200} />, container);
  });
  await flush();
}

/** Lets pending promises (fake API calls) settle inside act(). */
async function flush() {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(0);
  });
}

const $ = (selector: string) => container.querySelector<HTMLElement>(selector);
const $$ = (selector: string) => [...container.querySelectorAll<HTMLElement>(selector)];
const annotatorNames = () => $$("#annotators-table tbody tr td.q-name").map((td) => td.textContent);
const button = (name: string) => $$("button").find((b) => b.textContent?.trim().startsWith(name));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
  container = document.createElement("div");
  document.body.append(container);
});

afterEach(() => {
  render(null, container);
  document.body.replaceChildren();
  vi.useRealTimers();
});

describe("QualityDashboard with a report", () => {
  it("shows the run stamp, the agreement tiles and every section", async () => {
    await mount(fakeApi());

    expect($("#quality-stamp")?.textContent).toBe("Computed 12 s ago from 50,120 annotations, incremental in 0.84 s");
    expect($("#quality-live")?.textContent).toBe("Live");
    expect($$(".q-kpi__value").map((v) => v.textContent)).toEqual(["0.71", "82.5%", "0.78", "0.70", "20,000", "50,120"]);
    expect($$("section.card h2").map((h) => h.textContent)).toEqual([
      "Agreement over time",
      "Annotators",
      "Agreement between annotators · Sentiment",
      "Confusion with consensus · Sentiment",
      "Labels · Sentiment",
      "Slices · Sentiment",
      "Gold items that may be wrong",
      "Model evaluation",
    ]);
    expect($(".q-run-actions")?.textContent).toBe("This run sent 14 items to an extra annotator and paused 1 annotator for low quality.");
    expect($("#quality-annotators .q-intro")?.textContent).toBe(
      "4 annotators · 1 paused · 40 gold items. Sorted by gold accuracy, lowest first; click a column to sort.",
    );
  });

  it("words a settings warning as the settings page does: escalation with nobody spare still finishes", async () => {
    const report = reportFixture();
    report.settings_warnings = [
      {
        code: "no_spare_annotator",
        setting: "quality.escalate_below",
        message: "Escalation is on, but all 2 active annotator(s) already label every item: items with low agreement go to review instead of to another annotator.",
      },
    ];
    await mount(fakeApi(report));

    const box = $(".q-settings-warnings");
    expect(box?.querySelector("strong")?.textContent).toBe("Check these settings: they keep work from finishing the way you may expect.");
    expect(box?.textContent).not.toContain("These settings keep work from finishing:");
    expect(box?.querySelector("[data-warning=no_spare_annotator]")?.textContent).toContain("go to review instead");
  });

  it("renders a hostile username as text, never as markup", async () => {
    await mount(fakeApi());

    expect(container.querySelector("img")).toBeNull();
    expect(annotatorNames()).toContain(HOSTILE);
    expect($$(".q-heatmap__name").some((t) => t.textContent?.startsWith("<img src=x"))).toBe(true);
    expect(container.innerHTML).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("links every table to its CSV download", async () => {
    await mount(fakeApi());

    const links = $$("a[download]").map((a) => a.getAttribute("href"));
    expect(links).toEqual(
      ["history", "annotators", "pairs", "confusion", "labels", "slices", "gold", "models"].map(
        (name) => `/api/projects/3/quality/tables/${name}.csv`,
      ),
    );
  });

  it("sorts annotators by gold accuracy, lowest first, and re-sorts by a clicked column", async () => {
    await mount(fakeApi());
    expect(annotatorNames()).toEqual(["bruno", "ana", "dora", HOSTILE]);
    expect($("#annotators-table th[aria-sort='ascending']")?.textContent).toContain("Gold accuracy");

    await act(async () => button("Annotations")!.click());
    expect(annotatorNames()).toEqual(["ana", "bruno", HOSTILE, "dora"]);
    await act(async () => button("Annotations")!.click());
    expect(annotatorNames()).toEqual(["dora", HOSTILE, "bruno", "ana"]);
    expect($("#annotators-table th[aria-sort='ascending']")?.textContent).toContain("Annotations");
  });

  it("formats the annotator row: gold, agreement, speed, volume and status", async () => {
    await mount(fakeApi());

    const bruno = $$("#annotators-table tbody tr").find((tr) => tr.dataset.annotator === "5")!;
    expect([...bruno.querySelectorAll("td")].map((td) => td.textContent)).toEqual([
      "bruno",
      "55.6%18 gold",
      "0.60",
      "2.1 s",
      "120.5",
      "640",
      "PausedGold accuracy 0.56 below 0.70 after 18 gold items",
      "Re-qualify bruno",
    ]);
    const unknown = $$("#annotators-table tbody tr").find((tr) => tr.dataset.annotator === "9")!;
    expect([...unknown.querySelectorAll("td")].slice(1, 5).map((td) => td.textContent)).toEqual(["—no gold yet", "0.81", "—", "—"]);
  });

  it("draws the heatmap with hatched empty pairs and moves between cells with the arrow keys", async () => {
    await mount(fakeApi());

    const cells = $$("[data-cell]");
    expect(cells).toHaveLength(16);
    expect(cells[2]!.getAttribute("fill")).toBe("url(#q-hatch)");
    expect(cells.filter((c) => c.getAttribute("tabindex") === "0")).toEqual([cells[1]]);
    expect(cells[1]!.getAttribute("aria-label")).toBe("ana and bruno: kappa 0.60 on 120 shared items");

    await act(async () => {
      cells[1]!.focus();
      cells[1]!.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    });

    expect(document.activeElement).toBe($("[data-cell='5']"));
    expect($("[data-cell='5']")?.getAttribute("tabindex")).toBe("0");
    expect($(".q-heatmap__detail")?.textContent).toBe("bruno: 640 items labeled");
    expect($(".q-heatmap__ring rect")?.getAttribute("x")).toBe("173.5"); // ring around row 1, column 1
    await act(async () => ($("[data-cell='5']") as unknown as SVGElement).blur());
    expect($(".q-heatmap__ring")).toBeNull();
    expect($$(".q-scale text").map((t) => t.textContent)).toEqual(["-1", "0", "0.5", "1"]);
  });

  it("shows the confusion matrix with counts and row percentages", async () => {
    await mount(fakeApi());

    const firstRow = $$(".q-confusion tbody tr")[0]!;
    expect(firstRow.querySelector("th")?.textContent).toBe("positive");
    expect([...firstRow.querySelectorAll(".q-confusion__cell")].map((td) => td.textContent)).toEqual(["6,30090.0%", "6008.6%", "1001.4%"]);
  });

  it("switches every per-control section with the control selector", async () => {
    await mount(fakeApi());

    const select = $("#quality-control") as HTMLSelectElement;
    expect([...select.options].map((o) => o.textContent)).toEqual(["Sentiment", "Severity"]);
    await act(async () => {
      select.value = "severity";
      select.dispatchEvent(new Event("change", { bubbles: true }));
    });

    expect($("#quality-labels h2")?.textContent).toBe("Labels · Severity");
    expect($$("[data-cell]")).toHaveLength(4);
    expect($$("#slices-table tbody tr")).toHaveLength(1);
    expect($(".q-kpi__value")?.textContent).toBe("0.55");
  });

  it("switches the history chart between alpha and percent agreement", async () => {
    await mount(fakeApi());
    expect($(".q-chart__svg")?.getAttribute("aria-label")).toBe("Krippendorff's alpha over 3 runs; latest: Sentiment 0.71, Severity 0.55");

    await act(async () => button("Percent")!.click());

    expect($(".q-chart__svg")?.getAttribute("aria-label")).toBe("percent agreement over 3 runs; latest: Sentiment 82.5%, Severity 60.0%");
    expect($$(".q-chart__svg polyline")).toHaveLength(2);
  });

  it("lists flagged gold items and model results", async () => {
    await mount(fakeApi());

    expect($$("#gold-table tbody td").map((td) => td.textContent)).toEqual(["#77", "Sentiment", "positive", "9", "77.8%"]);
    expect($$("#models-table tbody td").map((td) => td.textContent)).toEqual([
      "bert v3",
      "Sentiment",
      "Consensus",
      "1,900",
      "81.0%",
      "0.77",
      "neutral (F1 0.55)",
    ]);
  });
});

describe("QualityDashboard live updates", () => {
  it("refetches once after a burst of quality.updated events and says so", async () => {
    const api = fakeApi();
    const live = fakeFeed();
    await mount(api, live.feed);
    const newer = reportFixture();
    newer.run = { ...newer.run, id: 13, seen: { annotations: 50121 }, finished_at: "2025-03-14T09:04:59Z" };
    api.report.mockResolvedValue(newer);

    await live.send("quality.updated", { run_id: 13, kind: "incremental", finished_at: "2025-03-14T09:04:59Z" });
    await live.send("quality.updated", { run_id: 13, kind: "incremental", finished_at: "2025-03-14T09:04:59Z" });
    expect(api.report).toHaveBeenCalledTimes(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(200);
    });
    await flush();

    expect(api.report).toHaveBeenCalledTimes(2);
    expect(api.history).toHaveBeenCalledTimes(2);
    expect($("#quality-stamp")?.textContent).toBe("Computed just now from 50,121 annotations, incremental in 0.84 s");
    expect($("#quality-updated")?.textContent).toBe("Updated just now");
  });

  it("ignores other feed events", async () => {
    const api = fakeApi();
    const live = fakeFeed();
    await mount(api, live.feed);

    await live.send("annotation.submitted", { item_id: 4 });
    await live.send("member.added", { project_id: 3, actor: "m", username: "x", role: "annotator" });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });

    expect(api.report).toHaveBeenCalledTimes(1);
    expect($("#quality-updated")?.textContent).toBe("");
  });

  it("recognises quality.updated only as the unrecognised event it arrives as", () => {
    expect(isQualityUpdate(parseFeedEvent(JSON.stringify({ type: "quality.updated", data: { run_id: 1 } }))!)).toBe(true);
    expect(isQualityUpdate(parseFeedEvent(JSON.stringify({ type: "feed.ready", data: { project_id: 1 } }))!)).toBe(false);
  });

  it("unsubscribes from the feed when unmounted", async () => {
    const live = fakeFeed();
    await mount(fakeApi(), live.feed);
    expect(live.subscribers()).toBe(1);

    await act(async () => render(null, container));

    expect(live.subscribers()).toBe(0);
  });
});

describe("QualityDashboard without a report", () => {
  it("offers Recompute, says it is running, and shows the report when the run finishes", async () => {
    const api = fakeApi(null);
    const live = fakeFeed();
    await mount(api, live.feed);
    expect($("#quality-empty h2")?.textContent).toBe("No quality report yet");
    expect($("#quality-stamp")?.textContent).toBe("Not computed yet");

    await act(async () => ($("#quality-recompute") as HTMLButtonElement).click());
    await flush();
    expect(api.recompute).toHaveBeenCalledTimes(1);
    expect(container.textContent).toContain("A full recompute is running; this page updates when it finishes.");

    api.report.mockResolvedValue(reportFixture());
    await live.send("quality.updated", { run_id: 12, kind: "full", finished_at: "2025-03-14T09:04:48Z" });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(200);
    });
    await flush();

    expect($("#quality-empty")).toBeNull();
    expect(annotatorNames()).toHaveLength(4);
    expect(container.textContent).not.toContain("A full recompute is running");
  });

  it("loads the report right away when the recompute already finished", async () => {
    const api = fakeApi(null);
    api.status.mockResolvedValue({ pending: false, last_run: reportFixture().run });
    await mount(api);
    api.report.mockResolvedValue(reportFixture());

    await act(async () => ($("#quality-recompute") as HTMLButtonElement).click());
    await flush();

    expect(annotatorNames()).toHaveLength(4);
    expect($("#quality-updated")?.textContent).toBe("Updated just now");
  });

  it("shows why a recompute was refused", async () => {
    const api = fakeApi(null);
    api.recompute.mockRejectedValue(new ApiError(403, "permission_denied", "You may not recompute quality in this project."));
    await mount(api);

    await act(async () => ($("#quality-recompute") as HTMLButtonElement).click());
    await flush();

    expect($("[role=alert]")?.textContent).toBe("You may not recompute quality in this project.");
    expect(($("#quality-recompute") as HTMLButtonElement).disabled).toBe(false);
  });

  it("hides Recompute from people who cannot manage the project", async () => {
    await mount(fakeApi(null), fakeFeed().feed, false);

    expect($("#quality-recompute")).toBeNull();
    expect($("#quality-empty")?.textContent).toContain("A report appears here after the first annotations.");
  });
});

describe("QualityDashboard failures and managers' actions", () => {
  it("shows a load error with a retry", async () => {
    const api = fakeApi();
    api.report.mockRejectedValueOnce(new ApiError(500, "http_500", "Internal Server Error"));
    await mount(api);

    expect($("[role=alert] p")?.textContent).toBe("Internal Server Error");
    await act(async () => button("Try again")!.click());
    await flush();

    expect($("[role=alert]")).toBeNull();
    expect(annotatorNames()).toHaveLength(4);
  });

  it("re-qualifies a paused annotator through their membership", async () => {
    const api = fakeApi();
    await mount(api);

    await act(async () => button("Re-qualify")!.click());
    await flush();

    expect(api.members).toHaveBeenCalledTimes(1);
    expect(api.resume).toHaveBeenCalledWith(40);
    const bruno = $$("#annotators-table tbody tr").find((tr) => tr.dataset.annotator === "5")!;
    expect(bruno.textContent).toContain("Active");
    expect(button("Re-qualify")).toBeUndefined();
  });

  it("keeps the annotator paused and says why when re-qualifying fails", async () => {
    const api = fakeApi();
    api.resume.mockRejectedValue(new ApiError(409, "not_paused", "This member is not paused."));
    await mount(api);

    await act(async () => button("Re-qualify")!.click());
    await flush();

    expect($("[role=alert]")?.textContent).toBe("Could not re-qualify bruno: This member is not paused.");
    expect(button("Re-qualify")).toBeDefined();
    expect($$(".badge--danger").map((b) => b.textContent)).toEqual(["Paused"]);
  });

  it("says so when the paused annotator is no longer a member", async () => {
    const api = fakeApi();
    api.members.mockResolvedValue([]);
    await mount(api);

    await act(async () => button("Re-qualify")!.click());
    await flush();

    expect(api.resume).not.toHaveBeenCalled();
    expect($("[role=alert]")?.textContent).toBe("Could not re-qualify bruno: bruno is no longer a member of this project.");
  });

  it("shows no Re-qualify button to reviewers", async () => {
    await mount(fakeApi(), fakeFeed().feed, false);

    expect(button("Re-qualify")).toBeUndefined();
    expect($$(".badge--danger").map((b) => b.textContent)).toEqual(["Paused"]);
  });
});

describe("QualityDashboard layout", () => {
  it("gives a heatmap of many annotators a row of its own", async () => {
    const report = reportFixture();
    const ids = Array.from({ length: 9 }, (_, i) => 100 + i);
    report.annotators = ids.map((id) => ({ ...report.annotators[0]!, id, username: `user${id}` }));
    report.controls[0]!.pairs = {
      annotators: ids,
      kappa: ids.map(() => ids.map(() => 0.5)),
      shared: ids.map(() => ids.map(() => 10)),
    };
    await mount(fakeApi(report));

    expect($("#quality-pairs")?.classList.contains("q-card--wide")).toBe(true);
    expect($$("[data-cell]")).toHaveLength(81);
  });

  it("keeps a small heatmap in half a row", async () => {
    await mount(fakeApi());

    expect($("#quality-pairs")?.classList.contains("q-card--wide")).toBe(false);
  });
});
