/**
 * One interface for the image editor's drawing tools (drawing/rectangle.ts, polygon.ts,
 * keypoint.ts): the editor (../image-editor.ts) owns the viewport, panning, selection and the
 * pointer bookkeeping, and hands every press, move, release and key that concerns a region to the
 * tool of that region's control (or of the control that draws). No Konva and no DOM here.
 */
import type { Control, LabelingContext } from "../../../contract";
import type { BoxAnswer } from "../answers";
import type { Point, Rect, Size, Viewport } from "../geometry";
import type { Selection } from "../state";

export type DrawingType = "bbox" | "polygon" | "keypoints";

/** Grab distance for handles, vertices and points, in screen pixels. */
export const GRAB = 7;
/** A pointer that moved less than this (screen px) clicked. */
export const CLICK = 4;

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

/** How to draw the regions of one answer. */
export interface ItemStyle {
  color: string | null;
  dashed: boolean;
  faded: boolean;
  selected: Selection | null;
  /** The index left out (it is being dragged and drawn by `overlay`). */
  skip: number | null;
}

/** The region being dragged, drawn on the edit layer instead of its stored shape until release. */
export interface Preview {
  control: string;
  index: number;
  box?: BoxAnswer;
  points?: [number, number][];
  point?: { name: string; x: number; y: number };
}

/** A gesture of a tool, from press to release (its own fields beside `control`). */
export interface ToolDrag {
  control: string;
}

/** What the editor lends its tools. */
export interface EditorHost {
  readonly ctx: LabelingContext;
  /** Image size (pixels). */
  readonly size: Size;
  readonly viewport: Viewport;
  /** The last pointer position (screen), for the rubber band. */
  readonly pointer: Point | null;
  /** The drag in progress, if any. */
  readonly dragging: boolean;
  preview: Preview | null;
  /** Grab distance in image pixels. */
  grab(): number;
  /** A drawing control hosted by this view. */
  control(name: string): Control | undefined;
  set(control: string, answer: unknown): void;
  select(selection: Selection | null): void;
  redraw(what: "view" | "edit" | "regions"): void;
}

export interface Overlay {
  items: DrawItem[];
  handles: Point[];
  midpoints: Point[];
  rubber: [Point, Point] | null;
}

export interface DrawingTool<D extends ToolDrag = ToolDrag> {
  readonly type: DrawingType;
  /** The regions of `answer` under `p` with their area (the smallest wins; a point is -1). */
  hits(control: Control, answer: unknown, p: Point, grab: number): { sel: Selection; area: number }[];
  /** A press on a handle of the selected region: a drag, `"done"` (the press did it all) or null (no handle). */
  pressHandle(host: EditorHost, control: Control, sel: Selection, p: Point, mods: { shift?: boolean }): D | "done" | null;
  /** A press on a region of this control (not read-only): usually a move. */
  grabRegion(host: EditorHost, control: Control, hit: Selection, p: Point): D | null;
  /** A press on the empty image while this control draws (`p` clamped to the image). */
  onPointerDown(host: EditorHost, control: Control, p: Point): D | null;
  /** A press while this tool has a draft in progress: true when it used the press. */
  onDraftPointerDown?(host: EditorHost, control: Control, p: Point, inside: boolean): boolean;
  onPointerMove(host: EditorHost, drag: D, p: Point): void;
  /** Release: true when the tool finished the gesture itself (else the editor commits the preview). */
  onPointerUp(host: EditorHost, drag: D): boolean;
  /** Stores the dragged shape (one undo step). */
  commit(host: EditorHost, preview: Preview): void;
  /** Keys while this tool has a draft in progress (Enter, Escape, Backspace); true when used. */
  onDraftKey?(host: EditorHost, key: string): boolean;
  /** Drops the draft in progress; true when there was one. */
  cancel?(host: EditorHost): boolean;
  /** Moves the selected region by (dx, dy) image pixels. */
  nudge(host: EditorHost, control: Control, sel: Selection, dx: number, dy: number): boolean;
  /** Deletes the selected region from `answer`; false when there is nothing to delete. */
  remove(ctx: LabelingContext, control: Control, sel: Selection): boolean;
  /** The stored regions to draw. */
  items(control: Control, answer: unknown, style: ItemStyle): DrawItem[];
  /** Edit layer: what the drag in progress draws (a box being drawn). */
  dragItems?(host: EditorHost, control: Control | undefined, drag: D): DrawItem[];
  /** Edit layer: the dragged region in its new shape. */
  previewItems(host: EditorHost, control: Control, preview: Preview): DrawItem[];
  /** Edit layer: the handles of the selected region (and where a click adds a vertex). */
  selectionHandles(host: EditorHost, control: Control, sel: Selection, into: Overlay): void;
  /** Edit layer: the draft in progress (a polygon being drawn), its handles and rubber band. */
  draftOverlay?(host: EditorHost, control: Control | undefined, into: Overlay): void;
}
