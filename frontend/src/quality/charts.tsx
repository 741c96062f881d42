/**
 * The dashboard's charts, drawn as plain inline SVG (no chart library): agreement over time and the
 * annotator x annotator kappa heatmap; the confusion matrix is a shaded HTML table (it is a table).
 * Every name in here is untrusted and is rendered as JSX text or attribute values only.
 */
import { useRef, useState } from "preact/hooks";

import {
  DASH,
  HELP,
  confusionView,
  fmtCoef,
  fmtInt,
  fmtPct,
  kappaColor,
  truncate,
  yDomain,
  type HeatmapView,
  type HistoryMetric,
  type Series,
} from "./view-model";
import type { ControlReport } from "./types";

// --- Agreement over time ---------------------------------------------------------------------------

const CHART = { width: 720, height: 240, left: 44, right: 16, top: 12, bottom: 30 };

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "14 Mar 09:04" in local time, independent of the browser locale. */
export function shortDateTime(t: number): string {
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getDate()} ${MONTHS[d.getMonth()]} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** An axis label as precise as the span needs: seconds within an hour, dates beyond two days. */
export function axisTime(t: number, span: number): string {
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (span < 3_600_000) return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (span > 2 * 86_400_000) return `${d.getDate()} ${MONTHS[d.getMonth()]}`;
  return shortDateTime(t);
}

export function AgreementChart({ series, metric }: { series: readonly Series[]; metric: HistoryMetric }) {
  if (series.length === 0) {
    return <p class="muted q-empty">No history yet: each run adds a point.</p>;
  }
  const [yMin, yMax] = yDomain(series);
  const times = series.flatMap((s) => s.points.map((p) => p.t));
  const tMin = Math.min(...times);
  const tMax = Math.max(...times);
  const plotW = CHART.width - CHART.left - CHART.right;
  const plotH = CHART.height - CHART.top - CHART.bottom;
  const x = (t: number) => CHART.left + (tMax === tMin ? plotW / 2 : ((t - tMin) / (tMax - tMin)) * plotW);
  const y = (v: number) => CHART.top + ((yMax - v) / (yMax - yMin)) * plotH;
  const ticks: number[] = [];
  for (let v = yMin; v <= yMax + 1e-9; v += 0.25) ticks.push(Math.round(v * 100) / 100);
  const xTicks = tMax === tMin ? [tMin] : [tMin, tMin + (tMax - tMin) / 2, tMax];
  const fmt = metric === "alpha" ? fmtCoef : fmtPct;
  const metricName = metric === "alpha" ? "Krippendorff's alpha" : "percent agreement";
  const latest = series.map((s) => `${s.title} ${fmt(s.points[s.points.length - 1]!.v)}`).join(", ");

  return (
    <figure class="q-chart">
      <ul class="q-legend" aria-label="Controls">
        {series.map((s) => (
          <li key={s.control}>
            <span class="q-swatch q-swatch--line" style={{ background: s.color }} aria-hidden="true" />
            {s.title}
          </li>
        ))}
      </ul>
      <svg
        class="q-chart__svg"
        viewBox={`0 0 ${CHART.width} ${CHART.height}`}
        role="img"
        aria-label={`${metricName} over ${fmtInt(new Set(times).size)} runs; latest: ${latest}`}
      >
        {ticks.map((v) => (
          <g key={v}>
            <line class={v === 0 ? "q-axis" : "q-grid"} x1={CHART.left} x2={CHART.width - CHART.right} y1={y(v)} y2={y(v)} />
            <text class="q-tick" x={CHART.left - 8} y={y(v)} text-anchor="end" dominant-baseline="middle">
              {metric === "alpha" ? v.toFixed(2) : `${Math.round(v * 100)}%`}
            </text>
          </g>
        ))}
        {xTicks.map((t, i) => (
          <text
            key={t}
            class="q-tick"
            x={x(t)}
            y={CHART.height - 8}
            text-anchor={xTicks.length === 1 ? "middle" : i === 0 ? "start" : i === xTicks.length - 1 ? "end" : "middle"}
          >
            {axisTime(t, tMax - tMin)}
          </text>
        ))}
        {series.map((s) => (
          <g key={s.control} class="q-series">
            {s.points.length > 1 && (
              <polyline
                fill="none"
                stroke={s.color}
                stroke-width="2.25"
                stroke-linejoin="round"
                points={s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ")}
              />
            )}
            {s.points.map((p) => (
              <circle key={p.runId} cx={x(p.t)} cy={y(p.v)} r="3.5" fill="#fff" stroke={s.color} stroke-width="2">
                <title>{`${s.title}: ${fmt(p.v)} · run ${p.runId} · ${shortDateTime(p.t)} · ${fmtInt(p.annotations)} annotations`}</title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
    </figure>
  );
}

// --- Heatmap ---------------------------------------------------------------------------------------

const HEAT = { label: 118, header: 92 };

export function Heatmap({ view }: { view: HeatmapView }) {
  const n = view.names.length;
  const cell = n <= 6 ? 56 : n <= 12 ? 44 : 30;
  const showText = cell >= 44;
  const width = HEAT.label + n * cell + 64; // room for the last rotated column name
  const height = HEAT.header + n * cell + 4;
  const [focus, setFocus] = useState(n > 1 ? 1 : 0); // roving tab stop, starts off the diagonal
  const [active, setActive] = useState<number | null>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  const shown = active !== null ? view.cells[active] : undefined;

  const move = (event: KeyboardEvent, index: number) => {
    const row = Math.floor(index / n);
    const col = index % n;
    const moves: Record<string, [number, number]> = {
      ArrowRight: [row, Math.min(n - 1, col + 1)],
      ArrowLeft: [row, Math.max(0, col - 1)],
      ArrowDown: [Math.min(n - 1, row + 1), col],
      ArrowUp: [Math.max(0, row - 1), col],
      Home: [row, 0],
      End: [row, n - 1],
    };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const next = target[0] * n + target[1];
    setFocus(next);
    setActive(next);
    svgRef.current?.querySelector<SVGRectElement>(`[data-cell="${next}"]`)?.focus();
  };

  return (
    <div class="q-heatmap">
      <div class="q-scroll">
        <svg
          ref={svgRef}
          class="q-heatmap__svg"
          width={width}
          height={height}
          viewBox={`0 0 ${width} ${height}`}
          role="grid"
          aria-label="Cohen's kappa between annotators. Use the arrow keys to move between cells."
        >
          <defs>
            <pattern id="q-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
              <rect width="6" height="6" fill="#f8fafc" />
              <line x1="0" y1="0" x2="0" y2="6" stroke="#aab2c0" stroke-width="2" />
            </pattern>
          </defs>
          {view.names.map((name, i) => (
            <g key={`c${i}`}>
              <text
                class="q-heatmap__name"
                transform={`translate(${HEAT.label + i * cell + cell / 2 + 4}, ${HEAT.header - 8}) rotate(-45)`}
              >
                <title>{name}</title>
                {truncate(name, 12)}
              </text>
              <text class="q-heatmap__name" x={HEAT.label - 8} y={HEAT.header + i * cell + cell / 2} text-anchor="end" dominant-baseline="middle">
                <title>{name}</title>
                {truncate(name, 14)}
              </text>
            </g>
          ))}
          {Array.from({ length: n }, (_, row) => (
            <g role="row" key={`r${row}`}>
              {view.cells.slice(row * n, row * n + n).map((c) => {
                const index = c.row * n + c.col;
                const cx = HEAT.label + c.col * cell;
                const cy = HEAT.header + c.row * cell;
                return (
                  <g key={index} role="gridcell">
                    <rect
                      data-cell={index}
                      class={`q-heatmap__cell${c.self ? " q-heatmap__cell--self" : ""}${c.fill === null ? " q-heatmap__cell--empty" : ""}`}
                      x={cx + 1}
                      y={cy + 1}
                      width={cell - 2}
                      height={cell - 2}
                      rx="3"
                      fill={c.fill ?? "url(#q-hatch)"}
                      tabindex={index === focus ? 0 : -1}
                      aria-label={c.label}
                      onFocus={() => {
                        setFocus(index);
                        setActive(index);
                      }}
                      onMouseEnter={() => setActive(index)}
                      onBlur={() => setActive((current) => (current === index ? null : current))}
                      onKeyDown={(event) => move(event, index)}
                    >
                      <title>{c.label}</title>
                    </rect>
                    {showText && c.text !== "" && (
                      <text class="q-heatmap__value" x={cx + cell / 2} y={cy + cell / 2} fill={c.ink} text-anchor="middle" dominant-baseline="central" aria-hidden="true">
                        {c.text}
                      </text>
                    )}
                  </g>
                );
              })}
            </g>
          ))}
          {shown !== undefined && (
            // The active cell's ring: dark outside, white inside, visible on every fill of the scale.
            <g class="q-heatmap__ring" aria-hidden="true">
              <rect x={HEAT.label + shown.col * cell - 0.5} y={HEAT.header + shown.row * cell - 0.5} width={cell + 1} height={cell + 1} rx="4" fill="none" stroke="#111827" stroke-width="2" />
              <rect x={HEAT.label + shown.col * cell + 2} y={HEAT.header + shown.row * cell + 2} width={cell - 4} height={cell - 4} rx="2" fill="none" stroke="#fff" stroke-width="1.5" />
            </g>
          )}
        </svg>
      </div>
      <p class="q-heatmap__detail small" aria-live="polite">
        {shown !== undefined ? shown.label : "Hover or focus a cell to see the pair's kappa and how many items they share."}
      </p>
      <KappaLegend />
    </div>
  );
}

/** The colour scale from -1 to 1, plus the two cell kinds that carry no colour. */
export function KappaLegend() {
  const stops = [-1, -0.5, 0, 0.25, 0.5, 0.75, 1];
  return (
    <div class="q-scale" aria-label="Colour scale">
      <svg width="220" height="34" viewBox="0 0 220 34" role="img" aria-label="Kappa colour scale from -1 (red) through 0 (grey) to 1 (indigo)">
        <defs>
          <linearGradient id="q-kappa-scale">
            {stops.map((v) => (
              <stop key={v} offset={`${((v + 1) / 2) * 100}%`} stop-color={kappaColor(v)} />
            ))}
          </linearGradient>
        </defs>
        <rect x="6" y="2" width="208" height="12" rx="3" fill="url(#q-kappa-scale)" stroke="#e3e6ee" />
        {[-1, 0, 0.5, 1].map((v) => (
          <text key={v} class="q-tick" x={6 + ((v + 1) / 2) * 208} y="30" text-anchor={v === -1 ? "start" : v === 1 ? "end" : "middle"}>
            {v.toFixed(v === 0.5 ? 1 : 0)}
          </text>
        ))}
      </svg>
      <span class="q-scale__item">
        <svg width="16" height="16" aria-hidden="true">
          <rect width="16" height="16" rx="3" fill="url(#q-hatch)" stroke="#cbd1dc" />
        </svg>
        no shared items
      </span>
      <span class="q-scale__item">
        <span class="q-swatch q-swatch--self" aria-hidden="true" />
        same annotator
      </span>
    </div>
  );
}

// --- Confusion matrix ------------------------------------------------------------------------------

export function ConfusionMatrix({ control }: { control: ControlReport }) {
  const view = confusionView(control);
  if (view === null) return <p class="muted q-empty">No consensus answers to compare with yet.</p>;
  return (
    <div class="q-scroll">
      <table class="q-confusion">
        <caption class="sr-only">
          Confusion of annotators' answers against consensus for {control.title}. {HELP.confusion}
        </caption>
        <thead>
          <tr>
            <th scope="col" class="q-confusion__corner">
              <span>Consensus ↓</span> <span>Annotator →</span>
            </th>
            {view.labels.map((label) => (
              <th scope="col" key={label} title={label}>
                {truncate(label, 18)}
              </th>
            ))}
            <th scope="col" class="num">
              Total
            </th>
          </tr>
        </thead>
        <tbody>
          {view.rows.map((row) => (
            <tr key={row.label}>
              <th scope="row" title={row.label}>
                {truncate(row.label, 22)}
              </th>
              {row.cells.map((c, i) => (
                <td key={i} class="q-confusion__cell" style={{ background: c.fill, color: c.ink }} title={c.label}>
                  <span class="q-confusion__count">{fmtInt(c.count)}</span>
                  <span class="q-confusion__share">{c.rowShare === null ? DASH : fmtPct(c.rowShare)}</span>
                </td>
              ))}
              <td class="num">{fmtInt(row.total)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
