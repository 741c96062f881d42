/**
 * Relations drawn over the text: for each relation of a relations control whose spans are shown in
 * this text view, an arc from the "from" span to the "to" span (an arrowhead unless the control is
 * undirected) with the relation's label at its top. Drawn in an SVG laid over the text (no pointer
 * events, hidden from assistive technology: the relations panel's list is the accessible form),
 * measured from the rendered runs after every render and when the text reflows.
 */
import { useLayoutEffect, useRef, useState } from "preact/hooks";

import type { Control, LabelingContext } from "../../contract";
import { colorOf } from "./common";
import { relationsOf } from "./relations";
import { spansOf } from "./spans";

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Arrow {
  key: string;
  path: string;
  label: string;
  labelAt: { x: number; y: number };
  color: string;
  directed: boolean;
}

/** An arc from the top middle of `a` to the top middle of `b`, rising with the distance between
 * them (and by `lane` steps, so arcs between the same pair of lines do not coincide). */
export function arcBetween(a: Box, b: Box, lane = 0): { path: string; top: { x: number; y: number } } {
  const x1 = a.x + a.width / 2;
  const y1 = a.y;
  const x2 = b.x + b.width / 2;
  const y2 = b.y;
  const rise = Math.min(60, 14 + Math.abs(x2 - x1) / 8 + Math.abs(y2 - y1) / 4) + lane * 7;
  const top = Math.min(y1, y2) - rise;
  const path = `M ${r(x1)} ${r(y1)} C ${r(x1)} ${r(top)}, ${r(x2)} ${r(top)}, ${r(x2)} ${r(y2)}`;
  // The curve's highest point (t = 1/2 of the cubic): 3/4 of the way up to its control points.
  return { path, top: { x: r((x1 + x2) / 2), y: r(0.125 * (y1 + y2) + 0.75 * top) } };
}

const r = (v: number): number => Math.round(v * 10) / 10;

/** The relations controls drawn in a text view hosting `spanControls`. */
export function relationControlsFor(ctx: LabelingContext, spanControls: readonly Control[]): Control[] {
  const names = new Set(spanControls.map((c) => c.name));
  return ctx.definition.controls.filter((c) => c.type === "relations" && typeof c.spans === "string" && names.has(c.spans) && ctx.visible(c.name));
}

/** Each relation's arc from measured span boxes (`boxOf(spans control, span id)`, null when not shown). */
export function arrowsFor(relationControls: readonly Control[], ctx: LabelingContext, boxOf: (control: string, id: string) => Box | null): Arrow[] {
  const arrows: Arrow[] = [];
  const lanes = new Map<string, number>();
  for (const control of relationControls) {
    const spansControl = control.spans as string;
    const known = new Set(spansOf(ctx.result[spansControl]).map((s) => s.id));
    relationsOf(ctx.result[control.name]).forEach((relation, i) => {
      if (!known.has(relation.from) || !known.has(relation.to)) return;
      const a = boxOf(spansControl, relation.from);
      const b = boxOf(spansControl, relation.to);
      if (!a || !b) return;
      const pair = [relation.from, relation.to].sort().join("|");
      const lane = lanes.get(pair) ?? 0;
      lanes.set(pair, lane + 1);
      const { path, top } = arcBetween(a, b, lane);
      arrows.push({
        key: `${control.name}:${i}`,
        path,
        label: relation.label,
        labelAt: top,
        color: colorOf(control, relation.label),
        directed: control.directed !== false,
      });
    });
  }
  return arrows;
}

/** Measures span boxes for one layout pass: the runs (in source order) and the view's origin are
 * read once, each span is found by binary search on its start, and each box is measured once. */
export function spanMeasurer(root: HTMLElement, ctx: LabelingContext): (control: string, id: string) => Box | null {
  const runs = Array.from(root.querySelectorAll<HTMLElement>("[data-s][data-e]"), (el) => ({
    s: Number(el.dataset.s),
    e: Number(el.dataset.e),
    el,
  })).filter((r) => r.e > r.s);
  runs.sort((a, b) => a.s - b.s);
  const origin = root.getBoundingClientRect();
  const boxes = new Map<string, Box | null>();
  return (control, id) => {
    const key = `${control}\u0000${id}`;
    if (boxes.has(key)) return boxes.get(key)!;
    let box: Box | null = null;
    const span = spansOf(ctx.result[control]).find((x) => x.id === id);
    if (span) {
      let lo = 0;
      let hi = runs.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (runs[mid]!.s < span.start) lo = mid + 1;
        else hi = mid;
      }
      const run = runs[lo];
      if (run && run.e <= span.end) {
        const rect = run.el.getClientRects()[0] ?? run.el.getBoundingClientRect();
        box = { x: rect.left - origin.left, y: rect.top - origin.top, width: rect.width, height: rect.height };
      }
    }
    boxes.set(key, box);
    return box;
  };
}

export function RelationArrows({ root, controls, ctx }: { root: { current: HTMLElement | null }; controls: readonly Control[]; ctx: LabelingContext }) {
  const [arrows, setArrows] = useState<Arrow[]>([]);
  const [size, setSize] = useState({ width: 0, height: 0 });
  const [reflow, setReflow] = useState(0);
  const last = useRef("");
  useLayoutEffect(() => {
    const el = root.current;
    if (!el) return;
    const next = arrowsFor(controls, ctx, spanMeasurer(el, ctx));
    const signature = JSON.stringify([next, el.scrollWidth, el.scrollHeight]);
    if (signature === last.current) return; // nothing moved: no second render
    last.current = signature;
    setArrows(next);
    setSize({ width: el.scrollWidth, height: el.scrollHeight });
  });
  useLayoutEffect(() => {
    const el = root.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => setReflow((n) => n + 1));
    observer.observe(el);
    return () => observer.disconnect();
  }, [root]);
  void reflow;
  if (arrows.length === 0) return null;
  return (
    <svg class="tx-arrows" width={size.width} height={size.height} aria-hidden="true" data-relations={arrows.length}>
      <defs>
        {[...new Set(arrows.map((a) => a.color))].map((color) => (
          <marker key={color} id={`tx-head-${color.replace(/[^a-zA-Z0-9]/g, "")}`} viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 8 4 L 0 8 z" fill={color} />
          </marker>
        ))}
      </defs>
      {arrows.map((a) => (
        <g key={a.key} class="tx-arrow" data-relation={a.label}>
          <path d={a.path} fill="none" stroke={a.color} stroke-width="1.6" marker-end={a.directed ? `url(#tx-head-${a.color.replace(/[^a-zA-Z0-9]/g, "")})` : undefined} />
          <text x={a.labelAt.x} y={a.labelAt.y - 3} text-anchor="middle" class="tx-arrow__label" fill={a.color}>
            {a.label}
          </text>
        </g>
      ))}
    </svg>
  );
}
