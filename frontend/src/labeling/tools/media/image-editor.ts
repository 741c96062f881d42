/**
 * The image field's editor: pointer and key input (in screen pixels of the view) turned into
 * answers of the hosted controls (bbox, polygon, keypoints) through `ctx.setAnswer`, plus the
 * viewport (zoom, pan, fit) and what to draw. No Konva and no DOM here: the view feeds events in
 * and draws `regions()` / `overlay()`, so every behaviour is testable in plain Vitest.
 *
 * Each drawing tool is one module behind one interface (drawing/: rectangle, polygon, keypoint);
 * the editor keeps the viewport, panning, selection and hit testing, and dispatches every press,
 * move, release and key that concerns a region to the tool of that region's control.
 *
 * While a box, vertex or point is dragged the change lives in `preview` and only the edit layer is
 * redrawn; the answer is set once, on release (one undo step).
 */
import type { Control, LabelingContext } from "../../contract";
import {
  DRAWING_TYPES,
  type DrawItem,
  type DrawingTool,
  type EditorHost,
  GRAB,
  type Overlay,
  type Preview,
  type ToolDrag,
  closePolygon,
  drawingToolFor,
  keypointPlacement,
  placeKeypoint,
  removeVertex,
} from "./drawing";
import { polygonTool } from "./drawing/polygon";
import { type Point, type Size, type Viewport, clampPoint, fitViewport, panBy, toImage, wheelFactor, zoomAt } from "./geometry";
import { type Selection, mediaState, updateMediaState } from "./state";

export { DRAWING_TYPES, GRAB, keypointPlacement };
export type { DrawItem };
export const PAN_STEP = 60;

export interface PointerInput {
  /** Screen position inside the view. */
  x: number;
  y: number;
  button?: number;
  shift?: boolean;
  alt?: boolean;
}

type Drag = { kind: "pan"; last: Point } | { kind: "tool"; tool: DrawingTool; state: ToolDrag };

export interface EditorOptions {
  ctx: () => LabelingContext;
  /** The visible drawing controls hosted by this field (bbox, polygon, keypoints). */
  controls: () => readonly Control[];
  /** Something changed that needs a redraw: "view" (viewport: all layers), "edit" (the edit layer only), "regions". */
  redraw(what: "view" | "edit" | "regions"): void;
}

export class ImageEditor implements EditorHost {
  size: Size = { width: 0, height: 0 };
  view: Size = { width: 0, height: 0 };
  viewport: Viewport = { scale: 1, x: 0, y: 0 };
  spaceHeld = false;
  /** The region being dragged, drawn on the edit layer instead of its stored shape. */
  preview: Preview | null = null;
  pointer: Point | null = null;
  private drag: Drag | null = null;
  private fitted = true;

  constructor(private readonly opts: EditorOptions) {}

  get ctx(): LabelingContext {
    return this.opts.ctx();
  }

  get dragging(): boolean {
    return this.drag !== null;
  }

  redraw(what: "view" | "edit" | "regions"): void {
    this.opts.redraw(what);
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

  control(name: string): Control | undefined {
    return this.opts.controls().find((c) => c.name === name);
  }

  private toolOf(name: string | undefined): DrawingTool | undefined {
    const control = name === undefined ? undefined : this.control(name);
    return control ? drawingToolFor(control.type) : undefined;
  }

  set(control: string, answer: unknown): void {
    this.ctx.setAnswer(control, answer);
  }

  select(selection: Selection | null): void {
    const current = mediaState().selected;
    if (current?.control === selection?.control && current?.index === selection?.index && current?.point === selection?.point) return;
    updateMediaState({ selected: selection });
    if (selection && this.ctx.activeControl !== selection.control) this.ctx.setActiveControl(selection.control);
    this.opts.redraw("regions");
  }

  // --- hit testing (image pixels) ---------------------------------------------------------------

  grab(): number {
    return GRAB / this.viewport.scale;
  }

  /** The region under `p`: the smallest box or polygon containing it, or a keypoint near it. */
  hitTest(p: Point): Selection | null {
    let best: { sel: Selection; area: number } | null = null;
    const r = this.grab();
    for (const control of this.opts.controls()) {
      const tool = drawingToolFor(control.type);
      if (!tool) continue;
      for (const hit of tool.hits(control, this.ctx.result[control.name], p, r)) {
        // A point wins over any region, the last point found over earlier ones.
        if (hit.area < 0 || !best || hit.area < best.area) best = hit;
      }
    }
    return best?.sel ?? null;
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
    const drawingTool = drawing ? drawingToolFor(drawing.type) : undefined;

    // A draft in progress (a polygon being drawn) takes the press.
    if (!readOnly && draft && drawing && draft.control === drawing.name && drawingTool?.onDraftPointerDown?.(this, drawing, p, inside)) return;

    // A handle of the selected region (resize, vertex).
    const sel = mediaState().selected;
    const selected = sel ? this.control(sel.control) : undefined;
    const selectedTool = selected ? drawingToolFor(selected.type) : undefined;
    if (sel && selected && selectedTool && !readOnly) {
      const handle = selectedTool.pressHandle(this, selected, sel, p, { shift: input.shift });
      if (handle === "done") return;
      if (handle) {
        this.drag = { kind: "tool", tool: selectedTool, state: handle };
        return;
      }
    }

    // A region: select it, and drag it.
    const hit = this.hitTest(p);
    if (hit) {
      this.select(hit);
      if (readOnly) {
        this.drag = { kind: "pan", last: screen }; // selecting to look at it; dragging still pans
        return;
      }
      const control = this.control(hit.control)!;
      const tool = drawingToolFor(control.type)!;
      const state = tool.grabRegion(this, control, hit, p);
      if (state) this.drag = { kind: "tool", tool, state };
      return;
    }

    // The empty image: the drawing control's tool starts a region.
    if (readOnly || !drawing || !drawingTool || !inside) {
      if (mediaState().selected) this.select(null);
      this.drag = { kind: "pan", last: screen };
      return;
    }
    const state = drawingTool.onPointerDown(this, drawing, clampPoint(p, this.size));
    if (state) this.drag = { kind: "tool", tool: drawingTool, state };
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
    drag.tool.onPointerMove(this, drag.state, toImage(this.viewport, screen));
    this.opts.redraw("edit");
  }

  pointerUp(_input?: PointerInput): void {
    const drag = this.drag;
    this.drag = null;
    const preview = this.preview;
    this.preview = null;
    if (!drag || drag.kind === "pan") return;
    if (drag.tool.onPointerUp(this, drag.state)) return;
    if (preview) this.toolOf(preview.control)?.commit(this, preview);
    this.opts.redraw("edit");
  }

  // --- tool actions (kept on the editor for the view and the panels) ------------------------------

  /** Closes the polygon being drawn (3 points with an area), or says why not. */
  closePolygon(): boolean {
    return closePolygon(this);
  }

  removeVertex(controlName: string, index: number, vertex: number): void {
    removeVertex(this, controlName, index, vertex);
  }

  /** Places the target point (or the first one not yet placed) of the target instance at `p`. */
  placeKeypoint(control: Control, p: Point): void {
    placeKeypoint(this, control, p);
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
    }
    // A draft in progress (the polygon being drawn) takes Enter, Escape and Backspace.
    if (draft && (this.toolOf(draft.control) ?? polygonTool).onDraftKey?.(this, key)) return true;
    switch (key) {
      case "Escape":
        if (sel) {
          this.select(null);
          return true;
        }
        return false;
      case "Backspace":
      case "Delete":
        return this.deleteSelected();
      default:
        return false;
    }
  }

  /** Moves the selected region by (dx, dy) image pixels (one undo step per run of nudges). */
  nudge(sel: Selection, dx: number, dy: number): boolean {
    const control = this.control(sel.control);
    const tool = control ? drawingToolFor(control.type) : undefined;
    return control && tool ? tool.nudge(this, control, sel, dx, dy) : false;
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
        const style = { color: other.color, dashed: true, faded: true, selected: null, skip: null };
        out.push(...(drawingToolFor(control.type)?.items(control, other.result[control.name], style) ?? []));
      }
    }
    for (const control of this.opts.controls()) {
      const skip = this.preview?.control === control.name ? this.preview.index : null;
      const dashed = ctx.predicted.has(control.name);
      const style = { color: null, dashed, faded: false, selected: sel?.control === control.name ? sel : null, skip };
      out.push(...(drawingToolFor(control.type)?.items(control, ctx.result[control.name], style) ?? []));
    }
    return out;
  }

  /** The edit layer: the dragged region, the box being drawn, the polygon draft, handles. */
  overlay(): Overlay {
    const out: Overlay = { items: [], handles: [], midpoints: [], rubber: null };
    const drag = this.drag;
    if (drag?.kind === "tool" && drag.tool.dragItems) {
      out.items.push(...drag.tool.dragItems(this, this.control(drag.state.control), drag.state));
    }
    const preview = this.preview;
    const previewed = preview ? this.control(preview.control) : undefined;
    if (preview && previewed) out.items.push(...(drawingToolFor(previewed.type)?.previewItems(this, previewed, preview) ?? []));
    const sel = mediaState().selected;
    const selected = sel && !this.ctx.readOnly ? this.control(sel.control) : undefined;
    if (sel && selected) drawingToolFor(selected.type)?.selectionHandles(this, selected, sel, out);
    const draft = mediaState().draft;
    if (draft) {
      const control = this.control(draft.control);
      ((control && drawingToolFor(control.type)) ?? polygonTool).draftOverlay?.(this, control, out);
    }
    return out;
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

/** Deletes the selected region (a keypoint: that point only) of one of `controls`. */
export function deleteSelection(ctx: LabelingContext, controls: readonly Control[]): boolean {
  const sel = mediaState().selected;
  if (!sel || ctx.readOnly) return false;
  const control = controls.find((c) => c.name === sel.control);
  const tool = control ? drawingToolFor(control.type) : undefined;
  if (!control || !tool?.remove(ctx, control, sel)) return false;
  updateMediaState({ selected: null });
  return true;
}
