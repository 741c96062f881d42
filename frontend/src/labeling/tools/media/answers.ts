/**
 * Reading answers (which may come from drafts, predictions or other annotators: anything) into the
 * shapes of docs/SCHEMA.md, dropping what is malformed; labels, keypoint names and colours of a
 * control. Framework-free.
 */
import type { Control, Label } from "../../contract";
import type { Rect } from "./geometry";
import type { FrameBox, Segment, Track } from "./timeline";

export interface BoxAnswer extends Rect {
  label: string;
}

export interface PolygonAnswer {
  points: [number, number][];
  label: string;
}

export interface KeypointPoint {
  name: string;
  x: number;
  y: number;
  visibility: 0 | 1 | 2;
}

export interface KeypointInstance {
  label?: string;
  points: KeypointPoint[];
}

const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const obj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function boxesOf(answer: unknown): BoxAnswer[] {
  if (!Array.isArray(answer)) return [];
  return answer
    .filter((b): b is Record<string, unknown> => obj(b) && num(b.x) && num(b.y) && num(b.width) && num(b.height) && typeof b.label === "string")
    .map((b) => ({ x: b.x as number, y: b.y as number, width: b.width as number, height: b.height as number, label: b.label as string }));
}

export function polygonsOf(answer: unknown): PolygonAnswer[] {
  if (!Array.isArray(answer)) return [];
  const out: PolygonAnswer[] = [];
  for (const p of answer) {
    if (!obj(p) || typeof p.label !== "string" || !Array.isArray(p.points)) continue;
    const points = p.points.filter((q): q is [number, number] => Array.isArray(q) && q.length === 2 && num(q[0]) && num(q[1]));
    if (points.length >= 3) out.push({ label: p.label, points: points.map(([x, y]) => [x, y]) });
  }
  return out;
}

export function keypointInstancesOf(answer: unknown): KeypointInstance[] {
  if (!Array.isArray(answer)) return [];
  const out: KeypointInstance[] = [];
  for (const inst of answer) {
    if (!obj(inst) || !Array.isArray(inst.points)) continue;
    const points = inst.points
      .filter((q): q is Record<string, unknown> => obj(q) && typeof q.name === "string" && num(q.x) && num(q.y) && (q.visibility === 0 || q.visibility === 1 || q.visibility === 2))
      .map((q) => ({ name: q.name as string, x: q.x as number, y: q.y as number, visibility: q.visibility as 0 | 1 | 2 }));
    out.push(typeof inst.label === "string" ? { label: inst.label, points } : { points });
  }
  return out;
}

export function segmentsOf(answer: unknown): Segment[] {
  if (!Array.isArray(answer)) return [];
  return answer
    .filter((s): s is Record<string, unknown> => obj(s) && num(s.start) && num(s.end) && typeof s.label === "string")
    .map((s) => ({ start: s.start as number, end: s.end as number, label: s.label as string }));
}

export function tracksOf(answer: unknown): Track[] {
  if (!Array.isArray(answer)) return [];
  const out: Track[] = [];
  for (const t of answer) {
    if (!obj(t) || typeof t.label !== "string" || !Array.isArray(t.frames)) continue;
    const frames: FrameBox[] = t.frames
      .filter((f): f is Record<string, unknown> => obj(f) && Number.isInteger(f.frame) && num(f.x) && num(f.y) && num(f.width) && num(f.height))
      .map((f) => ({ frame: f.frame as number, x: f.x as number, y: f.y as number, width: f.width as number, height: f.height as number }))
      .sort((a, b) => a.frame - b.frame);
    if (frames.length) out.push({ id: typeof t.id === "string" || typeof t.id === "number" ? String(t.id) : `t${out.length + 1}`, label: t.label, frames });
  }
  return out;
}

// --- labels and colours -----------------------------------------------------------------------

const PALETTE = ["#e53935", "#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#00acc1", "#d81b60", "#7cb342", "#5e35b1", "#fdd835"];
const COLOR = /^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

export function labelList(list: unknown): Label[] {
  return Array.isArray(list) ? list.filter((l): l is Label => obj(l) && typeof l.value === "string") : [];
}

export const labelsOf = (control: Control): Label[] => labelList(control.labels);
export const keypointNamesOf = (control: Control): Label[] => labelList(control.keypoints);

export function skeletonOf(control: Control): [string, string][] {
  const s = control.skeleton;
  return Array.isArray(s) ? s.filter((e): e is [string, string] => Array.isArray(e) && e.length === 2 && typeof e[0] === "string" && typeof e[1] === "string") : [];
}

const expand = (c: string) => (c.length === 4 ? `#${[...c.slice(1)].map((x) => x + x).join("")}` : c).toLowerCase();

/** The label's own colour when valid, else a palette colour by its position (stable per schema). */
export function colorIn(labels: readonly Label[], value: string | undefined): string {
  const index = labels.findIndex((l) => l.value === value);
  const color = labels[index]?.color;
  if (typeof color === "string" && COLOR.test(color)) return expand(color);
  return PALETTE[Math.max(index, 0) % PALETTE.length]!;
}

export const labelColor = (control: Control, value: string | undefined): string => colorIn(labelsOf(control), value);

/** The label a new region gets: the armed one if valid, else the first. */
export function armedLabel(control: Control, armed: string | undefined): string | null {
  const labels = labelsOf(control);
  if (armed !== undefined && labels.some((l) => l.value === armed)) return armed;
  return labels[0]?.value ?? null;
}
