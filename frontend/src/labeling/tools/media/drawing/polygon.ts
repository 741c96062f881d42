/**
 * The polygon tool: click to add points, click the first point (or Enter, or a double click) to
 * close; Backspace drops the last point, Escape the draft. A selected polygon: drag it to move,
 * drag a vertex, click an edge to add a vertex there, Shift+click a vertex to remove it.
 */
import type { Control } from "../../../contract";
import { type PolygonAnswer, armedLabel, colorIn, labelColor, labelsOf, polygonsOf } from "../answers";
import { type Point, clampPoint, distance, movePoints, nearestEdge, pointInPolygon, polygonArea, toImage } from "../geometry";
import { mediaState, updateMediaState } from "../state";
import { CLICK, type DrawItem, type DrawingTool, type EditorHost, type ToolDrag } from "./tool";

export type PolygonDrag =
  | (ToolDrag & { kind: "move-polygon"; index: number; from: Point; points: [number, number][]; moved: boolean })
  | (ToolDrag & { kind: "vertex"; index: number; vertex: number; points: [number, number][]; inserted?: boolean });

/** Closes the polygon being drawn (3 points with an area), or says why not. */
export function closePolygon(host: EditorHost): boolean {
  const draft = mediaState().draft;
  if (!draft) return false;
  const control = host.control(draft.control);
  if (!control) return false;
  if (draft.points.length < 3 || Math.abs(polygonArea(draft.points)) < 1e-6) {
    updateMediaState({ message: { control: control.name, text: "A polygon needs at least 3 points around an area." } });
    return false;
  }
  const label = armedLabel(control, host.ctx.activeLabel[control.name]);
  if (label === null) return false;
  const polys = polygonsOf(host.ctx.result[control.name]);
  updateMediaState({ draft: null, message: null });
  host.set(control.name, [...polys, { points: draft.points, label } satisfies PolygonAnswer]);
  host.select({ control: control.name, index: polys.length });
  host.redraw("edit");
  return true;
}

/** Removes a vertex (a polygon keeps at least 3). */
export function removeVertex(host: EditorHost, controlName: string, index: number, vertex: number): void {
  const polys = polygonsOf(host.ctx.result[controlName]);
  const poly = polys[index];
  if (!poly) return;
  if (poly.points.length <= 3) {
    updateMediaState({ message: { control: controlName, text: "A polygon keeps at least 3 points; delete the polygon instead." } });
    return;
  }
  host.set(controlName, polys.map((p, i) => (i === index ? { ...p, points: p.points.filter((_, j) => j !== vertex) } : p)));
}

export const polygonTool: DrawingTool<PolygonDrag> = {
  type: "polygon",

  hits(control, answer, p) {
    return polygonsOf(answer).flatMap((poly, index) =>
      pointInPolygon(p, poly.points) ? [{ sel: { control: control.name, index }, area: Math.abs(polygonArea(poly.points)) }] : [],
    );
  },

  pressHandle(host, control, sel, p, mods) {
    const poly = polygonsOf(host.ctx.result[control.name])[sel.index];
    if (!poly) return null;
    const r = host.grab();
    const vertex = poly.points.findIndex(([x, y]) => distance({ x, y }, p) <= r);
    if (vertex >= 0) {
      if (mods.shift) {
        removeVertex(host, control.name, sel.index, vertex);
        return "done";
      }
      return { kind: "vertex", control: control.name, index: sel.index, vertex, points: poly.points };
    }
    // On an edge: a new vertex there, which the same press can drag.
    const edge = nearestEdge(poly.points, p);
    if (!edge || edge.distance > r) return null;
    if (mods.shift) return "done";
    const q = clampPoint(edge.at, host.size);
    const points: [number, number][] = [...poly.points.slice(0, edge.index + 1), [q.x, q.y], ...poly.points.slice(edge.index + 1)];
    // A click alone inserts the vertex; a drag moves it too (one undo step either way).
    host.preview = { control: control.name, index: sel.index, points };
    host.redraw("edit");
    return { kind: "vertex", control: control.name, index: sel.index, vertex: edge.index + 1, points, inserted: true };
  },

  grabRegion(host, control, hit, p) {
    const poly = polygonsOf(host.ctx.result[control.name])[hit.index]!;
    return { kind: "move-polygon", control: control.name, index: hit.index, from: p, points: poly.points, moved: false };
  },

  onPointerDown(host, control, p) {
    host.select(null);
    updateMediaState({ draft: { control: control.name, points: [[p.x, p.y]] } });
    host.redraw("edit");
    return null;
  },

  onDraftPointerDown(host, _control, p, inside) {
    const draft = mediaState().draft!;
    const first = draft.points[0];
    if (first && draft.points.length >= 3 && distance({ x: first[0], y: first[1] }, p) <= host.grab()) {
      closePolygon(host);
    } else if (inside) {
      const q = clampPoint(p, host.size);
      updateMediaState({ draft: { control: draft.control, points: [...draft.points, [q.x, q.y]] } });
      host.redraw("edit");
    }
    return true;
  },

  onPointerMove(host, drag, p) {
    if (drag.kind === "move-polygon") {
      drag.moved = drag.moved || distance(p, drag.from) * host.viewport.scale >= CLICK;
      if (drag.moved) {
        host.preview = { control: drag.control, index: drag.index, points: movePoints(drag.points, p.x - drag.from.x, p.y - drag.from.y, host.size) };
      }
    } else {
      const q = clampPoint(p, host.size);
      host.preview = { control: drag.control, index: drag.index, points: drag.points.map((v, i) => (i === drag.vertex ? [q.x, q.y] : v)) };
    }
  },

  onPointerUp() {
    return false;
  },

  commit(host, preview) {
    const polys = polygonsOf(host.ctx.result[preview.control]);
    host.set(preview.control, polys.map((p, i) => (i === preview.index ? { ...p, points: preview.points! } : p)));
  },

  onDraftKey(host, key) {
    const draft = mediaState().draft;
    if (!draft) return false;
    if (key === "Escape") return polygonTool.cancel!(host);
    if (key === "Enter") {
      closePolygon(host);
      return true;
    }
    if (key === "Backspace") {
      const points = draft.points.slice(0, -1);
      updateMediaState({ draft: points.length ? { ...draft, points } : null });
      host.redraw("edit");
      return true;
    }
    return false;
  },

  cancel(host) {
    if (!mediaState().draft) return false;
    updateMediaState({ draft: null, message: null });
    host.redraw("edit");
    return true;
  },

  nudge(host, control, sel, dx, dy) {
    const polys = polygonsOf(host.ctx.result[sel.control]);
    if (!polys[sel.index]) return false;
    host.ctx.setAnswer(
      control.name,
      polys.map((p, i) => (i === sel.index ? { ...p, points: movePoints(p.points, dx, dy, host.size) } : p)),
      { coalesce: `nudge:${sel.control}:${sel.index}` },
    );
    return true;
  },

  remove(ctx, control, sel) {
    ctx.setAnswer(control.name, polygonsOf(ctx.result[control.name]).filter((_, i) => i !== sel.index));
    return true;
  },

  items(control, answer, o) {
    const labels = labelsOf(control);
    const out: DrawItem[] = [];
    polygonsOf(answer).forEach((p, i) => {
      if (i !== o.skip) {
        out.push({ kind: "polygon", points: p.points, label: p.label, color: o.color ?? colorIn(labels, p.label), selected: o.selected?.index === i, dashed: o.dashed, faded: o.faded, closed: true });
      }
    });
    return out;
  },

  previewItems(host, control, preview) {
    if (!preview.points) return [];
    const label = polygonsOf(host.ctx.result[control.name])[preview.index]?.label ?? "";
    return [{ kind: "polygon", points: preview.points, color: labelColor(control, label), label, selected: true, dashed: false, faded: false, closed: true }];
  },

  selectionHandles(host, control, sel, into) {
    const preview = host.preview;
    const points = preview?.points && preview.control === sel.control ? preview.points : polygonsOf(host.ctx.result[control.name])[sel.index]?.points;
    if (!points) return;
    into.handles.push(...points.map(([x, y]) => ({ x, y })));
    // Where a click adds a vertex: the middle of each edge (any point of an edge works).
    if (!host.dragging) {
      into.midpoints.push(
        ...points.map(([x, y], i) => {
          const [nx, ny] = points[(i + 1) % points.length]!;
          return { x: (x + nx) / 2, y: (y + ny) / 2 };
        }),
      );
    }
  },

  draftOverlay(host, control: Control | undefined, into) {
    const draft = mediaState().draft;
    if (!draft) return;
    const label = control ? (armedLabel(control, host.ctx.activeLabel[control.name]) ?? "") : "";
    const color = control ? labelColor(control, label) : "#1e88e5";
    into.items.push({ kind: "polygon", points: draft.points, color, label, selected: true, dashed: false, faded: false, closed: false });
    into.handles.push(...draft.points.map(([x, y]) => ({ x, y })));
    const last = draft.points[draft.points.length - 1];
    if (last && host.pointer) into.rubber = [{ x: last[0], y: last[1] }, clampPoint(toImage(host.viewport, host.pointer), host.size)];
  },
};
