/**
 * The image field's editor: pointer and key input (in screen pixels of the view) turned into
 * answers of the hosted controls (bbox, polygon, keypoints) through `ctx.setAnswer`, plus the
 * viewport (zoom, pan, fit) and what to draw. No Konva and no DOM here: the view feeds events in
 * and draws `regions()` / `overlay()`, so every behaviour is testable in plain Vitest.
 *
 * While a box, vertex or point is dragged the change lives in `preview` and only the edit layer is
 * redrawn; the answer is set once, on release (one undo step).
 */
import type { Control, LabelingContext } from "../../contract";
import {
  type BoxAnswer,
  type KeypointInstance,
  type KeypointPoint,
  type PolygonAnswer,
  armedLabel,
  boxesOf,
  colorIn,
  keypointInstancesOf,
  keypointNamesOf,
  labelColor,
  labelsOf,
  polygonsOf,
  skeletonOf,
} from "./answers";
import {
  HANDLES,
  type Handle,
  type Point,
  type Rect,
  type Size,
  type Viewport,
  boxFromCorners,
  clampPoint,
  containsPoint,
  distance,
  fitViewport,
  handlePoint,
  moveBox,
  movePoints,
  nearestEdge,
  panBy,
  pointInPolygon,
  polygonArea,
  resizeBox,
  round2,
  toImage,
  wheelFactor,
  zoomAt,
} from "./geometry";
import { type Selection, mediaState, updateMediaState } from "./state";

export const DRAWING_TYPES = ["bbox", "polygon", "keypoints"] as const;
/** Grab distance for handles, vertices and points, in screen pixels. */
export const GRAB = 7;
const CLICK = 4; // a pointer that moved less than this (screen px) clicked
export const PAN_STEP = 60;

export type DrawItem =
  | { kind: "box"; rect: Rect; color: string; label: string; selected: boolean; dashed: boolean; faded: boolean }
  | { kind: "polygon"; points: [number, number][]; color: string; label: string; selected: boolean; dashed: boolean; faded: boolean; closed: boolean }
  | {
      kind: "keypoints";
      points: { name: string; x: number; y: number; visibility: number; color: string; selected: boolean }[];
      edges: [Point, Point][];
      color: string;
      label: string;
      selected: boolean;
      dashed: boolean;
      faded: boolean;
    };

export interface PointerInput {
  /** Screen position inside the view. */
  x: number;
  y: number;
  button?: number;
  shift?: boolean;
  alt?: boolean;
}

type Drag =
  | { kind: "pan"; last: Point }
  | { kind: "draw"; control: string; from: Point; to: Point }
  | { kind: "move-box"; control: string; index: number; from: Point; box: BoxAnswer; moved: boolean }
  | { kind: "resize"; control: string; index: number; handle: Handle; box: BoxAnswer }
  | { kind: "move-polygon"; control: string; index: number; from: Point; points: [number, number][]; moved: boolean }
  | { kind: "vertex"; control: string; index: number; vertex: number; points: [number, number][]; inserted?: boolean }
  | { kind: "point"; control: string; index: number; name: string; at: Point; moved: boolean };

export interface EditorOptions {
  ctx: () => LabelingContext;
  /** The visible drawing controls hosted by this field (bbox, polygon, keypoints). */
  controls: () => readonly Control[];
  /** Something changed that needs a redraw: "view" (viewport: all layers), "edit" (the edit layer only), "regions". */
  redraw(what: "view" | "edit" | "regions"): void;
}

export class ImageEditor {
  size: Size = { width: 0, height: 0 };
  view: Size = { width: 0, height: 0 };
  viewport: Viewport = { scale: 1, x: 0, y: 0 };
  spaceHeld = false;
  private drag: Drag | null = null;
  private pointer: Point | null = null;
  private fitted = true;

  constructor(private readonly opts: EditorOptions) {}

  private get ctx(): LabelingContext {
    return this.opts.ctx();
  }

  // --- viewport -------------------------------------------------------------------------------

  setImageSize(size: Size): void {
    this.size = size;
    this.fit();
  }

  setViewSize(view: Size): void {
    this.view = view;
    if (this.fitted) this.viewport = fitViewport(this.size, this.view);
    this.opts.redraw("view");
  }

  fit(): void {
    this.viewport = fitViewport(this.size, this.view);
    this.fitted = true;
    this.opts.redraw("view");
  }

  zoom(factor: number, anchor: Point = { x: this.view.width / 2, y: this.view.height / 2 }): void {
    this.viewport = zoomAt(this.viewport, factor, anchor);
    this.fitted = false;
    this.opts.redraw("view");
  }

  /** 100 %: one image pixel per screen pixel, around the view's centre. */
  actualSize(): void {
    this.zoom(1 / this.viewport.scale);
  }

  pan(dx: number, dy: number): void {
    this.viewport = panBy(this.viewport, dx, dy);
    this.fitted = false;
    this.opts.redraw("view");
  }

  wheel(deltaY: number, at: Point, ctrlOrPinch = false): void {
    this.zoom(wheelFactor(ctrlOrPinch ? deltaY * 4 : deltaY), at);
  }

  // --- which control draws --------------------------------------------------------------------

  /** The control the next click draws for: the active one when hosted here, else the first. */
  drawingControl(): Control | null {
    const controls = this.opts.controls();
    return controls.find((c) => c.name === this.ctx.activeControl) ?? controls[0] ?? null;
  }

  private control(name: string): Control | undefined {
    return this.opts.controls().find((c) => c.name === name);
  }

  private set(control: string, answer: unknown): void {
    this.ctx.setAnswer(control, answer);
  }

  private select(selection: Selection | null): void {
    const current = mediaState().selected;
    if (current?.control === selection?.control && current?.index === selection?.index && current?.point === selection?.point) return;
    updateMediaState({ selected: selection });
    if (selection && this.ctx.activeControl !== selection.control) this.ctx.setActiveControl(selection.control);
    this.opts.redraw("regions");
  }

  // --- hit testing (image pixels) ---------------------------------------------------------------

  private grab(): number {
    return GRAB / this.viewport.scale;
  }

  /** The region under `p`: the smallest box or polygon containing it, or a keypoint near it. */
  hitTest(p: Point): Selection | null {
    let best: { sel: Selection; area: number } | null = null;
    const r = this.grab();
    for (const control of this.opts.controls()) {
      const answer = this.ctx.result[control.name];
      if (control.type === "bbox") {
        boxesOf(answer).forEach((b, index) => {
          const area = b.width * b.height;
          if (containsPoint(b, p, r / 2) && (!best || area < best.area)) best = { sel: { control: control.name, index }, area };
        });
      } else if (control.type === "polygon") {
        polygonsOf(answer).forEach((poly, index) => {
          const area = Math.abs(polygonArea(poly.points));
          if (pointInPolygon(p, poly.points) && (!best || area < best.area)) best = { sel: { control: control.name, index }, area };
        });
      } else if (control.type === "keypoints") {
        keypointInstancesOf(answer).forEach((inst, index) => {
          for (const q of inst.points) {
            if (q.visibility > 0 && distance(q, p) <= r) best = { sel: { control: control.name, index, point: q.name }, area: -1 };
          }
        });
      }
    }
    return (best as { sel: Selection } | null)?.sel ?? null;
  }

  /** A handle of the selected box, or a vertex of the selected polygon, under `p`. */
  private handleAt(p: Point): Drag | null {
    const sel = mediaState().selected;
    if (!sel || this.ctx.readOnly) return null;
    const control = this.control(sel.control);
    const r = this.grab();
    if (control?.type === "bbox") {
      const box = boxesOf(this.ctx.result[control.name])[sel.index];
      if (!box) return null;
      const handle = HANDLES.find((h) => distance(handlePoint(box, h), p) <= r);
      return handle ? { kind: "resize", control: control.name, index: sel.index, handle, box } : null;
    }
    if (control?.type === "polygon") {
      const poly = polygonsOf(this.ctx.result[control.name])[sel.index];
      if (!poly) return null;
      const vertex = poly.points.findIndex(([x, y]) => distance({ x, y }, p) <= r);
      if (vertex >= 0) return { kind: "vertex", control: control.name, index: sel.index, vertex, points: poly.points };
      // On an edge: a new vertex there, which the same press can drag.
      const edge = nearestEdge(poly.points, p);
      if (!edge || edge.distance > r) return null;
      const q = clampPoint(edge.at, this.size);
      const points: [number, number][] = [...poly.points.slice(0, edge.index + 1), [q.x, q.y], ...poly.points.slice(edge.index + 1)];
      return { kind: "vertex", control: control.name, index: sel.index, vertex: edge.index + 1, points, inserted: true };
    }
    return null;
  }

  // --- pointer --------------------------------------------------------------------------------

  pointerDown(input: PointerInput): void {
    const screen = { x: input.x, y: input.y };
    this.pointer = screen;
    if (input.button === 1 || input.button === 2 || this.spaceHeld || this.size.width === 0) {
      this.drag = { kind: "pan", last: screen };
      return;
    }
    const p = toImage(this.viewport, screen);
    const inside = p.x >= 0 && p.y >= 0 && p.x <= this.size.width && p.y <= this.size.height;
    const readOnly = this.ctx.readOnly;
    const draft = mediaState().draft;
    const drawing = this.drawingControl();

    if (!readOnly && draft && drawing?.type === "polygon" && draft.control === drawing.name) {
      const first = draft.points[0];
      if (first && draft.points.length >= 3 && distance({ x: first[0], y: first[1] }, p) <= this.grab()) {
        this.closePolygon();
      } else if (inside) {
        const q = clampPoint(p, this.size);
        updateMediaState({ draft: { control: draft.control, points: [...draft.points, [q.x, q.y]] } });
        this.opts.redraw("edit");
      }
      return;
    }

    const handle = this.handleAt(p);
    if (handle) {
      if (input.shift && handle.kind === "vertex") {
        if (!handle.inserted) this.removeVertex(handle.control, handle.index, handle.vertex);
        return;
      }
      this.drag = handle;
      if (handle.kind === "vertex" && handle.inserted) {
        // A click alone inserts the vertex; a drag moves it too (one undo step either way).
        this.preview = { control: handle.control, index: handle.index, points: handle.points };
        this.opts.redraw("edit");
      }
      return;
    }

    const hit = this.hitTest(p);
    if (hit) {
      this.select(hit);
      if (readOnly) {
        this.drag = { kind: "pan", last: screen }; // selecting to look at it; dragging still pans
        return;
      }
      const control = this.control(hit.control)!;
      if (control.type === "bbox") {
        const box = boxesOf(this.ctx.result[control.name])[hit.index]!;
        this.drag = { kind: "move-box", control: control.name, index: hit.index, from: p, box, moved: false };
      } else if (control.type === "polygon") {
        const poly = polygonsOf(this.ctx.result[control.name])[hit.index]!;
        this.drag = { kind: "move-polygon", control: control.name, index: hit.index, from: p, points: poly.points, moved: false };
      } else if (control.type === "keypoints" && hit.point) {
        updateMediaState({ keypointTarget: { control: control.name, instance: hit.index, name: mediaState().keypointTarget?.name ?? null } });
        this.drag = { kind: "point", control: control.name, index: hit.index, name: hit.point, at: p, moved: false };
      }
      return;
    }

    if (readOnly || !drawing || !inside) {
      if (mediaState().selected) this.select(null);
      this.drag = { kind: "pan", last: screen };
      return;
    }
    if (drawing.type === "bbox") {
      this.drag = { kind: "draw", control: drawing.name, from: clampPoint(p, this.size), to: clampPoint(p, this.size) };
    } else if (drawing.type === "polygon") {
      const q = clampPoint(p, this.size);
      this.select(null);
      updateMediaState({ draft: { control: drawing.name, points: [[q.x, q.y]] } });
      this.opts.redraw("edit");
    } else if (drawing.type === "keypoints") {
      this.placeKeypoint(drawing, clampPoint(p, this.size));
    }
  }

  pointerMove(input: PointerInput): void {
    const screen = { x: input.x, y: input.y };
    const drag = this.drag;
    this.pointer = screen;
    if (!drag) {
      if (mediaState().draft) this.opts.redraw("edit"); // rubber band to the pointer
      return;
    }
    if (drag.kind === "pan") {
      this.pan(screen.x - drag.last.x, screen.y - drag.last.y);
      drag.last = screen;
      return;
    }
    const p = toImage(this.viewport, screen);
    switch (drag.kind) {
      case "draw":
        drag.to = clampPoint(p, this.size);
        break;
      case "move-box": {
        const moved = moveBox(drag.box, p.x - drag.from.x, p.y - drag.from.y, this.size);
        drag.moved = drag.moved || distance(p, drag.from) * this.viewport.scale >= CLICK;
        if (drag.moved) this.preview = { control: drag.control, index: drag.index, box: { ...moved, label: drag.box.label } };
        break;
      }
      case "resize":
        this.preview = { control: drag.control, index: drag.index, box: { ...resizeBox(drag.box, drag.handle, p, this.size), label: drag.box.label } };
        break;
      case "move-polygon":
        drag.moved = drag.moved || distance(p, drag.from) * this.viewport.scale >= CLICK;
        if (drag.moved) this.preview = { control: drag.control, index: drag.index, points: movePoints(drag.points, p.x - drag.from.x, p.y - drag.from.y, this.size) };
        break;
      case "vertex": {
        const q = clampPoint(p, this.size);
        this.preview = { control: drag.control, index: drag.index, points: drag.points.map((v, i) => (i === drag.vertex ? [q.x, q.y] : v)) };
        break;
      }
      case "point":
        drag.moved = drag.moved || distance(p, drag.at) * this.viewport.scale >= CLICK;
        if (drag.moved) this.preview = { control: drag.control, index: drag.index, point: { name: drag.name, ...clampPoint(p, this.size) } };
        break;
    }
    this.opts.redraw("edit");
  }

  pointerUp(_input?: PointerInput): void {
    const drag = this.drag;
    this.drag = null;
    const preview = this.preview;
    this.preview = null;
    if (!drag) return;
    if (drag.kind === "pan") return;
    if (drag.kind === "draw") {
      const box = boxFromCorners(drag.from, drag.to, this.size);
      const big = box.width * this.viewport.scale >= CLICK && box.height * this.viewport.scale >= CLICK && box.width >= 1 && box.height >= 1;
      if (!big) {
        this.select(null);
        this.opts.redraw("edit");
        return;
      }
      const control = this.control(drag.control)!;
      const label = armedLabel(control, this.ctx.activeLabel[control.name]);
      if (label === null) return;
      const boxes = boxesOf(this.ctx.result[control.name]);
      this.set(control.name, [...boxes, { ...box, label }]);
      this.select({ control: control.name, index: boxes.length });
      this.opts.redraw("edit");
      return;
    }
    if (!preview) {
      this.opts.redraw("edit");
      return;
    }
    this.commitPreview(preview);
  }

  /** The region being dragged, drawn on the edit layer instead of its stored shape. */
  preview: { control: string; index: number; box?: BoxAnswer; points?: [number, number][]; point?: { name: string; x: number; y: number } } | null = null;

  private commitPreview(preview: NonNullable<ImageEditor["preview"]>): void {
    const answer = this.ctx.result[preview.control];
    if (preview.box) {
      const boxes = boxesOf(answer);
      this.set(preview.control, boxes.map((b, i) => (i === preview.index ? preview.box! : b)));
    } else if (preview.points) {
      const polys = polygonsOf(answer);
      this.set(preview.control, polys.map((p, i) => (i === preview.index ? { ...p, points: preview.points! } : p)));
    } else if (preview.point) {
      const { name, x, y } = preview.point;
      const instances = keypointInstancesOf(answer);
      this.set(
        preview.control,
        instances.map((inst, i) => (i === preview.index ? { ...inst, points: inst.points.map((q) => (q.name === name ? { ...q, x, y } : q)) } : inst)),
      );
    }
    this.opts.redraw("edit");
  }

  // --- polygons ---------------------------------------------------------------------------------

  /** Closes the polygon being drawn (3 points with an area), or says why not. */
  closePolygon(): boolean {
    const draft = mediaState().draft;
    if (!draft) return false;
    const control = this.control(draft.control);
    if (!control) return false;
    if (draft.points.length < 3 || Math.abs(polygonArea(draft.points)) < 1e-6) {
      updateMediaState({ message: { control: control.name, text: "A polygon needs at least 3 points around an area." } });
      return false;
    }
    const label = armedLabel(control, this.ctx.activeLabel[control.name]);
    if (label === null) return false;
    const polys = polygonsOf(this.ctx.result[control.name]);
    updateMediaState({ draft: null, message: null });
    this.set(control.name, [...polys, { points: draft.points, label } satisfies PolygonAnswer]);
    this.select({ control: control.name, index: polys.length });
    this.opts.redraw("edit");
    return true;
  }

  removeVertex(controlName: string, index: number, vertex: number): void {
    const polys = polygonsOf(this.ctx.result[controlName]);
    const poly = polys[index];
    if (!poly) return;
    if (poly.points.length <= 3) {
      updateMediaState({ message: { control: controlName, text: "A polygon keeps at least 3 points; delete the polygon instead." } });
      return;
    }
    this.set(controlName, polys.map((p, i) => (i === index ? { ...p, points: p.points.filter((_, j) => j !== vertex) } : p)));
  }

  // --- keypoints ----------------------------------------------------------------------------------

  /** Places the target point (or the first one not yet placed) of the target instance at `p`. */
  placeKeypoint(control: Control, p: Point): void {
    const names = keypointNamesOf(control).map((k) => k.value);
    const instances = keypointInstancesOf(this.ctx.result[control.name]);
    const plan = keypointPlacement(control, instances, mediaState().keypointTarget);
    if (plan.name === null) return;
    const name = plan.name;
    let list = instances;
    if (plan.index >= instances.length) {
      const label = Array.isArray(control.labels) ? armedLabel(control, this.ctx.activeLabel[control.name]) : null;
      list = [...instances, label !== null ? { label, points: [] } : { points: [] }];
    }
    const instance = list[plan.index]!;
    const point: KeypointPoint = { name, x: round2(p.x), y: round2(p.y), visibility: 2 };
    const updated: KeypointInstance = {
      ...instance,
      points: [...instance.points.filter((q) => q.name !== name), point].sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name)),
    };
    this.set(control.name, list.map((inst, i) => (i === plan.index ? updated : inst)));
    const next = names.find((n) => !isPlaced(updated, n)) ?? null;
    updateMediaState({
      keypointTarget: { control: control.name, instance: next === null ? null : plan.index, name: next },
      selected: { control: control.name, index: plan.index, point: name },
    });
    this.opts.redraw("regions");
  }

  // --- keyboard -----------------------------------------------------------------------------------

  /** Handles a key pressed while the view has focus; returns true when it was used. */
  key(key: string, mods: { shift?: boolean; ctrl?: boolean; alt?: boolean } = {}, reserved: ReadonlySet<string> = new Set()): boolean {
    if (mods.ctrl || mods.alt) return false;
    if (reserved.has(key.toLowerCase())) return false; // a schema label hotkey wins
    const sel = mediaState().selected;
    const draft = mediaState().draft;
    const step = mods.shift ? 10 : 1;
    const arrows: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const arrow = arrows[key];
    if (arrow) {
      if (sel && !this.ctx.readOnly && this.nudge(sel, arrow[0] * step, arrow[1] * step)) return true;
      this.pan(-arrow[0] * PAN_STEP * (mods.shift ? 4 : 1), -arrow[1] * PAN_STEP * (mods.shift ? 4 : 1));
      return true;
    }
    switch (key) {
      case "+":
      case "=":
        this.zoom(1.25);
        return true;
      case "-":
      case "_":
        this.zoom(0.8);
        return true;
      case "0":
        this.fit();
        return true;
      case "1":
        this.actualSize();
        return true;
      case "Escape":
        if (draft) {
          updateMediaState({ draft: null, message: null });
          this.opts.redraw("edit");
          return true;
        }
        if (sel) {
          this.select(null);
          return true;
        }
        return false;
      case "Enter":
        if (!draft) return false;
        this.closePolygon();
        return true;
      case "Backspace":
        if (draft) {
          const points = draft.points.slice(0, -1);
          updateMediaState({ draft: points.length ? { ...draft, points } : null });
          this.opts.redraw("edit");
          return true;
        }
        return this.deleteSelected();
      case "Delete":
        return this.deleteSelected();
      case "Tab":
        return false;
      default:
        return false;
    }
  }

  /** Moves the selected region by (dx, dy) image pixels (one undo step per run of nudges). */
  nudge(sel: Selection, dx: number, dy: number): boolean {
    const control = this.control(sel.control);
    const answer = this.ctx.result[sel.control];
    if (control?.type === "bbox") {
      const boxes = boxesOf(answer);
      const box = boxes[sel.index];
      if (!box) return false;
      this.ctx.setAnswer(sel.control, boxes.map((b, i) => (i === sel.index ? { ...moveBox(b, dx, dy, this.size), label: b.label } : b)), { coalesce: `nudge:${sel.control}:${sel.index}` });
      return true;
    }
    if (control?.type === "polygon") {
      const polys = polygonsOf(answer);
      if (!polys[sel.index]) return false;
      this.ctx.setAnswer(sel.control, polys.map((p, i) => (i === sel.index ? { ...p, points: movePoints(p.points, dx, dy, this.size) } : p)), { coalesce: `nudge:${sel.control}:${sel.index}` });
      return true;
    }
    if (control?.type === "keypoints" && sel.point) {
      const instances = keypointInstancesOf(answer);
      if (!instances[sel.index]) return false;
      const moved = instances.map((inst, i) =>
        i === sel.index ? { ...inst, points: inst.points.map((q) => (q.name === sel.point ? { ...q, ...clampPoint({ x: q.x + dx, y: q.y + dy }, this.size) } : q)) } : inst,
      );
      this.ctx.setAnswer(sel.control, moved, { coalesce: `nudge:${sel.control}:${sel.index}` });
      return true;
    }
    return false;
  }

  deleteSelected(): boolean {
    return deleteSelection(this.ctx, this.opts.controls());
  }

  // --- what to draw -------------------------------------------------------------------------------

  /** Every stored region of the hosted controls (the dragged one is left to `overlay`), then the others'. */
  regions(): DrawItem[] {
    const ctx = this.ctx;
    const sel = mediaState().selected;
    const out: DrawItem[] = [];
    for (const other of ctx.others) {
      for (const control of this.opts.controls()) {
        out.push(...itemsFor(control, other.result[control.name], { color: other.color, dashed: true, faded: true, selected: null, skip: null }));
      }
    }
    for (const control of this.opts.controls()) {
      const skip = this.preview?.control === control.name ? this.preview.index : null;
      const dashed = ctx.predicted.has(control.name);
      out.push(...itemsFor(control, ctx.result[control.name], { color: null, dashed, faded: false, selected: sel?.control === control.name ? sel : null, skip }));
    }
    return out;
  }

  /** The edit layer: the dragged region, the box being drawn, the polygon draft, handles. */
  overlay(): { items: DrawItem[]; handles: Point[]; midpoints: Point[]; rubber: [Point, Point] | null } {
    const items: DrawItem[] = [];
    const handles: Point[] = [];
    const midpoints: Point[] = [];
    let rubber: [Point, Point] | null = null;
    const sel = mediaState().selected;
    const drag = this.drag;
    if (drag?.kind === "draw") {
      const control = this.control(drag.control);
      const label = control ? armedLabel(control, this.ctx.activeLabel[control.name]) ?? "" : "";
      items.push({ kind: "box", rect: boxFromCorners(drag.from, drag.to, this.size), color: control ? labelColor(control, label) : "#1e88e5", label, selected: true, dashed: false, faded: false });
    }
    const preview = this.preview;
    if (preview) {
      const control = this.control(preview.control);
      if (control) {
        const answer = this.ctx.result[control.name];
        if (preview.box) items.push({ kind: "box", rect: preview.box, color: labelColor(control, preview.box.label), label: preview.box.label, selected: true, dashed: false, faded: false });
        if (preview.points) {
          const label = polygonsOf(answer)[preview.index]?.label ?? "";
          items.push({ kind: "polygon", points: preview.points, color: labelColor(control, label), label, selected: true, dashed: false, faded: false, closed: true });
        }
        if (preview.point) {
          const inst = keypointInstancesOf(answer)[preview.index];
          if (inst) {
            const moved = { ...inst, points: inst.points.map((q) => (q.name === preview.point!.name ? { ...q, x: preview.point!.x, y: preview.point!.y } : q)) };
            items.push(...itemsFor(control, [moved], { color: null, dashed: false, faded: false, selected: { control: control.name, index: 0, point: preview.point.name }, skip: null }));
          }
        }
      }
    }
    if (sel && !this.ctx.readOnly) {
      const control = this.control(sel.control);
      const answer = control ? this.ctx.result[control.name] : undefined;
      if (control?.type === "bbox") {
        const box = preview?.box && preview.control === sel.control ? preview.box : boxesOf(answer)[sel.index];
        if (box) handles.push(...HANDLES.map((h) => handlePoint(box, h)));
      } else if (control?.type === "polygon") {
        const points = preview?.points && preview.control === sel.control ? preview.points : polygonsOf(answer)[sel.index]?.points;
        if (points) {
          handles.push(...points.map(([x, y]) => ({ x, y })));
          // Where a click adds a vertex: the middle of each edge (any point of an edge works).
          if (this.drag === null) {
            midpoints.push(...points.map(([x, y], i) => {
              const [nx, ny] = points[(i + 1) % points.length]!;
              return { x: (x + nx) / 2, y: (y + ny) / 2 };
            }));
          }
        }
      }
    }
    const draft = mediaState().draft;
    if (draft) {
      const control = this.control(draft.control);
      const label = control ? armedLabel(control, this.ctx.activeLabel[control.name]) ?? "" : "";
      items.push({ kind: "polygon", points: draft.points, color: control ? labelColor(control, label) : "#1e88e5", label, selected: true, dashed: false, faded: false, closed: false });
      handles.push(...draft.points.map(([x, y]) => ({ x, y })));
      const last = draft.points[draft.points.length - 1];
      if (last && this.pointer) rubber = [{ x: last[0], y: last[1] }, clampPoint(toImage(this.viewport, this.pointer), this.size)];
    }
    return { items, handles, midpoints, rubber };
  }

  isDragging(): boolean {
    return this.drag !== null;
  }

  cursor(): string {
    if (this.drag?.kind === "pan") return "grabbing";
    if (this.spaceHeld) return "grab";
    if (this.drag) return "move";
    return this.ctx.readOnly ? "grab" : "crosshair";
  }
}

function itemsFor(
  control: Control,
  answer: unknown,
  o: { color: string | null; dashed: boolean; faded: boolean; selected: Selection | null; skip: number | null },
): DrawItem[] {
  const labels = labelsOf(control);
  const out: DrawItem[] = [];
  if (control.type === "bbox") {
    boxesOf(answer).forEach((b, i) => {
      if (i !== o.skip) out.push({ kind: "box", rect: b, label: b.label, color: o.color ?? colorIn(labels, b.label), selected: o.selected?.index === i, dashed: o.dashed, faded: o.faded });
    });
  } else if (control.type === "polygon") {
    polygonsOf(answer).forEach((p, i) => {
      if (i !== o.skip) out.push({ kind: "polygon", points: p.points, label: p.label, color: o.color ?? colorIn(labels, p.label), selected: o.selected?.index === i, dashed: o.dashed, faded: o.faded, closed: true });
    });
  } else if (control.type === "keypoints") {
    const names = keypointNamesOf(control);
    const skeleton = skeletonOf(control);
    keypointInstancesOf(answer).forEach((inst, i) => {
      if (i === o.skip) return;
      const at = new Map(inst.points.filter((q) => q.visibility > 0).map((q) => [q.name, q] as const));
      const color = o.color ?? colorIn(labels.length ? labels : names, inst.label ?? inst.points[0]?.name);
      out.push({
        kind: "keypoints",
        color,
        label: inst.label ?? "",
        selected: o.selected?.index === i,
        dashed: o.dashed,
        faded: o.faded,
        points: inst.points
          .filter((q) => q.visibility > 0)
          .map((q) => ({ ...q, color: o.color ?? colorIn(names, q.name), selected: o.selected?.index === i && o.selected.point === q.name })),
        edges: skeleton.filter(([a, b]) => at.has(a) && at.has(b)).map(([a, b]) => [at.get(a)!, at.get(b)!]),
      });
    });
  }
  return out;
}

/** Deletes the selected region (a keypoint: that point only) of one of `controls`. */
export function deleteSelection(ctx: LabelingContext, controls: readonly Control[]): boolean {
  const sel = mediaState().selected;
  if (!sel || ctx.readOnly) return false;
  const control = controls.find((c) => c.name === sel.control);
  if (!control) return false;
  const answer = ctx.result[control.name];
  if (control.type === "bbox") ctx.setAnswer(control.name, boxesOf(answer).filter((_, i) => i !== sel.index));
  else if (control.type === "polygon") ctx.setAnswer(control.name, polygonsOf(answer).filter((_, i) => i !== sel.index));
  else if (control.type === "keypoints") {
    const instances = keypointInstancesOf(answer);
    const inst = instances[sel.index];
    if (!inst) return false;
    const points = sel.point ? inst.points.filter((q) => q.name !== sel.point) : [];
    ctx.setAnswer(control.name, points.length ? instances.map((x, i) => (i === sel.index ? { ...x, points } : x)) : instances.filter((_, i) => i !== sel.index));
  } else return false;
  updateMediaState({ selected: null });
  return true;
}

const isPlaced = (inst: KeypointInstance | undefined, name: string): boolean => inst?.points.some((q) => q.name === name && q.visibility > 0) ?? false;

/**
 * Where the next click on the image puts a keypoint: into the target instance (else the last one)
 * the target point if it is not placed yet, else its first unplaced point; when that instance is
 * complete (or there is none), into a new instance (`index` = instances.length).
 */
export function keypointPlacement(
  control: Control,
  instances: readonly KeypointInstance[],
  target: { control: string; instance: number | null; name: string | null } | null,
): { index: number; name: string | null } {
  const names = keypointNamesOf(control).map((k) => k.value);
  const mine = target?.control === control.name ? target : null;
  const index = mine && mine.instance !== null && mine.instance < instances.length ? mine.instance : mine && mine.instance === null ? instances.length : instances.length - 1;
  const instance = instances[index];
  const wanted = mine?.name && names.includes(mine.name) ? mine.name : null;
  if (instance) {
    const name = wanted && !isPlaced(instance, wanted) ? wanted : names.find((n) => !isPlaced(instance, n));
    if (name !== undefined) return { index, name };
  }
  return { index: instances.length, name: wanted ?? names[0] ?? null };
}
