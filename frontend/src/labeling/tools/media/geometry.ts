/**
 * Image geometry for the image tools, framework-free: boxes, polygons and points in **pixels of
 * the original image** (origin top-left, docs/SCHEMA.md#bbox), and the viewport that maps them to
 * the screen (zoom around a point, pan, fit). Nothing here knows Konva or the DOM.
 */

export interface Point {
  x: number;
  y: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Size {
  width: number;
  height: number;
}

/** Screen = image * scale + (x, y). */
export interface Viewport {
  scale: number;
  x: number;
  y: number;
}

export const MIN_SCALE = 0.02;
export const MAX_SCALE = 40;
/** Smallest box side, in image pixels, that a drag creates (a shorter drag is a click). */
export const MIN_BOX = 2;

/** Two decimals: sub-pixel positions are kept, float noise is not. */
export const round2 = (v: number): number => Math.round(v * 100) / 100;

export const clamp = (v: number, low: number, high: number): number => Math.min(high, Math.max(low, v));

export function clampPoint(p: Point, size: Size): Point {
  return { x: round2(clamp(p.x, 0, size.width)), y: round2(clamp(p.y, 0, size.height)) };
}

/** The box spanned by two corners dragged in any direction, clipped to the image. */
export function boxFromCorners(a: Point, b: Point, size: Size): Rect {
  const p = clampPoint(a, size);
  const q = clampPoint(b, size);
  return { x: Math.min(p.x, q.x), y: Math.min(p.y, q.y), width: round2(Math.abs(p.x - q.x)), height: round2(Math.abs(p.y - q.y)) };
}

/** Moves a box by (dx, dy), keeping it whole inside the image. */
export function moveBox(box: Rect, dx: number, dy: number, size: Size): Rect {
  return {
    ...box,
    x: round2(clamp(box.x + dx, 0, Math.max(0, size.width - box.width))),
    y: round2(clamp(box.y + dy, 0, Math.max(0, size.height - box.height))),
  };
}

export type Handle = "nw" | "n" | "ne" | "e" | "se" | "s" | "sw" | "w";
export const HANDLES: readonly Handle[] = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];

export function handlePoint(box: Rect, handle: Handle): Point {
  const x = handle.includes("w") ? box.x : handle.includes("e") ? box.x + box.width : box.x + box.width / 2;
  const y = handle.includes("n") ? box.y : handle.includes("s") ? box.y + box.height : box.y + box.height / 2;
  return { x, y };
}

/** Drags one handle of `box` to `p`; the opposite side stays. Crossing over flips the box. */
export function resizeBox(box: Rect, handle: Handle, p: Point, size: Size): Rect {
  let x1 = box.x;
  let y1 = box.y;
  let x2 = box.x + box.width;
  let y2 = box.y + box.height;
  if (handle.includes("w")) x1 = p.x;
  if (handle.includes("e")) x2 = p.x;
  if (handle.includes("n")) y1 = p.y;
  if (handle.includes("s")) y2 = p.y;
  const out = boxFromCorners({ x: x1, y: y1 }, { x: x2, y: y2 }, size);
  return { ...box, ...out, width: Math.max(out.width, 1), height: Math.max(out.height, 1) };
}

export const containsPoint = (box: Rect, p: Point, pad = 0): boolean =>
  p.x >= box.x - pad && p.x <= box.x + box.width + pad && p.y >= box.y - pad && p.y <= box.y + box.height + pad;

export const distance = (a: Point, b: Point): number => Math.hypot(a.x - b.x, a.y - b.y);

/** Signed area by the shoelace formula (the server refuses polygons whose area is ~0). */
export function polygonArea(points: readonly (readonly [number, number])[]): number {
  let sum = 0;
  for (let i = 0; i < points.length; i += 1) {
    const [x1, y1] = points[(i + points.length - 1) % points.length]!;
    const [x2, y2] = points[i]!;
    sum += x1 * y2 - x2 * y1;
  }
  return sum / 2;
}

/** Even-odd rule. */
export function pointInPolygon(p: Point, points: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i, i += 1) {
    const [xi, yi] = points[i]!;
    const [xj, yj] = points[j]!;
    if (yi > p.y !== yj > p.y && p.x < ((xj - xi) * (p.y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The edge of a closed polygon nearest to `p`: edge `index` runs from point index to index + 1
 * (the last back to the first); `at` is the nearest point on it. Null for fewer than 2 points. */
export function nearestEdge(
  points: readonly (readonly [number, number])[],
  p: Point,
): { index: number; at: Point; distance: number } | null {
  let best: { index: number; at: Point; distance: number } | null = null;
  for (let i = 0; i < points.length && points.length >= 2; i += 1) {
    const [x1, y1] = points[i]!;
    const [x2, y2] = points[(i + 1) % points.length]!;
    const dx = x2 - x1;
    const dy = y2 - y1;
    const length2 = dx * dx + dy * dy;
    const t = length2 === 0 ? 0 : clamp(((p.x - x1) * dx + (p.y - y1) * dy) / length2, 0, 1);
    const at = { x: x1 + t * dx, y: y1 + t * dy };
    const d = distance(at, p);
    if (!best || d < best.distance) best = { index: i, at, distance: d };
  }
  return best;
}

export function boundsOf(points: readonly (readonly [number, number])[]): Rect {
  const xs = points.map((q) => q[0]);
  const ys = points.map((q) => q[1]);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

/** Moves every point by (dx, dy), limited so the whole polygon stays inside the image. */
export function movePoints(points: readonly (readonly [number, number])[], dx: number, dy: number, size: Size): [number, number][] {
  const b = boundsOf(points);
  const mx = clamp(dx, -b.x, size.width - (b.x + b.width));
  const my = clamp(dy, -b.y, size.height - (b.y + b.height));
  return points.map(([x, y]) => [round2(x + mx), round2(y + my)]);
}

// --- viewport ---------------------------------------------------------------------------------

/** The whole image centred in the view with a small margin; never magnified past 100 % by fit... unless tiny. */
export function fitViewport(image: Size, view: Size, margin = 16): Viewport {
  if (image.width <= 0 || image.height <= 0 || view.width <= 0 || view.height <= 0) return { scale: 1, x: 0, y: 0 };
  const scale = clamp(Math.min((view.width - 2 * margin) / image.width, (view.height - 2 * margin) / image.height), MIN_SCALE, MAX_SCALE);
  return { scale, x: (view.width - image.width * scale) / 2, y: (view.height - image.height * scale) / 2 };
}

/** Zooms by `factor` keeping the image point under `anchor` (screen) where it is. */
export function zoomAt(v: Viewport, factor: number, anchor: Point): Viewport {
  const scale = clamp(v.scale * factor, MIN_SCALE, MAX_SCALE);
  const k = scale / v.scale;
  return { scale, x: anchor.x - (anchor.x - v.x) * k, y: anchor.y - (anchor.y - v.y) * k };
}

export const panBy = (v: Viewport, dx: number, dy: number): Viewport => ({ ...v, x: v.x + dx, y: v.y + dy });

export const toImage = (v: Viewport, screen: Point): Point => ({ x: (screen.x - v.x) / v.scale, y: (screen.y - v.y) / v.scale });

export const toScreen = (v: Viewport, image: Point): Point => ({ x: image.x * v.scale + v.x, y: image.y * v.scale + v.y });

/** Wheel delta (pixels) to a zoom factor: smooth for trackpads, ~1.2x per mouse notch. */
export const wheelFactor = (deltaY: number): number => Math.exp(-clamp(deltaY, -300, 300) / 550);
