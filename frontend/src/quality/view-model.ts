/**
 * Turns quality API JSON into what the dashboard draws: formatted numbers, chart geometry inputs,
 * colours, sort orders. Framework-free and DOM-free, so it is unit-tested without a browser.
 */
import type {
  AnnotatorRow,
  ControlReport,
  CsvTable,
  HistoryPoint,
  MemberRow,
  QualityReport,
  QualityRun,
  SliceRow,
} from "./types";

export const DASH = "—";

// --- Numbers -----------------------------------------------------------------------------------------

const isNum = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/** A coefficient (alpha, kappa, AC1, ...) with two decimals; a dash when undefined (null / NaN). */
export function fmtCoef(value: number | null | undefined): string {
  if (!isNum(value)) return DASH;
  // -0.001 would print as "-0.00": drop the sign of a value that rounds to zero.
  const text = value.toFixed(2);
  return text === "-0.00" ? "0.00" : text;
}

/** A proportion in [0, 1] as a percentage with one decimal ("82.5%"). */
export function fmtPct(value: number | null | undefined): string {
  if (!isNum(value)) return DASH;
  return `${(value * 100).toFixed(1)}%`;
}

/** A count with thousands separators, independent of the browser locale ("50,120"). */
export function fmtInt(value: number | null | undefined): string {
  if (!isNum(value)) return DASH;
  return Math.round(value).toLocaleString("en");
}

/** "1 gold item", "40 gold items": a count with its noun (the plural adds an s). */
export function plural(count: number, noun: string): string {
  return `${fmtInt(count)} ${count === 1 ? noun : `${noun}s`}`;
}

/** What the last run did to the workflow, in one sentence with the real counts, or null when it did
 * nothing: items sent to an extra annotator, items sent to review because nobody eligible was left,
 * items waiting for their extra annotator now, annotators paused. */
export function runActions(report: QualityReport): string | null {
  const escalation = report.escalation;
  const parts: string[] = [];
  if (report.escalated > 0) parts.push(`sent ${plural(report.escalated, "item")} to an extra annotator`);
  if (escalation && escalation.flagged_for_review > 0) {
    parts.push(`sent ${plural(escalation.flagged_for_review, "item")} with low agreement to review (no other annotator could take them)`);
  }
  if (report.paused.length > 0) parts.push(`paused ${plural(report.paused.length, "annotator")} for low quality`);
  const waiting =
    escalation && escalation.waiting > 0 ? `${plural(escalation.waiting, "item")} waiting for an extra annotator.` : "";
  if (parts.length === 0) return waiting || null;
  const last = parts.pop() as string;
  const sentence = `This run ${parts.length ? `${parts.join(", ")} and ${last}` : last}.`;
  return waiting ? `${sentence} ${waiting}` : sentence;
}

/** Milliseconds as seconds with one decimal ("5.4 s"). */
export function fmtSeconds(ms: number | null | undefined): string {
  if (!isNum(ms)) return DASH;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Throughput per hour with one decimal. */
export function fmtRate(value: number | null | undefined): string {
  if (!isNum(value)) return DASH;
  return value.toFixed(1);
}

// --- Run stamp ---------------------------------------------------------------------------------------

/** "just now", "12 s ago", "3 min ago", "2 h ago", "4 d ago". Future times (clock skew) read "just now". */
export function relativeTime(iso: string | null | undefined, now: Date): string {
  if (!iso) return "at an unknown time";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "at an unknown time";
  const seconds = Math.floor((now.getTime() - then) / 1000);
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** "Computed 12 s ago from 50,120 annotations, incremental (0.84 s)". */
export function runStamp(run: QualityRun, now: Date): string {
  const when = relativeTime(run.finished_at ?? run.started_at, now);
  const annotations = run.seen?.annotations;
  const from = isNum(annotations) ? ` from ${fmtInt(annotations)} ${annotations === 1 ? "annotation" : "annotations"}` : "";
  const kind = run.kind === "full" ? "full recompute" : run.kind;
  const took = isNum(run.duration_ms) ? ` in ${(run.duration_ms / 1000).toFixed(2)} s` : "";
  return `Computed ${when}${from}, ${kind}${took}`;
}

// --- Controls and their agreement ---------------------------------------------------------------------

/** Help text for each metric, from docs/QUALITY.md; shown as tooltips and under the KPI tiles. */
export const HELP = {
  alpha:
    "Krippendorff's alpha: chance-corrected reliability for any number of annotators and missing data. 1 = perfect, 0 = chance level; 0.80+ is usually reliable, below 0.67 is tentative.",
  percent:
    "Percent agreement: how often two annotators give the same answer on an item. Not chance-corrected, so it is high when one label dominates.",
  fleiss:
    "Fleiss' kappa: chance-corrected agreement for many annotators on nominal labels (Gwet's generalisation when the number of annotators per item varies).",
  ac1: "Gwet's AC1: chance-corrected agreement that stays stable for skewed label distributions, where kappa and alpha collapse.",
  kappa: "Cohen's kappa between two annotators on the items they both labeled: 1 = always agree, 0 = chance level, below 0 = worse than chance.",
  agreement: "The annotator's pooled agreement with everyone else on shared items.",
  gold: "Share of the annotator's answers on gold items that match the reference answer.",
  specific:
    "Specific agreement: when one annotator uses this label, how often another annotator on the same item uses it too. Low values point at ambiguous guidelines.",
  alphaVsRest: "Alpha of the data recoded as this label versus any other label.",
  confusion: "Rows: the consensus answer. Columns: what annotators answered. Off-diagonal cells are disagreements with consensus.",
  failure: "Share of annotators' answers on this gold item that differ from its reference answer. A high rate suggests the reference itself may be wrong.",
} as const;

export interface Kpi {
  key: keyof typeof HELP | "items" | "annotations";
  label: string;
  value: string;
  detail: string;
  help: string;
}

export function agreementKpis(control: ControlReport): Kpi[] {
  const a = control.agreement;
  const ci = a.alpha_ci !== null && a.alpha_ci !== undefined ? `95% CI ${fmtCoef(a.alpha_ci[0])}–${fmtCoef(a.alpha_ci[1])}` : control.level;
  return [
    { key: "alpha", label: "Alpha", value: fmtCoef(a.alpha), detail: `Krippendorff · ${ci}`, help: HELP.alpha },
    { key: "percent", label: "% agreement", value: fmtPct(a.percent), detail: "not chance-corrected", help: HELP.percent },
    { key: "ac1", label: "Gwet's AC1", value: fmtCoef(a.ac1), detail: "robust to skewed labels", help: HELP.ac1 },
    { key: "fleiss", label: "Fleiss' kappa", value: fmtCoef(a.fleiss), detail: "nominal labels", help: HELP.fleiss },
    {
      key: "items",
      label: "Items",
      value: fmtInt(a.items),
      detail: `${fmtInt(a.pairable_items)} with 2+ answers`,
      help: "Items with at least one answer for this control; only items with two or more answers count towards agreement.",
    },
    {
      key: "annotations",
      label: "Annotations",
      value: fmtInt(a.annotations),
      detail: `consensus: ${methodName(control.method)}`,
      help: "Answers for this control included in this run.",
    },
  ];
}

export function methodName(method: string): string {
  const names: Record<string, string> = {
    dawid_skene: "Dawid-Skene",
    majority_vote: "majority vote",
    mace: "MACE",
    bradley_terry: "Bradley-Terry",
  };
  return names[method] ?? method.replace(/_/g, " ");
}

/** The control to show: the requested one if the report has it, else the first. */
export function pickControl(report: QualityReport, name: string | null): ControlReport | null {
  return report.controls.find((c) => c.name === name) ?? report.controls[0] ?? null;
}

// --- Heatmap -----------------------------------------------------------------------------------------

export interface HeatCell {
  row: number;
  col: number;
  kappa: number | null;
  shared: number;
  self: boolean;
  fill: string | null; // null: hatched (no shared items)
  ink: string;
  text: string;
  /** Accessible name / tooltip: "ana and bruno: kappa 0.60 on 120 shared items". */
  label: string;
}

export interface HeatmapView {
  names: string[];
  cells: HeatCell[];
}

const NEUTRAL: Rgb = [243, 244, 246]; // kappa 0
const HIGH: Rgb = [55, 48, 163]; // kappa 1 (indigo-800)
const LOW: Rgb = [185, 28, 28]; // kappa -1 (the danger red)
type Rgb = [number, number, number];

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [0, 1, 2].map((i) => Math.round(a[i]! + (b[i]! - a[i]!) * t)) as Rgb;
}

function hex([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

/** Diverging scale: red below 0, grey at 0, indigo at 1. Clamped to [-1, 1]. */
export function kappaColor(kappa: number): string {
  const v = Math.max(-1, Math.min(1, kappa));
  return hex(v >= 0 ? mix(NEUTRAL, HIGH, v) : mix(NEUTRAL, LOW, -v));
}

/** Dark text on light fills, white on dark ones (WCAG relative luminance). */
export function inkFor(fill: string): string {
  const channel = (i: number) => {
    const c = parseInt(fill.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
  return luminance > 0.4 ? "#111827" : "#ffffff";
}

/** The annotator x annotator kappa matrix as cells, named by the report's usernames. */
export function heatmapView(control: ControlReport, annotators: readonly AnnotatorRow[]): HeatmapView | null {
  const pairs = control.pairs;
  if (pairs === null || pairs === undefined || pairs.annotators.length === 0) return null;
  const byId = new Map(annotators.map((a) => [a.id, a.username]));
  const names = pairs.annotators.map((id) => byId.get(id) ?? `#${id}`);
  const cells: HeatCell[] = [];
  pairs.annotators.forEach((_, row) => {
    pairs.annotators.forEach((__, col) => {
      const kappa = pairs.kappa[row]?.[col] ?? null;
      const shared = pairs.shared[row]?.[col] ?? 0;
      const self = row === col;
      const a = names[row]!;
      const b = names[col]!;
      if (self) {
        cells.push({ row, col, kappa, shared, self, fill: "#f8fafc", ink: "#5b6472", text: DASH,
          label: `${a}: ${fmtInt(shared)} ${shared === 1 ? "item" : "items"} labeled` });
        return;
      }
      if (!isNum(kappa)) {
        cells.push({ row, col, kappa: null, shared, self, fill: null, ink: "#5b6472", text: "",
          label: shared > 0 ? `${a} and ${b}: kappa undefined on ${fmtInt(shared)} shared items` : `${a} and ${b}: no shared items` });
        return;
      }
      const fill = kappaColor(kappa);
      cells.push({ row, col, kappa, shared, self, fill, ink: inkFor(fill), text: fmtCoef(kappa),
        label: `${a} and ${b}: kappa ${fmtCoef(kappa)} on ${fmtInt(shared)} shared ${shared === 1 ? "item" : "items"}` });
    });
  });
  return { names, cells };
}

/** Shortens a name for a chart axis; the full name stays in the cell's title. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

// --- Confusion -----------------------------------------------------------------------------------------

export interface ConfusionCell {
  count: number;
  rowShare: number | null;
  diagonal: boolean;
  fill: string;
  ink: string;
  label: string;
}

export interface ConfusionRow {
  label: string;
  total: number;
  cells: ConfusionCell[];
}

/** Rows = consensus label, columns = annotator label; cell shade by row share (diagonal indigo, errors red). */
export function confusionView(control: ControlReport): { labels: string[]; rows: ConfusionRow[] } | null {
  const confusion = control.confusion;
  if (confusion === null || confusion === undefined || confusion.labels.length === 0) return null;
  const { labels, matrix } = confusion;
  const rows = labels.map((label, r) => {
    const counts = labels.map((_, c) => matrix[r]?.[c] ?? 0);
    const total = counts.reduce((sum, n) => sum + n, 0);
    const cells = counts.map((count, c) => {
      const rowShare = total > 0 ? count / total : null;
      const diagonal = r === c;
      const strength = rowShare ?? 0;
      const fill = hex(mix([255, 255, 255], diagonal ? HIGH : LOW, diagonal ? strength * 0.85 : Math.min(1, strength * 1.6) * 0.7));
      return {
        count,
        rowShare,
        diagonal,
        fill,
        ink: inkFor(fill),
        label: `Consensus ${label}, annotated ${labels[c]}: ${fmtInt(count)} (${fmtPct(rowShare)} of the row)`,
      };
    });
    return { label, total, cells };
  });
  return { labels, rows };
}

// --- Sorting -----------------------------------------------------------------------------------------

export type AnnotatorSortKey =
  | "username"
  | "annotations"
  | "agreement"
  | "gold_accuracy"
  | "median_active_ms"
  | "per_hour"
  | "paused";
export type SortDir = "asc" | "desc";

/** Sorted copy; missing values (null) always go last, whatever the direction; ties by username. */
export function sortAnnotators(rows: readonly AnnotatorRow[], key: AnnotatorSortKey, dir: SortDir): AnnotatorRow[] {
  const sign = dir === "asc" ? 1 : -1;
  const value = (row: AnnotatorRow): number | string | null => {
    if (key === "paused") return row.paused ? 1 : 0;
    const v = row[key];
    return typeof v === "number" && !Number.isFinite(v) ? null : v;
  };
  return [...rows].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null && vb !== null) return 1;
    if (vb === null && va !== null) return -1;
    let order = 0;
    if (va !== null && vb !== null) {
      order = typeof va === "string" || typeof vb === "string" ? String(va).localeCompare(String(vb)) : va - vb;
    }
    return order !== 0 ? sign * order : a.username.localeCompare(b.username);
  });
}

// --- History -------------------------------------------------------------------------------------------

export type HistoryMetric = "alpha" | "percent";

export interface Series {
  control: string;
  title: string;
  color: string;
  points: { t: number; v: number; runId: number; annotations: number }[];
}

/** Categorical line colours (colour-blind friendly, Okabe-Ito-ish), accent first. */
export const SERIES_COLORS = ["#4f46e5", "#d97706", "#0891b2", "#be185d", "#15803d", "#7c3aed", "#525252"];

/** One series per control, oldest first; points whose metric is undefined are left out (a gap). */
export function historySeries(
  points: readonly HistoryPoint[],
  metric: HistoryMetric,
  controls: readonly Pick<ControlReport, "name" | "title">[],
): Series[] {
  const titles = new Map(controls.map((c) => [c.name, c.title]));
  const order: string[] = controls.map((c) => c.name);
  for (const p of points) if (!order.includes(p.control)) order.push(p.control);
  const series = order.map((control, i) => ({
    control,
    title: titles.get(control) ?? control,
    color: SERIES_COLORS[i % SERIES_COLORS.length]!,
    points: points
      .filter((p) => p.control === control && isNum(p[metric]) && !Number.isNaN(Date.parse(p.finished_at)))
      .map((p) => ({ t: Date.parse(p.finished_at), v: p[metric] as number, runId: p.run_id, annotations: p.annotations }))
      .sort((a, b) => a.t - b.t),
  }));
  return series.filter((s) => s.points.length > 0);
}

/** The y range of the chart: [0, 1], widened to negative values when alpha goes below 0. */
export function yDomain(series: readonly Series[]): [number, number] {
  let min = 0;
  for (const s of series) for (const p of s.points) min = Math.min(min, p.v);
  return [Math.floor(min * 4) / 4, 1];
}

// --- Misc ----------------------------------------------------------------------------------------------

export function csvUrl(apiBase: string, table: CsvTable): string {
  return `${apiBase.replace(/\/?$/, "/")}quality/tables/${table}.csv`;
}

/** username -> membership id (the report names annotators by user id and username; members by username). */
export function membershipIds(members: readonly MemberRow[]): Map<string, number> {
  return new Map(members.map((m) => [m.username, m.id]));
}

export function slicesFor(report: QualityReport, control: string): SliceRow[] {
  return report.slices
    .filter((s) => s.control === control)
    .sort((a, b) => a.key.localeCompare(b.key) || (a.alpha ?? Infinity) - (b.alpha ?? Infinity));
}

/** A gold reference answer as short text: labels as they are, structured answers as compact JSON. */
export function referenceText(reference: unknown): string {
  if (typeof reference === "string") return reference;
  if (Array.isArray(reference) && reference.every((r) => typeof r === "string")) return reference.join(", ");
  if (reference === null || reference === undefined) return DASH;
  const json = JSON.stringify(reference);
  return truncate(json, 80);
}
