/**
 * The quality dashboard (/projects/<id>/quality/): the latest quality report, its history and the
 * live "quality.updated" event from the project feed. Data comes from the API only.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";

import { ApiError } from "../api/http";
import type { FeedEvent, FeedStatus, ProjectFeed } from "../realtime/project-feed";
import "../realtime/live-activity.css";
import type { QualityApi } from "./api";
import { AgreementChart, ConfusionMatrix, Heatmap } from "./charts";
import { AnnotatorTable, GoldTable, LabelTable, ModelTable, Section, SliceTable } from "./tables";
import type { AnnotatorRow, HistoryPoint, QualityReport } from "./types";
import {
  HELP,
  agreementKpis,
  fmtInt,
  heatmapView,
  historySeries,
  membershipIds,
  pickControl,
  plural,
  runActions,
  runStamp,
  slicesFor,
  type HistoryMetric,
} from "./view-model";
import "./quality.css";

export interface QualityDashboardProps {
  api: QualityApi;
  feed: Pick<ProjectFeed, "subscribe" | "onStatus" | "status">;
  apiBase: string;
  canManage: boolean;
  /** Clock, injectable for tests. */
  now?: () => Date;
  /** Quiet time after a quality.updated event before refetching (bursts of runs refetch once). */
  debounceMs?: number;
}

export const UPDATED_EVENT = "quality.updated";

/** Above this many annotators the heatmap gets a row of its own instead of half of one. */
const WIDE_HEATMAP = 7;

/** True for the feed event the quality workers broadcast after each run. */
export function isQualityUpdate(event: FeedEvent): boolean {
  return event.type === "unrecognized" && event.name === UPDATED_EVENT;
}

function message(error: unknown): string {
  if (error instanceof ApiError) return error.detail;
  return "Something went wrong while loading the quality report. Reload the page to try again.";
}

type Recompute = { state: "idle" } | { state: "busy" } | { state: "queued" } | { state: "failed"; error: string };

export function QualityDashboard({ api, feed, apiBase, canManage, now = () => new Date(), debounceMs = 400 }: QualityDashboardProps) {
  const [report, setReport] = useState<QualityReport | null | undefined>(undefined); // undefined: loading
  const [history, setHistory] = useState<HistoryPoint[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [controlName, setControlName] = useState<string | null>(null);
  const [metric, setMetric] = useState<HistoryMetric>("alpha");
  const [status, setStatus] = useState<FeedStatus>(feed.status);
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [recompute, setRecompute] = useState<Recompute>({ state: "idle" });
  const [resumed, setResumed] = useState<ReadonlySet<number>>(new Set());
  const [resumeBusy, setResumeBusy] = useState<ReadonlySet<number>>(new Set());
  const [resumeError, setResumeError] = useState<string | null>(null);
  const [, setTick] = useState(0);
  const members = useRef<Map<string, number> | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const loadSeq = useRef(0);
  const runId = useRef<number | null>(null);
  // `now` is usually an inline arrow: read it through a ref so it never retriggers the effects.
  const nowRef = useRef(now);
  nowRef.current = now;

  const load = useCallback(
    async (live: boolean) => {
      const seq = ++loadSeq.current;
      try {
        const [nextReport, nextHistory] = await Promise.all([api.report(), api.history()]);
        if (seq !== loadSeq.current) return; // a newer load started meanwhile; its answer wins
        if (nextReport !== null && nextReport.run.id !== runId.current) setResumed(new Set());
        runId.current = nextReport?.run.id ?? null;
        setReport(nextReport);
        setHistory(nextHistory.points);
        setError(null);
        if (live) setUpdatedAt(nowRef.current());
      } catch (caught) {
        if (seq === loadSeq.current) setError(message(caught));
      }
    },
    [api],
  );

  useEffect(() => {
    void load(false);
  }, [load]);

  // Layout effect: subscribes synchronously after the first render, so a feed started right after
  // render() cannot emit unobserved.
  useLayoutEffect(() => {
    const offStatus = feed.onStatus(setStatus);
    const offEvents = feed.subscribe((event) => {
      if (!isQualityUpdate(event)) return;
      if (timer.current !== null) clearTimeout(timer.current);
      timer.current = setTimeout(() => {
        timer.current = null;
        setRecompute((r) => (r.state === "queued" ? { state: "idle" } : r));
        void load(true);
      }, debounceMs);
    });
    return () => {
      offStatus();
      offEvents();
      if (timer.current !== null) clearTimeout(timer.current);
    };
  }, [feed, load, debounceMs]);

  // Re-render every 10 s so "computed 12 s ago" stays true.
  useEffect(() => {
    const interval = setInterval(() => setTick((t) => t + 1), 10_000);
    return () => clearInterval(interval);
  }, []);

  const startRecompute = async () => {
    setRecompute({ state: "busy" });
    try {
      await api.recompute();
      const state = await api.status().catch(() => ({ pending: true }));
      if (state.pending) {
        setRecompute({ state: "queued" });
      } else {
        // The run already finished (a fast worker): show it now rather than wait for the event.
        setRecompute({ state: "idle" });
        await load(true);
      }
    } catch (caught) {
      setRecompute({ state: "failed", error: message(caught) });
    }
  };

  const resume = async (row: AnnotatorRow) => {
    setResumeError(null);
    setResumeBusy((busy) => new Set(busy).add(row.id));
    try {
      if (members.current === null || !members.current.has(row.username)) {
        members.current = membershipIds(await api.members());
      }
      const membershipId = members.current.get(row.username);
      if (membershipId === undefined) throw new ApiError(404, "not_member", `${row.username} is no longer a member of this project.`);
      await api.resume(membershipId);
      setResumed((ids) => new Set(ids).add(row.id));
    } catch (caught) {
      setResumeError(`Could not re-qualify ${row.username}: ${message(caught)}`);
    } finally {
      setResumeBusy((busy) => {
        const next = new Set(busy);
        next.delete(row.id);
        return next;
      });
    }
  };

  const control = report ? pickControl(report, controlName) : null;
  const annotators = useMemo(
    () => (report ? report.annotators.map((a) => (resumed.has(a.id) ? { ...a, paused: false, paused_reason: "", low_quality: false } : a)) : []),
    [report, resumed],
  );
  const titles = useMemo(() => new Map((report?.controls ?? []).map((c) => [c.name, c.title])), [report]);
  const series = useMemo(() => historySeries(history, metric, report?.controls ?? []), [history, metric, report]);

  const recomputeButton = canManage && (
    <button type="button" class="button button--small" id="quality-recompute" disabled={recompute.state === "busy"} onClick={() => void startRecompute()}>
      {recompute.state === "busy" ? "Queuing…" : "Recompute now"}
    </button>
  );
  const recomputeNote =
    recompute.state === "queued" ? (
      <span class="muted small">A full recompute is running; this page updates when it finishes.</span>
    ) : recompute.state === "failed" ? (
      <span class="error small" role="alert">{recompute.error}</span>
    ) : null;

  const toolbar = (
    <div class="q-toolbar">
      <div class="q-toolbar__status">
        <span id="quality-live" class={`live-pill live-pill--${status === "open" ? "open" : "closed"}`}>
          {status === "open" ? "Live" : status === "connecting" ? "Connecting…" : "Offline"}
        </span>
        <span id="quality-stamp" class="q-stamp">
          {report ? runStamp(report.run, now()) : report === null ? "Not computed yet" : "Loading…"}
        </span>
        <span id="quality-updated" role="status" class="q-updated">
          {updatedAt !== null ? `Updated ${now().getTime() - updatedAt.getTime() < 60_000 ? "just now" : `at ${updatedAt.toLocaleTimeString("en-GB")}`}` : ""}
        </span>
      </div>
      <div class="q-toolbar__actions">
        {report && report.controls.length > 1 && (
          <label class="q-control-select">
            Control
            <select id="quality-control" value={control?.name} onChange={(e) => setControlName((e.target as HTMLSelectElement).value)}>
              {report.controls.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.title}
                </option>
              ))}
            </select>
          </label>
        )}
        {recomputeButton}
      </div>
      {recomputeNote !== null && <div class="q-toolbar__note">{recomputeNote}</div>}
    </div>
  );

  if (error !== null && report === undefined) {
    return (
      <div class="q-dashboard">
        {toolbar}
        <div class="alert alert--error" role="alert">
          <p>{error}</p>
          <button type="button" class="button button--ghost button--small q-retry" onClick={() => void load(false)}>
            Try again
          </button>
        </div>
      </div>
    );
  }

  if (report === undefined) {
    return (
      <div class="q-dashboard" aria-busy="true">
        {toolbar}
        <p class="muted">Loading the quality report…</p>
      </div>
    );
  }

  if (report === null) {
    return (
      <div class="q-dashboard">
        {toolbar}
        <section class="card empty q-none" id="quality-empty">
          <h2>No quality report yet</h2>
          <p class="muted">
            Agreement, gold accuracy and consensus are computed in the background after annotations are submitted.
            {canManage ? " Compute the first report now, or wait for the next annotation." : " A report appears here after the first annotations."}
          </p>
          {recomputeButton}
        </section>
      </div>
    );
  }

  const heat = control ? heatmapView(control, annotators) : null;
  const pausedNow = annotators.filter((a) => a.paused).length;

  return (
    <div class="q-dashboard">
      {toolbar}
      {error !== null && (
        <p class="alert alert--error" role="alert">
          Could not refresh: {error}
        </p>
      )}
      {(report.settings_warnings ?? []).length > 0 && (
        <div class="alert alert--warn q-settings-warnings" role="status" aria-label="Settings warnings">
          <strong>Check these settings: they keep work from finishing the way you may expect.</strong>
          <ul>
            {(report.settings_warnings ?? []).map((w) => (
              <li key={w.code} data-warning={w.code}>
                {w.message} <span class="muted small">({w.setting})</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      {runActions(report) !== null && <p class="alert alert--warn q-run-actions">{runActions(report)}</p>}

      {control ? (
        <section class="q-kpis" aria-label={`Agreement on ${control.title}`}>
          {agreementKpis(control).map((kpi) => (
            <div class="q-kpi" key={kpi.key} data-kpi={kpi.key} title={kpi.help}>
              <span class="q-kpi__label">{kpi.label}</span>
              <span class="q-kpi__value">{kpi.value}</span>
              <span class="q-kpi__detail">{kpi.detail}</span>
            </div>
          ))}
        </section>
      ) : (
        <p class="muted">This project's label schema has no control that agreement can be computed for.</p>
      )}

      <Section
        id="quality-history"
        title="Agreement over time"
        apiBase={apiBase}
        csv="history"
        extra={
          <div class="q-segmented" role="radiogroup" aria-label="Metric">
            {(["alpha", "percent"] as const).map((m) => (
              <button key={m} type="button" role="radio" aria-checked={metric === m} class={metric === m ? "is-on" : ""} onClick={() => setMetric(m)} title={HELP[m]}>
                {m === "alpha" ? "Alpha" : "Percent"}
              </button>
            ))}
          </div>
        }
      >
        <AgreementChart series={series} metric={metric} />
      </Section>

      <Section
        id="quality-annotators"
        title="Annotators"
        apiBase={apiBase}
        csv="annotators"
        intro={`${plural(annotators.length, "annotator")} · ${pausedNow === 0 ? "none paused" : `${fmtInt(pausedNow)} paused`} · ${plural(report.gold.items, "gold item")}. Sorted by gold accuracy, lowest first; click a column to sort.`}
      >
        <AnnotatorTable
          rows={annotators}
          canManage={canManage}
          onResume={(row) => void resume(row)}
          resume={{ busy: resumeBusy, error: resumeError }}
        />
      </Section>

      {control && (
        <div class="q-grid">
          <Section
            id="quality-pairs"
            title={`Agreement between annotators · ${control.title}`}
            apiBase={apiBase}
            csv="pairs"
            intro={HELP.kappa}
            wide={heat !== null && heat.names.length > WIDE_HEATMAP}
          >
            {heat ? <Heatmap view={heat} key={control.name} /> : <p class="muted q-empty">No two annotators have labeled the same item yet.</p>}
          </Section>
          <Section id="quality-confusion" title={`Confusion with consensus · ${control.title}`} apiBase={apiBase} csv="confusion" intro={HELP.confusion}>
            <ConfusionMatrix control={control} />
          </Section>
          <Section id="quality-labels" title={`Labels · ${control.title}`} apiBase={apiBase} csv="labels">
            <LabelTable rows={control.labels} />
          </Section>
          <Section id="quality-slices" title={`Slices · ${control.title}`} apiBase={apiBase} csv="slices" intro="Agreement within each value of an item metadata field. A slice well below overall points at data the guidelines do not cover.">
            <SliceTable rows={slicesFor(report, control.name)} overall={control.agreement.alpha} />
          </Section>
        </div>
      )}

      {(report.gold.by_control ?? []).length > 0 && (
        <Section
          id="quality-gold-controls"
          title="Gold accuracy per control"
          apiBase={apiBase}
          intro="Mean score of all annotators' gold answers, per control. Only controls that count decide pass/fail and pausing; free text is reported but does not count unless turned on."
        >
          <table class="table q-table" data-testid="gold-by-control">
            <thead>
              <tr>
                <th scope="col">Control</th>
                <th scope="col">Counts</th>
                <th scope="col" class="num">Answers</th>
                <th scope="col" class="num">Accuracy</th>
              </tr>
            </thead>
            <tbody>
              {(report.gold.by_control ?? []).map((row) => (
                <tr key={row.control} data-control={row.control}>
                  <th scope="row">{titles.get(row.control) ?? row.control}</th>
                  <td>{row.counts ? "yes" : "no (reported only)"}</td>
                  <td class="num">{fmtInt(row.answers)}</td>
                  <td class="num">{row.accuracy === null ? "–" : `${(row.accuracy * 100).toFixed(0)}%`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}

      <Section
        id="quality-gold"
        title="Gold items that may be wrong"
        apiBase={apiBase}
        csv="gold"
        intro={`Out of ${plural(report.gold.items, "gold item")}, these are answered differently by most annotators. ${HELP.failure}`}
      >
        <GoldTable flagged={report.gold.flagged} titles={titles} />
      </Section>

      <Section id="quality-models" title="Model evaluation" apiBase={apiBase} csv="models" intro="Imported model predictions scored against consensus or gold answers.">
        <ModelTable rows={report.models} titles={titles} />
      </Section>
    </div>
  );
}
