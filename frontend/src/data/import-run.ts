/**
 * The import panel's view model, without a UI framework: the state of one run (upload, then the
 * server's reading), its progress in percent and the line that describes it, the summaries of a
 * finished job, and the feed messages about imports.
 */
import type { ApiError } from "../api/http";
import type { FeedEvent } from "../realtime/project-feed";
import { type ImportJob, type ImportProgress, type LabelCounts, parseProgress } from "./imports";

export type Run =
  | { step: "idle" }
  | { step: "uploading"; loaded: number; total: number }
  | { step: "processing"; job: ImportJob; progress: ImportProgress | null }
  | { step: "done"; job: ImportJob }
  | { step: "error"; error: ApiError };

/**
 * Overall progress in whole percent: the upload fills 0-50, the server's reading of the stored file
 * (bytes_read / size_bytes) fills 50-100. It stays at 99 until the job has finished, because the
 * server still writes the items after it has read the last byte.
 */
export function importPercent(
  upload: { loaded: number; total: number } | null,
  server: { bytes_read: number; size_bytes: number } | null,
  finished: boolean,
): number {
  if (finished) return 100;
  let percent = 0;
  if (upload !== null && upload.total > 0) percent = 50 * Math.min(1, upload.loaded / upload.total);
  if (server !== null) {
    percent = 50 + (server.size_bytes > 0 ? 50 * Math.min(1, Math.max(0, server.bytes_read) / server.size_bytes) : 0);
  }
  return Math.min(99, Math.floor(percent));
}

export const formatCount = (n: number): string => n.toLocaleString("en-US");

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} bytes`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = n / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export const plural = (n: number, one: string, many: string) => `${formatCount(n)} ${n === 1 ? one : many}`;

/** "Imported 1,000 items · 3 duplicates skipped · 0 rejected" */
export function resultSummary(job: Pick<ImportJob, "created" | "duplicates" | "rejected">): string {
  return [
    `Imported ${plural(job.created, "item", "items")}`,
    `${plural(job.duplicates, "duplicate", "duplicates")} skipped`,
    `${formatCount(job.rejected)} rejected`,
  ].join(" · ");
}

/**
 * "Annotations: 55 imported · 5 cancelled (kept as skips) · 0 rejected" and the same for predictions:
 * what a Label Studio import did with every annotation and prediction of its tasks.
 */
export function labelSummary(counts: LabelCounts): string[] {
  const part = (n: number | undefined, what: string) => (n ? [`${formatCount(n)} ${what}`] : []);
  const a = counts.annotations;
  const p = counts.predictions;
  const annotations = [
    `${formatCount(a.imported ?? 0)} imported`,
    ...part(a.cancelled, "cancelled (kept as skips)"),
    `${formatCount(a.rejected ?? 0)} rejected`,
    ...part(a.duplicates, "already imported"),
    ...part(a.not_imported, "not imported (the import was refused)"),
  ];
  const predictions = [
    `${formatCount(p.imported ?? 0)} imported`,
    `${formatCount(p.rejected ?? 0)} rejected`,
    ...part(p.duplicates, "already imported"),
    ...part(p.not_imported, "not imported (the import was refused)"),
  ];
  const lines = [
    `Annotations: ${annotations.join(" · ")} (of ${formatCount(a.received ?? 0)})`,
    `Predictions: ${predictions.join(" · ")} (of ${formatCount(p.received ?? 0)})`,
  ];
  if (counts.annotators) lines.push(`${plural(counts.annotators, "imported annotator", "imported annotators")}`);
  return lines;
}

export function progressOf(run: Run): number {
  switch (run.step) {
    case "idle":
      return 0;
    case "uploading":
      return importPercent(run, null, false);
    case "processing":
      return importPercent({ loaded: 1, total: 1 }, run.progress, false);
    case "done":
      return 100;
    case "error":
      return 0;
  }
}

export function progressTone(run: Run): "active" | "ok" | "failed" {
  if (run.step === "error" || (run.step === "done" && run.job.status === "failed")) return "failed";
  return run.step === "done" ? "ok" : "active";
}

/** One line under the bar, for sighted users and screen readers alike. */
export function describeRun(run: Run): string {
  switch (run.step) {
    case "idle":
      return "";
    case "uploading":
      return `Uploading: ${formatBytes(run.loaded)} of ${formatBytes(run.total)}`;
    case "processing": {
      const progress = run.progress;
      if (progress === null) return run.job.status === "queued" ? "Uploaded. Waiting for a worker…" : "Uploaded. Starting…";
      if (progress.phase === "loading") return `Saving ${plural(progress.received, "record", "records")}…`;
      return `Checking records: ${formatCount(progress.received)} read`;
    }
    case "done":
      return run.job.status === "failed" ? "Nothing was imported." : resultSummary(run.job);
    case "error":
      return "Stopped.";
  }
}

/** An "import.progress" / "import.finished" feed message, checked at the boundary. */
export type ImportMessage =
  | { kind: "progress"; jobId: number; progress: ImportProgress }
  | { kind: "finished"; jobId: number };

export function importEvent(event: FeedEvent): ImportMessage | null {
  const name = event.type === "unrecognized" ? event.name : event.type;
  const data = event.data as unknown as Record<string, unknown>;
  if (typeof data.job_id !== "number") return null;
  if (name === "import.progress") {
    const progress = parseProgress(data);
    return progress === null ? null : { kind: "progress", jobId: data.job_id, progress };
  }
  if (name === "import.finished") return { kind: "finished", jobId: data.job_id };
  return null;
}
