/**
 * Draws the image editor's regions onto a 2D canvas context already transformed to image pixels
 * (Konva applies the stage's zoom and pan before calling a shape's sceneFunc). All regions are one
 * pass over plain data: no node per box, so 1,000 boxes cost one shape. Line widths and text sizes
 * are divided by `scale` to stay constant on screen. Labels are drawn with fillText (never markup).
 */
import type { Point } from "./geometry";
import type { DrawItem } from "./image-editor";

type G = Pick<
  CanvasRenderingContext2D,
  | "beginPath"
  | "rect"
  | "moveTo"
  | "lineTo"
  | "closePath"
  | "stroke"
  | "fill"
  | "fillRect"
  | "strokeRect"
  | "arc"
  | "fillText"
  | "measureText"
  | "setLineDash"
  | "save"
  | "restore"
> & { lineWidth: number; strokeStyle: unknown; fillStyle: unknown; font: string; globalAlpha: number; textBaseline: CanvasTextBaseline };

/** Labels are drawn only on regions at least this wide on screen (and at most this many in all). */
const LABEL_MIN_WIDTH = 28;
const LABEL_BUDGET = 400;

export function drawItems(g: G, items: readonly DrawItem[], scale: number): void {
  const px = 1 / scale;
  let labels = 0;
  for (const item of items) {
    g.globalAlpha = item.faded ? 0.85 : 1;
    g.setLineDash(item.dashed ? [6 * px, 4 * px] : []);
    g.strokeStyle = item.color;
    g.lineWidth = (item.selected ? 3 : 2) * px;
    if (item.kind === "box") {
      const { x, y, width, height } = item.rect;
      if (!item.faded) {
        g.fillStyle = item.color + (item.selected ? "40" : "1f");
        g.fillRect(x, y, width, height);
      }
      g.strokeRect(x, y, width, height);
      if (!item.faded && width * scale >= LABEL_MIN_WIDTH && labels < LABEL_BUDGET) {
        labels += 1;
        tag(g, item.label, x, y, item.color, px);
      }
    } else if (item.kind === "polygon") {
      g.beginPath();
      item.points.forEach(([x, y], i) => {
        if (i === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      });
      if (item.closed) g.closePath();
      if (item.closed && !item.faded) {
        g.fillStyle = item.color + (item.selected ? "40" : "26");
        g.fill();
      }
      g.stroke();
      const first = item.points[0];
      if (first && item.closed && !item.faded && labels < LABEL_BUDGET) {
        labels += 1;
        const top = item.points.reduce((a, b) => (b[1] < a[1] ? b : a), first);
        tag(g, item.label, top[0], top[1], item.color, px);
      }
    } else {
      g.lineWidth = 2 * px;
      for (const [a, b] of item.edges) {
        g.beginPath();
        g.moveTo(a.x, a.y);
        g.lineTo(b.x, b.y);
        g.stroke();
      }
      g.setLineDash([]);
      for (const q of item.points) {
        g.beginPath();
        g.arc(q.x, q.y, (q.selected ? 6 : 4.5) * px, 0, Math.PI * 2);
        g.fillStyle = q.visibility === 1 ? "#ffffff" : q.color;
        g.fill();
        g.lineWidth = (q.selected ? 3 : 1.5) * px;
        g.strokeStyle = q.visibility === 1 ? q.color : q.selected ? "#ffffff" : "#111827";
        g.stroke();
      }
    }
  }
  g.globalAlpha = 1;
  g.setLineDash([]);
}

function tag(g: G, text: string, x: number, y: number, color: string, px: number): void {
  if (!text) return;
  const size = 12 * px;
  g.font = `600 ${size}px system-ui, sans-serif`;
  g.textBaseline = "middle";
  const width = g.measureText(text).width + 8 * px;
  const height = 16 * px;
  const top = y - height >= 0 ? y - height : y;
  g.fillStyle = color;
  g.fillRect(x, top, width, height);
  g.fillStyle = "#ffffff";
  g.fillText(text, x + 4 * px, top + height / 2);
}

/** Square handles (corners/edges of the selected box, polygon vertices), small round hints where a
 * click adds a vertex (edge middles of the selected polygon) and the draft's rubber band. */
export function drawHandles(
  g: G,
  handles: readonly Point[],
  rubber: [Point, Point] | null,
  scale: number,
  midpoints: readonly Point[] = [],
): void {
  const px = 1 / scale;
  if (rubber) {
    g.setLineDash([4 * px, 4 * px]);
    g.strokeStyle = "#111827";
    g.lineWidth = 1.5 * px;
    g.beginPath();
    g.moveTo(rubber[0].x, rubber[0].y);
    g.lineTo(rubber[1].x, rubber[1].y);
    g.stroke();
    g.setLineDash([]);
  }
  for (const m of midpoints) {
    g.fillStyle = "rgba(255, 255, 255, 0.85)";
    g.strokeStyle = "#111827";
    g.lineWidth = 1 * px;
    g.beginPath();
    g.arc(m.x, m.y, 3.5 * px, 0, 2 * Math.PI);
    g.fill();
    g.stroke();
  }
  const s = 8 * px;
  for (const h of handles) {
    g.fillStyle = "#ffffff";
    g.strokeStyle = "#111827";
    g.lineWidth = 1.5 * px;
    g.fillRect(h.x - s / 2, h.y - s / 2, s, s);
    g.strokeRect(h.x - s / 2, h.y - s / 2, s, s);
  }
}
