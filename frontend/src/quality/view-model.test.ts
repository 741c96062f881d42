import { describe, expect, it } from "vitest";

import { axisTime } from "./charts";
import { HOSTILE, historyFixture, reportFixture } from "./fixture.test-data";
import {
  agreementKpis,
  confusionView,
  csvUrl,
  fmtCoef,
  fmtInt,
  fmtPct,
  fmtSeconds,
  heatmapView,
  historySeries,
  inkFor,
  kappaColor,
  membershipIds,
  pickControl,
  plural,
  referenceText,
  relativeTime,
  runStamp,
  slicesFor,
  sortAnnotators,
  truncate,
  yDomain,
} from "./view-model";

const NOW = new Date("2025-03-14T09:05:00.000Z");

describe("number formatting", () => {
  it("shows coefficients with two decimals and a dash when undefined", () => {
    expect([fmtCoef(0.7134), fmtCoef(1), fmtCoef(-0.125), fmtCoef(-0.001), fmtCoef(null), fmtCoef(Number.NaN)]).toEqual([
      "0.71",
      "1.00",
      "-0.13",
      "0.00",
      "—",
      "—",
    ]);
  });

  it("shows proportions as percentages, counts with separators and times in seconds", () => {
    expect(fmtPct(0.8245)).toBe("82.5%");
    expect(fmtPct(null)).toBe("—");
    expect(fmtInt(50120)).toBe("50,120");
    expect(fmtSeconds(5400)).toBe("5.4 s");
    expect(fmtSeconds(null)).toBe("—");
  });
});

describe("runStamp", () => {
  it("says when, from how many annotations and which kind of run", () => {
    expect(runStamp(reportFixture().run, NOW)).toBe("Computed 12 s ago from 50,120 annotations, incremental in 0.84 s");
  });

  it("names a full recompute and survives a run without counts", () => {
    const run = { ...reportFixture().run, kind: "full", seen: {}, duration_ms: null, finished_at: "2025-03-14T07:05:00Z" };
    expect(runStamp(run, NOW)).toBe("Computed 2 h ago, full recompute");
  });

  it.each([
    ["2025-03-14T09:04:58Z", "just now"],
    ["2025-03-14T09:05:30Z", "just now"], // a server clock ahead of ours
    ["2025-03-14T09:02:00Z", "3 min ago"],
    ["2025-03-10T09:05:00Z", "4 d ago"],
    ["garbage", "at an unknown time"],
  ])("relativeTime(%s) = %s", (iso, text) => {
    expect(relativeTime(iso, NOW)).toBe(text);
  });
});

describe("agreementKpis", () => {
  it("lists alpha with its confidence interval first, then the other coefficients", () => {
    const kpis = agreementKpis(reportFixture().controls[0]!);

    expect(kpis.map((k) => [k.label, k.value, k.detail])).toEqual([
      ["Alpha", "0.71", "Krippendorff · 95% CI 0.69–0.73"],
      ["% agreement", "82.5%", "not chance-corrected"],
      ["Gwet's AC1", "0.78", "robust to skewed labels"],
      ["Fleiss' kappa", "0.70", "nominal labels"],
      ["Items", "20,000", "19,000 with 2+ answers"],
      ["Annotations", "50,120", "consensus: Dawid-Skene"],
    ]);
  });

  it("falls back to the level when there is no interval, and a dash for an undefined coefficient", () => {
    const kpis = agreementKpis(reportFixture().controls[1]!);

    expect(kpis[0]!.detail).toBe("Krippendorff · ordinal");
    expect(kpis[3]!.value).toBe("—");
  });
});

describe("pickControl", () => {
  it("returns the requested control, or the first when it is unknown", () => {
    const report = reportFixture();
    expect(pickControl(report, "severity")?.name).toBe("severity");
    expect(pickControl(report, "gone")?.name).toBe("sentiment");
    expect(pickControl({ ...report, controls: [] }, null)).toBeNull();
  });
});

describe("heatmapView", () => {
  const report = reportFixture();
  const view = heatmapView(report.controls[0]!, report.annotators)!;

  it("names rows and columns by username, untrusted names kept verbatim", () => {
    expect(view.names).toEqual(["ana", "bruno", HOSTILE, "dora"]);
    expect(view.cells).toHaveLength(16);
  });

  it("colours a kappa, hatches a pair without shared items and mutes the diagonal", () => {
    const at = (row: number, col: number) => view.cells[row * 4 + col]!;

    expect(at(0, 1)).toMatchObject({ kappa: 0.6012, shared: 120, text: "0.60", label: "ana and bruno: kappa 0.60 on 120 shared items" });
    expect(at(0, 1).fill).toBe(kappaColor(0.6012));
    expect(at(0, 2)).toMatchObject({ kappa: null, fill: null, text: "", label: `ana and ${HOSTILE}: no shared items` });
    expect(at(1, 1)).toMatchObject({ self: true, text: "—", label: "bruno: 640 items labeled" });
    expect(at(1, 3).text).toBe("-0.12");
  });

  it("falls back to the user id for an annotator missing from the report", () => {
    const other = heatmapView(report.controls[0]!, report.annotators.slice(0, 1))!;
    expect(other.names).toEqual(["ana", "#5", "#9", "#11"]);
  });

  it("is null when no pairs were computed", () => {
    expect(heatmapView({ ...report.controls[0]!, pairs: null }, report.annotators)).toBeNull();
    expect(heatmapView({ ...report.controls[0]!, pairs: { annotators: [], kappa: [], shared: [] } }, report.annotators)).toBeNull();
  });
});

describe("colour scale", () => {
  it("runs from red at -1 through grey at 0 to indigo at 1, clamped", () => {
    expect(kappaColor(-1)).toBe("#b91c1c");
    expect(kappaColor(0)).toBe("#f3f4f6");
    expect(kappaColor(1)).toBe("#3730a3");
    expect(kappaColor(7)).toBe(kappaColor(1));
  });

  it("picks readable ink: dark on light fills, white on dark", () => {
    expect(inkFor(kappaColor(0.1))).toBe("#111827");
    expect(inkFor(kappaColor(0.95))).toBe("#ffffff");
  });
});

describe("confusionView", () => {
  it("gives counts and row shares, consensus labels as rows", () => {
    const view = confusionView(reportFixture().controls[0]!)!;

    expect(view.labels).toEqual(["positive", "neutral", "negative"]);
    expect(view.rows.map((r) => r.total)).toEqual([7000, 4500, 6500]);
    expect(view.rows[0]!.cells.map((c) => c.rowShare)).toEqual([0.9, 600 / 7000, 100 / 7000]);
    expect(view.rows[1]!.cells[0]!.label).toBe("Consensus neutral, annotated positive: 700 (15.6% of the row)");
    expect(view.rows[0]!.cells[0]!.diagonal).toBe(true);
  });

  it("has no share for a consensus label nobody got", () => {
    const view = confusionView(reportFixture().controls[1]!)!;
    expect(view.rows[1]!.cells.map((c) => c.rowShare)).toEqual([null, null]);
  });
});

describe("sortAnnotators", () => {
  const rows = reportFixture().annotators;
  const names = (key: Parameters<typeof sortAnnotators>[1], dir: "asc" | "desc") =>
    sortAnnotators(rows, key, dir).map((r) => r.username);

  it("sorts by a number either way, with missing values last both times", () => {
    expect(names("gold_accuracy", "asc")).toEqual(["bruno", "ana", "dora", HOSTILE]);
    expect(names("gold_accuracy", "desc")).toEqual(["dora", "ana", "bruno", HOSTILE]);
    expect(names("agreement", "desc")).toEqual([HOSTILE, "ana", "bruno", "dora"]);
  });

  it("sorts by name and puts paused annotators first when asked", () => {
    expect(names("username", "asc")).toEqual([HOSTILE, "ana", "bruno", "dora"]);
    expect(names("paused", "desc")[0]).toBe("bruno");
  });

  it("does not reorder its input", () => {
    sortAnnotators(rows, "annotations", "asc");
    expect(rows.map((r) => r.id)).toEqual([3, 5, 9, 11]);
  });
});

describe("historySeries", () => {
  const { controls } = reportFixture();

  it("makes one series per control, oldest first, leaving out undefined values", () => {
    const series = historySeries(historyFixture().points, "alpha", controls);

    expect(series.map((s) => [s.title, s.points.map((p) => p.v)])).toEqual([
      ["Sentiment", [0.65, 0.69, 0.7134]],
      ["Severity", [0.5, 0.5521]],
    ]);
    expect(series[0]!.color).not.toBe(series[1]!.color);
  });

  it("follows the metric and keeps controls the report no longer has", () => {
    const points = [...historyFixture().points, { run_id: 1, finished_at: "2025-03-13T08:00:00Z", control: "old", alpha: 0.2, percent: 0.4, annotations: 10 }];
    const series = historySeries(points, "percent", controls);

    expect(series.map((s) => s.title)).toEqual(["Sentiment", "Severity", "old"]);
    expect(series[1]!.points.map((p) => p.v)).toEqual([0.55, 0.57, 0.6]);
  });

  it("widens the y range below zero only when a value is negative", () => {
    const series = historySeries(historyFixture().points, "alpha", controls);
    expect(yDomain(series)).toEqual([0, 1]);
    expect(yDomain([{ ...series[0]!, points: [{ t: 0, v: -0.3, runId: 1, annotations: 1 }] }])).toEqual([-0.5, 1]);
  });
});

describe("small helpers", () => {
  it("pluralises counted nouns", () => {
    expect([plural(1, "gold item"), plural(0, "annotator"), plural(1200, "item")]).toEqual(["1 gold item", "0 annotators", "1,200 items"]);
  });

  it("builds CSV links under the project's API base", () => {
    expect(csvUrl("/api/projects/3/", "annotators")).toBe("/api/projects/3/quality/tables/annotators.csv");
    expect(csvUrl("/api/projects/3", "pairs")).toBe("/api/projects/3/quality/tables/pairs.csv");
  });

  it("maps usernames to membership ids", () => {
    const ids = membershipIds([{ id: 40, username: "bruno", role: "annotator", paused_at: null }]);
    expect(ids.get("bruno")).toBe(40);
  });

  it("keeps the slices of one control, grouped by field and worst first", () => {
    expect(slicesFor(reportFixture(), "sentiment").map((s) => s.value)).toEqual(["pt", "en"]);
  });

  it("truncates by characters, not UTF-16 units", () => {
    expect(truncate("ana", 5)).toBe("ana");
    expect(truncate("😀😀😀😀😀😀", 4)).toBe("😀😀😀…");
  });

  it("shows gold references as text", () => {
    expect(referenceText("positive")).toBe("positive");
    expect(referenceText(["a", "b"])).toBe("a, b");
    expect(referenceText({ sentiment: "positive" })).toBe('{"sentiment":"positive"}');
    expect(referenceText(null)).toBe("—");
  });
});

describe("axisTime", () => {
  const t = new Date(2025, 2, 14, 9, 4, 7).getTime();

  it("shows seconds within an hour, day and time within two days, the date beyond", () => {
    expect(axisTime(t, 60_000)).toBe("09:04:07");
    expect(axisTime(t, 5 * 3_600_000)).toBe("14 Mar 09:04");
    expect(axisTime(t, 10 * 86_400_000)).toBe("14 Mar");
  });
});

describe("runActions", () => {
  it("says what the run did with the real counts, and nothing when it did nothing", async () => {
    const { runActions } = await import("./view-model");
    const report = reportFixture();
    expect(runActions({ ...report, escalated: 0, paused: [] })).toBeNull();
    expect(runActions({ ...report, escalated: 2, paused: [] })).toBe("This run sent 2 items to an extra annotator.");
    expect(
      runActions({
        ...report,
        escalated: 1,
        paused: [5],
        escalation: { escalated: 1, flagged_for_review: 7, waiting: 3, items_escalated: 4 },
      }),
    ).toBe(
      "This run sent 1 item to an extra annotator, sent 7 items with low agreement to review (no other annotator could take them) and paused 1 annotator for low quality. 3 items waiting for an extra annotator.",
    );
    expect(
      runActions({ ...report, escalated: 0, paused: [], escalation: { escalated: 0, flagged_for_review: 0, waiting: 1, items_escalated: 1 } }),
    ).toBe("1 item waiting for an extra annotator.");
  });
});
