/** The dashboard's tables. Usernames, labels and slice values are untrusted: JSX text only. */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

import type { AnnotatorRow, CsvTable, GoldFlag, LabelRow, ModelRow, SliceRow } from "./types";
import {
  DASH,
  HELP,
  csvUrl,
  fmtCoef,
  fmtInt,
  fmtPct,
  fmtRate,
  fmtSeconds,
  referenceText,
  sortAnnotators,
  type AnnotatorSortKey,
  type SortDir,
} from "./view-model";

/** A card with a heading, an optional intro line and a CSV download link for its table. */
export function Section(props: {
  id: string;
  title: string;
  apiBase: string;
  csv?: CsvTable;
  intro?: ComponentChildren;
  extra?: ComponentChildren;
  /** Span the whole grid row (inside `.q-grid`). */
  wide?: boolean;
  children: ComponentChildren;
}) {
  const headingId = `${props.id}-title`;
  return (
    <section class={`card q-card${props.wide ? " q-card--wide" : ""}`} id={props.id} aria-labelledby={headingId}>
      <div class="card-head">
        <h2 id={headingId}>{props.title}</h2>
        <div class="q-card__tools">
          {props.extra}
          {props.csv !== undefined && (
            <a class="button button--ghost button--small" href={csvUrl(props.apiBase, props.csv)} download>
              CSV<span class="sr-only"> of {props.title.toLowerCase()}</span>
            </a>
          )}
        </div>
      </div>
      {props.intro !== undefined && <p class="muted small q-intro">{props.intro}</p>}
      {props.children}
    </section>
  );
}

// --- Annotators --------------------------------------------------------------------------------------

interface Column {
  key: AnnotatorSortKey;
  label: string;
  num: boolean;
  title?: string;
  firstDir: SortDir;
}

const COLUMNS: Column[] = [
  { key: "username", label: "Annotator", num: false, firstDir: "asc" },
  { key: "gold_accuracy", label: "Gold accuracy", num: true, title: HELP.gold, firstDir: "asc" },
  { key: "agreement", label: "Agreement", num: true, title: HELP.agreement, firstDir: "asc" },
  { key: "median_active_ms", label: "Median time", num: true, title: "Median active time per item", firstDir: "asc" },
  { key: "per_hour", label: "Per hour", num: true, title: "Items per active hour", firstDir: "desc" },
  { key: "annotations", label: "Annotations", num: true, firstDir: "desc" },
  { key: "paused", label: "Status", num: false, firstDir: "desc" },
];

export interface ResumeState {
  busy: ReadonlySet<number>;
  error: string | null;
}

export function AnnotatorTable(props: {
  rows: readonly AnnotatorRow[];
  canManage: boolean;
  onResume: (row: AnnotatorRow) => void;
  resume: ResumeState;
}) {
  const [sort, setSort] = useState<{ key: AnnotatorSortKey; dir: SortDir }>({ key: "gold_accuracy", dir: "asc" });
  if (props.rows.length === 0) return <p class="muted q-empty">No annotator has submitted anything yet.</p>;
  const rows = sortAnnotators(props.rows, sort.key, sort.dir);
  const toggle = (column: Column) =>
    setSort((s) => (s.key === column.key ? { key: s.key, dir: s.dir === "asc" ? "desc" : "asc" } : { key: column.key, dir: column.firstDir }));

  return (
    <>
      {props.resume.error !== null && (
        <p class="alert alert--error" role="alert">
          {props.resume.error}
        </p>
      )}
      <div class="q-scroll">
        <table class="table table--dense q-table" id="annotators-table">
          <thead>
            <tr>
              {COLUMNS.map((column) => {
                const sorted = sort.key === column.key;
                return (
                  <th
                    key={column.key}
                    scope="col"
                    class={column.num ? "num" : undefined}
                    aria-sort={sorted ? (sort.dir === "asc" ? "ascending" : "descending") : "none"}
                  >
                    <button type="button" class="q-sort" title={column.title} onClick={() => toggle(column)}>
                      {column.label}
                      <span class="q-sort__arrow" aria-hidden="true">
                        {sorted ? (sort.dir === "asc" ? "▲" : "▼") : "↕"}
                      </span>
                    </button>
                  </th>
                );
              })}
              {props.canManage && (
                <th scope="col" class="actions">
                  <span class="sr-only">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id} class={row.paused ? "q-row--paused" : undefined} data-annotator={row.id}>
                <td class="q-name">{row.username}</td>
                <td class="num">
                  <Bar value={row.gold_accuracy} text={fmtPct(row.gold_accuracy)} warn={row.low_quality} />
                  <span class="q-sub">{row.gold_n > 0 ? `${fmtInt(row.gold_n)} gold` : "no gold yet"}</span>
                </td>
                <td class="num">{fmtCoef(row.agreement)}</td>
                <td class="num">{fmtSeconds(row.median_active_ms)}</td>
                <td class="num">{fmtRate(row.per_hour)}</td>
                <td class="num">{fmtInt(row.annotations)}</td>
                <td>
                  {row.paused ? (
                    <span class="badge badge--danger" title={row.paused_reason || undefined}>
                      Paused
                    </span>
                  ) : row.low_quality ? (
                    <span class="badge badge--warn">Low quality</span>
                  ) : (
                    <span class="badge badge--ok">Active</span>
                  )}
                  {row.paused && row.paused_reason !== "" && <span class="q-sub q-reason">{row.paused_reason}</span>}
                </td>
                {props.canManage && (
                  <td class="actions">
                    {row.paused && (
                      <button
                        type="button"
                        class="button button--ghost button--small"
                        disabled={props.resume.busy.has(row.id)}
                        onClick={() => props.onResume(row)}
                      >
                        {props.resume.busy.has(row.id) ? "Re-qualifying…" : "Re-qualify"}
                        <span class="sr-only"> {row.username}</span>
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** A number with a thin proportion bar under it (for 0..1 values). */
function Bar({ value, text, warn }: { value: number | null; text: string; warn?: boolean }) {
  return (
    <span class="q-bar">
      <span class="q-bar__text">{text}</span>
      {value !== null && Number.isFinite(value) && (
        <span class="q-bar__track" aria-hidden="true">
          <span class={`q-bar__fill${warn ? " q-bar__fill--warn" : ""}`} style={{ width: `${Math.max(0, Math.min(1, value)) * 100}%` }} />
        </span>
      )}
    </span>
  );
}

// --- Labels ------------------------------------------------------------------------------------------

export function LabelTable({ rows }: { rows: readonly LabelRow[] }) {
  if (rows.length === 0) return <p class="muted q-empty">No labels used yet.</p>;
  return (
    <div class="q-scroll">
      <table class="table table--dense q-table q-table--wrap" id="labels-table">
        <thead>
          <tr>
            <th scope="col">Label</th>
            <th scope="col" class="num" title="Answers with this label">Answers</th>
            <th scope="col" class="num" title="Items whose consensus answer is this label">Consensus</th>
            <th scope="col" class="num" title={HELP.specific}>Specific agr.</th>
            <th scope="col" class="num" title={HELP.alphaVsRest}>Alpha vs rest</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.label}>
              <td class="q-name">{row.label}</td>
              <td class="num">{fmtInt(row.annotations)}</td>
              <td class="num">{fmtInt(row.consensus)}</td>
              <td class="num">
                <Bar value={row.specific_agreement} text={fmtCoef(row.specific_agreement)} />
              </td>
              <td class="num">{fmtCoef(row.alpha_vs_rest)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// --- Slices ------------------------------------------------------------------------------------------

export function SliceTable({ rows, overall }: { rows: readonly SliceRow[]; overall: number | null }) {
  if (rows.length === 0) {
    return <p class="muted q-empty">No slices: add metadata fields to items (e.g. language) to compare agreement across them.</p>;
  }
  return (
    <div class="q-scroll">
      <table class="table table--dense q-table q-table--wrap" id="slices-table">
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Value</th>
            <th scope="col" class="num">Items</th>
            <th scope="col" class="num" title={HELP.alpha}>Alpha</th>
            <th scope="col" class="num" title="Alpha of the slice minus the control's overall alpha">vs overall</th>
            <th scope="col" class="num" title={HELP.percent}>% agr.</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const delta = row.alpha !== null && overall !== null ? row.alpha - overall : null;
            return (
              <tr key={`${row.key}\u0000${row.value}`}>
                <td class="q-name">{row.key}</td>
                <td class="q-name">{row.value}</td>
                <td class="num">{fmtInt(row.items)}</td>
                <td class="num">{fmtCoef(row.alpha)}</td>
                <td class={`num ${delta !== null && delta <= -0.1 ? "q-bad" : ""}`}>
                  {delta === null ? DASH : `${delta >= 0 ? "+" : "−"}${fmtCoef(Math.abs(delta))}`}
                </td>
                <td class="num">{fmtPct(row.percent)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

// --- Gold ----------------------------------------------------------------------------------------------

export function GoldTable({ flagged, titles }: { flagged: readonly GoldFlag[]; titles: ReadonlyMap<string, string> }) {
  if (flagged.length === 0) return <p class="muted q-empty">No gold item looks wrong: annotators mostly match every reference answer.</p>;
  const rows = [...flagged].sort((a, b) => b.failure_rate - a.failure_rate);
  return (
    <div class="q-scroll">
      <table class="table table--dense q-table" id="gold-table">
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col">Control</th>
            <th scope="col">Reference answer</th>
            <th scope="col" class="num">Answers</th>
            <th scope="col" class="num" title={HELP.failure}>Failure rate</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={`${row.item_id}-${row.control}`}>
              <td class="nowrap">{row.item_url ? <a href={row.item_url}>{row.item_key ?? `#${row.item_id}`}</a> : `#${row.item_id}`}</td>
              <td>{titles.get(row.control) ?? row.control}</td>
              <td class="q-name">{referenceText(row.reference)}</td>
              <td class="num">{fmtInt(row.answers)}</td>
              <td class="num">
                <Bar value={row.failure_rate} text={fmtPct(row.failure_rate)} warn />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// --- Models --------------------------------------------------------------------------------------------

export function ModelTable({ rows, titles }: { rows: readonly ModelRow[]; titles: ReadonlyMap<string, string> }) {
  if (rows.length === 0) return <p class="muted q-empty">No model predictions imported yet.</p>;
  return (
    <div class="q-scroll">
      <table class="table table--dense q-table" id="models-table">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Control</th>
            <th scope="col">Against</th>
            <th scope="col" class="num">Items</th>
            <th scope="col" class="num">Accuracy</th>
            <th scope="col" class="num">Macro F1</th>
            <th scope="col">Weakest label</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const weakest = [...row.labels].filter((l) => l.f1 !== null).sort((a, b) => (a.f1 ?? 0) - (b.f1 ?? 0))[0];
            return (
              <tr key={`${row.model}\u0000${row.model_version}\u0000${row.control}\u0000${row.against}`}>
                <td class="q-name">
                  {row.model} <span class="muted">{row.model_version}</span>
                </td>
                <td>{titles.get(row.control) ?? row.control}</td>
                <td>{row.against === "gold" ? "Gold answers" : "Consensus"}</td>
                <td class="num">{fmtInt(row.n)}</td>
                <td class="num">{fmtPct(row.accuracy)}</td>
                <td class="num">{fmtCoef(row.f1_macro)}</td>
                <td class="q-name">{weakest !== undefined ? `${weakest.label} (F1 ${fmtCoef(weakest.f1)})` : DASH}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
