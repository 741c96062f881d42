import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

import { ApiError } from "../api/http";
import {
  getImportJob,
  isFinished,
  uploadImport,
  type ImportJob,
  type ImportProgress,
  type UploadHandle,
  type UploadXhrConstructor,
} from "./imports";
import type { FeedStatus, ProjectFeed } from "../realtime/project-feed";
import {
  type Run,
  describeRun,
  formatBytes,
  formatCount,
  importEvent,
  importPercent,
  labelSummary,
  plural,
  progressOf,
  progressTone,
  resultSummary,
} from "./import-run";
import { ProvenancePicker, resolveProvenance, type ProvenanceChoice, type ProvenanceSource } from "./provenance-picker";
import "./import-panel.css";

export { describeRun, formatBytes, formatCount, importEvent, importPercent, labelSummary, resultSummary };

/** What the page passes in (from `json_script`). Choices are [value, label] pairs from the models. */
export interface ImportPanelConfig {
  projectId: number;
  /** The server's limit in bytes; larger files are refused before uploading. */
  maxBytes: number | null;
  modes: readonly (readonly [string, string])[];
  consents: readonly (readonly [string, string])[];
  /** The data page; "Show the imported items" links to it filtered by the job. */
  itemsUrl: string;
  /** The project's provenance sources for the Source picker (#18). */
  sources?: readonly ProvenanceSource[];
}

export interface ImportPanelProps {
  config: ImportPanelConfig;
  feed: Pick<ProjectFeed, "subscribe" | "onStatus" | "status">;
  /** Injectable for tests; the browser's XMLHttpRequest otherwise. */
  Xhr?: UploadXhrConstructor;
  /** Poll interval while the socket is not open (the fallback). */
  pollMs?: number;
  /** Poll interval while the socket is open: a safety net in case an event never arrives. */
  safetyPollMs?: number;
}

/** What the feed told us about jobs, kept from before we know our job's id (the import can finish first). */
interface Seen {
  progress?: ImportProgress;
  finished?: boolean;
}

const MAX_SEEN_JOBS = 20;

/**
 * The import card for managers: choose or drop a file, set the options, upload with progress,
 * follow the server's processing over the project feed (polling when the socket is not open),
 * then show the outcome. Everything that comes from the file or the server is rendered as text.
 */
export function ImportPanel({ config, feed, Xhr, pollMs = 1000, safetyPollMs = 5000 }: ImportPanelProps) {
  const [file, setFile] = useState<File | null>(null);
  const [mode, setMode] = useState(config.modes[0]?.[0] ?? "all_or_nothing");
  const [licence, setLicence] = useState("");
  const [consent, setConsent] = useState("");
  const [synthetic, setSynthetic] = useState(false);
  const [generator, setGenerator] = useState("");
  const [provenance, setProvenance] = useState<ProvenanceChoice>({ type: "none" });
  const [dragging, setDragging] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [run, setRun] = useState<Run>({ step: "idle" });
  const [feedStatus, setFeedStatus] = useState<FeedStatus>(feed.status);

  const runId = useRef(0); // bumped per upload: answers for an earlier run are ignored
  const activeJob = useRef<number | null>(null);
  const seen = useRef(new Map<number, Seen>());
  const upload = useRef<UploadHandle | null>(null);
  const highWater = useRef(0); // the bar never moves backwards within a run

  /** Reads the job and shows it if it has finished; otherwise updates the progress. */
  const refresh = async (id: number, token: number): Promise<void> => {
    const job = await getImportJob(config.projectId, id);
    if (token !== runId.current) return;
    if (isFinished(job.status)) {
      activeJob.current = null;
      setRun({ step: "done", job });
    } else {
      setRun((current) =>
        current.step === "processing" ? { step: "processing", job, progress: job.progress ?? current.progress } : current,
      );
    }
  };

  // Layout effect: subscribed synchronously after the first render, before the feed can emit.
  useLayoutEffect(() => {
    const offStatus = feed.onStatus(setFeedStatus);
    const offEvents = feed.subscribe((event) => {
      const message = importEvent(event);
      if (message === null) return;
      const { jobId } = message;
      const entry = seen.current.get(jobId) ?? {};
      if (message.kind === "progress") entry.progress = message.progress;
      else entry.finished = true;
      seen.current.delete(jobId);
      seen.current.set(jobId, entry);
      if (seen.current.size > MAX_SEEN_JOBS) seen.current.delete(seen.current.keys().next().value as number);
      if (jobId !== activeJob.current) return;
      if (message.kind === "progress") {
        setRun((current) => (current.step === "processing" ? { ...current, progress: message.progress } : current));
      } else {
        const token = runId.current;
        // The event carries counts only; the job has the first errors and the report link.
        refresh(jobId, token).catch(() => undefined); // the poll below retries
      }
    });
    return () => {
      offStatus();
      offEvents();
    };
  }, [feed]);

  // Poll while the server works: every `pollMs` without a socket, every `safetyPollMs` with one.
  const processingJob = run.step === "processing" ? run.job.id : null;
  useEffect(() => {
    if (processingJob === null) return;
    const token = runId.current;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      try {
        await refresh(processingJob, token);
      } catch (error) {
        // A network blip: try again. Anything else (403, 404, ...) will not get better.
        if (!(error instanceof ApiError) || error.status !== 0) {
          if (token === runId.current && !stopped) {
            activeJob.current = null;
            setRun({ step: "error", error: asApiError(error) });
          }
          return;
        }
      }
      if (!stopped) timer = setTimeout(tick, feedStatus === "open" ? safetyPollMs : pollMs);
    };
    timer = setTimeout(tick, feedStatus === "open" ? safetyPollMs : pollMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [processingJob, feedStatus === "open"]);

  const busy = run.step === "uploading" || run.step === "processing";

  const start = (event: Event) => {
    event.preventDefault();
    if (busy) return;
    if (provenance.type !== "new") {
      send(event, provenance.type === "existing" ? provenance.id : null);
      return;
    }
    resolveProvenance(config.projectId, provenance).then(
      (id) => {
        setProvenance(id === null ? { type: "none" } : { type: "existing", id });
        send(event, id);
      },
      (error: unknown) => setRun({ step: "error", error: asApiError(error) }),
    );
  };

  const send = (event: Event, provenanceId: number | null) => {
    event.preventDefault();
    if (busy) return;
    setFormError(null);
    if (file === null) {
      setFormError("Choose a file to import.");
      return;
    }
    runId.current += 1;
    const token = runId.current;
    highWater.current = 0;
    activeJob.current = null;
    if (config.maxBytes !== null && file.size > config.maxBytes) {
      const detail = `The file is ${formatCount(file.size)} bytes; the limit is ${formatCount(config.maxBytes)} bytes.`;
      setRun({ step: "error", error: new ApiError(413, "file_too_large", detail) });
      return;
    }
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("mode", mode);
    if (licence.trim() !== "") form.append("licence", licence.trim());
    if (consent !== "") form.append("consent", consent);
    if (provenanceId !== null) form.append("provenance_source", String(provenanceId));
    if (synthetic) {
      form.append("synthetic", "true");
      if (generator.trim() !== "") form.append("generator", generator.trim());
    }
    setRun({ step: "uploading", loaded: 0, total: file.size });
    const handle = uploadImport(
      config.projectId,
      form,
      (loaded, total) => {
        if (token === runId.current) setRun({ step: "uploading", loaded, total });
      },
      Xhr,
    );
    upload.current = handle;
    handle.job.then(
      (job) => {
        if (token !== runId.current) return;
        upload.current = null;
        const early = seen.current.get(job.id);
        if (isFinished(job.status)) {
          setRun({ step: "done", job });
          return;
        }
        activeJob.current = job.id;
        setRun({ step: "processing", job, progress: early?.progress ?? job.progress });
        if (early?.finished) refresh(job.id, token).catch(() => undefined);
      },
      (error: unknown) => {
        if (token !== runId.current) return;
        upload.current = null;
        if (error instanceof DOMException && error.name === "AbortError") {
          setRun({ step: "idle" });
          setFormError("Upload cancelled. Nothing was imported.");
          return;
        }
        setRun({ step: "error", error: asApiError(error) });
      },
    );
  };

  const cancel = () => {
    upload.current?.abort();
  };

  const reset = () => {
    runId.current += 1;
    activeJob.current = null;
    setRun({ step: "idle" });
    setFile(null);
    setFormError(null);
  };

  const choose = (chosen: File | null | undefined) => {
    setFile(chosen ?? null);
    setFormError(null);
    if (!busy) setRun({ step: "idle" });
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    if (busy) return;
    choose(event.dataTransfer?.files[0]);
  };
  const onDragOver = (event: DragEvent) => {
    event.preventDefault(); // allows the drop
    if (event.dataTransfer) event.dataTransfer.dropEffect = busy ? "none" : "copy";
    setDragging(true);
  };

  const percent = Math.max(highWater.current, progressOf(run));
  highWater.current = run.step === "idle" ? 0 : percent;
  const statusText = describeRun(run);
  const limit = config.maxBytes !== null ? ` · up to ${formatBytes(config.maxBytes)}` : "";

  return (
    <form class="import-panel" onSubmit={start} noValidate>
      {/* Visually hidden but focusable; the drop zone right after it is its label and shows its focus. */}
      <input
        id="import-file"
        name="file"
        type="file"
        class="import-file"
        disabled={busy}
        onChange={(event) => choose((event.currentTarget as HTMLInputElement).files?.[0])}
      />
      <label
        for="import-file"
        class={`import-drop${dragging ? " import-drop--over" : ""}${busy ? " import-drop--busy" : ""}`}
        onDragEnter={onDragOver}
        onDragOver={onDragOver}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <span class="import-drop__title">
          Drop a file here or <span class="import-drop__browse">choose a file</span>
        </span>
        <span class="import-drop__hint">JSONL, JSON, CSV, TSV, plain text, Label Studio tasks, media files or a ZIP of media{limit}</span>
        {file !== null && (
          <span class="import-drop__file" id="import-file-name">
            {file.name} <span class="import-drop__size">({formatBytes(file.size)})</span>
          </span>
        )}
      </label>

      <fieldset class="import-options" disabled={busy}>
        <legend class="sr-only">Import options</legend>
        <fieldset class="import-mode">
          <legend class="import-label">If some rows have problems</legend>
          {config.modes.map(([value, label]) => (
            <label key={value} class="import-radio">
              <input type="radio" name="mode" value={value} checked={mode === value} onChange={() => setMode(value)} />{" "}
              {modeLabel(value, label)}
            </label>
          ))}
        </fieldset>
        <div class="import-fields">
          <ProvenancePicker sources={config.sources ?? []} choice={provenance} onChange={setProvenance} />
          <div class="field">
            <label for="import-licence">Licence</label>
            <input
              id="import-licence"
              type="text"
              maxLength={100}
              placeholder="e.g. CC-BY-4.0"
              value={licence}
              onInput={(event) => setLicence(event.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="import-consent">Consent</label>
            <select id="import-consent" value={consent} onChange={(event) => setConsent(event.currentTarget.value)}>
              <option value="">Not stated</option>
              {config.consents.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <div class="field import-synthetic">
            <label class="import-check">
              <input
                type="checkbox"
                id="import-synthetic"
                checked={synthetic}
                onChange={(event) => setSynthetic(event.currentTarget.checked)}
              />{" "}
              Synthetic data
            </label>
            <label for="import-generator" class="sr-only">
              Generator
            </label>
            <input
              id="import-generator"
              type="text"
              maxLength={200}
              placeholder="Generator (model or tool)"
              disabled={!synthetic}
              value={generator}
              onInput={(event) => setGenerator(event.currentTarget.value)}
            />
          </div>
        </div>
        <small class="muted">Values in the file itself take precedence over these defaults.</small>
      </fieldset>

      <div class="import-actions">
        <button type="submit" class="button" disabled={busy}>
          {busy ? "Importing…" : "Import"}
        </button>
        {run.step === "uploading" && (
          <button type="button" class="button button--ghost" onClick={cancel}>
            Cancel upload
          </button>
        )}
      </div>

      {formError !== null && (
        <p class="error" role="alert" id="import-form-error">
          {formError}
        </p>
      )}

      {run.step !== "idle" && !(run.step === "error" && percent === 0) && (
        <div class="import-progress-wrap">
          <div
            id="import-progress"
            class={`import-progress import-progress--${progressTone(run)}`}
            role="progressbar"
            aria-label="Import progress"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
            aria-valuetext={`${percent} % · ${statusText}`}
          >
            <span class="import-progress__bar" style={{ width: `${percent}%` }} />
          </div>
          <p class={`import-status import-status--${progressTone(run)}`} id="import-status" aria-live="polite">
            {busy && <span class="import-status__percent">{percent} %</span>} {statusText}
          </p>
        </div>
      )}

      {run.step === "error" && <ErrorNotice error={run.error} />}
      {run.step === "done" && <ImportResult job={run.job} itemsUrl={config.itemsUrl} onReset={reset} />}
    </form>
  );
}

function ErrorNotice({ error }: { error: ApiError }) {
  const fields = Object.entries(error.errors);
  return (
    <div class="alert alert--error import-error" role="alert" id="import-error">
      <p>
        <strong>Could not import.</strong> {error.detail}
      </p>
      {fields.length > 0 && (
        <ul>
          {fields.map(([field, messages]) => (
            <li key={field}>
              {field}: {messages.join(" ")}
            </li>
          ))}
        </ul>
      )}
      <p class="small">
        Error code: <code>{error.code}</code>
      </p>
    </div>
  );
}

/** The outcome of a finished job below the status line (which has the counts): why nothing was
 * imported, the first problems, the report and where to go next. */
export function ImportResult({ job, itemsUrl, onReset }: { job: ImportJob; itemsUrl: string; onReset: () => void }) {
  const failed = job.status === "failed";
  const more = job.error_count - job.error_sample.length;
  return (
    <div class={`import-result import-result--${failed ? "failed" : "ok"}`} id="import-result">
      {failed && job.detail !== "" && <p class="import-result__detail">{job.detail}</p>}
      {job.label_counts !== null && (
        <ul class="import-result__labels" id="import-label-counts">
          {labelSummary(job.label_counts).map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
      {job.error_sample.length > 0 && (
        <table class="table table--dense import-errors" id="import-errors">
          <caption class="sr-only">First problems in the file</caption>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Field</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {job.error_sample.map((row, index) => (
              <tr key={index}>
                <td class="nowrap">{formatCount(row.line)}</td>
                <td>
                  <code>{row.field || "—"}</code>
                </td>
                <td class="wrap">{row.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="import-result__links">
        {job.error_report_url !== null && (
          <a href={job.error_report_url} id="import-error-report" download>
            Download the error report (CSV{more > 0 ? `, ${plural(job.error_count, "problem", "problems")}` : ""})
          </a>
        )}
        {!failed && job.created > 0 && <a href={`${itemsUrl}?import_job=${job.id}`}>Show the imported items</a>}
        <a href={`${itemsUrl}imports/${job.id}/`}>Job details</a>
        <button type="button" class="linkbutton" onClick={onReset}>
          Import another file
        </button>
      </p>
    </div>
  );
}

function modeLabel(value: string, fallback: string): string {
  if (value === "all_or_nothing") return "Import nothing if any row has a problem (all or nothing)";
  if (value === "valid_rows") return "Import the valid rows and report the rest";
  return fallback;
}

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, "unexpected_error", "Something went wrong. Reload the page and try again.");
}

