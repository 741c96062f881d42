/**
 * Editing video_bbox tracks on the frame shown: draw a box on an empty spot (a new track with one
 * keyframe), drag a box or one of its handles (a keyframe on this frame; the frames between
 * keyframes are interpolated, timeline.ts). Screen points are divided by `scale` (the displayed
 * size of the video over its pixel size). No DOM here.
 */
import type { Control, LabelingContext } from "../../contract";
import { armedLabel, tracksOf } from "./answers";
import { HANDLES, type Handle, type Point, type Rect, type Size, boxFromCorners, containsPoint, distance, handlePoint, moveBox, resizeBox } from "./geometry";
import { mediaState, updateMediaState } from "./state";
import { type FrameBox, type Track, boxAt, nextTrackId, removeKeyframe, setKeyframe } from "./timeline";

const GRAB = 7;
const CLICK = 4;

type Drag =
  | { kind: "draw"; from: Point; to: Point }
  | { kind: "move"; index: number; from: Point; box: FrameBox }
  | { kind: "resize"; index: number; handle: Handle; box: FrameBox };

export class VideoBoxEditor {
  size: Size = { width: 0, height: 0 };
  scale = 1;
  frame = 0;
  private drag: Drag | null = null;
  /** The box being dragged or drawn (video pixels), drawn instead of the stored one. */
  preview: { index: number; box: Rect } | null = null;

  constructor(
    private readonly ctx: () => LabelingContext,
    private readonly control: () => Control | null,
  ) {}

  private tracks(): Track[] {
    const c = this.control();
    return c ? tracksOf(this.ctx().result[c.name]) : [];
  }

  /** The box track `index` shows on the current frame; for the selected track outside its frames,
   * its nearest box (drawn as a ghost: dragging it adds a keyframe here and extends the track). */
  boxShown(track: Track, index: number): { box: FrameBox; ghost: boolean } | null {
    const here = boxAt(track, this.frame);
    if (here) return { box: here, ghost: false };
    if (index !== this.selectedIndex()) return null;
    const nearest = [...track.frames].sort((a, b) => Math.abs(a.frame - this.frame) - Math.abs(b.frame - this.frame))[0];
    return nearest ? { box: { ...nearest, frame: this.frame }, ghost: true } : null;
  }

  selectedIndex(): number {
    const sel = mediaState().selected;
    const c = this.control();
    return c && sel?.control === c.name ? sel.index : -1;
  }

  pointerDown(screen: Point): void {
    const c = this.control();
    if (!c) return;
    const p = { x: screen.x / this.scale, y: screen.y / this.scale };
    const tracks = this.tracks();
    const r = GRAB / this.scale;
    const sel = this.selectedIndex();
    const selBox = sel >= 0 && tracks[sel] ? (this.boxShown(tracks[sel]!, sel)?.box ?? null) : null;
    if (selBox && !this.ctx().readOnly) {
      const handle = HANDLES.find((h) => distance(handlePoint(selBox, h), p) <= r);
      if (handle) {
        this.drag = { kind: "resize", index: sel, handle, box: selBox };
        return;
      }
    }
    let hit = -1;
    let area = Infinity;
    tracks.forEach((t, i) => {
      const b = this.boxShown(t, i)?.box;
      if (b && containsPoint(b, p, r / 2) && b.width * b.height < area) {
        hit = i;
        area = b.width * b.height;
      }
    });
    if (hit >= 0) {
      updateMediaState({ selected: { control: c.name, index: hit } });
      this.ctx().setActiveControl(c.name);
      const shown = this.boxShown(tracks[hit]!, hit) ?? { box: { ...tracks[hit]!.frames[0]!, frame: this.frame } };
      if (!this.ctx().readOnly) this.drag = { kind: "move", index: hit, from: p, box: shown.box };
      return;
    }
    if (mediaState().selected) updateMediaState({ selected: null });
    if (this.ctx().readOnly) return;
    this.drag = { kind: "draw", from: p, to: p };
  }

  pointerMove(screen: Point): boolean {
    const d = this.drag;
    if (!d) return false;
    const p = { x: screen.x / this.scale, y: screen.y / this.scale };
    if (d.kind === "draw") {
      d.to = p;
      this.preview = { index: -1, box: boxFromCorners(d.from, d.to, this.size) };
    } else if (d.kind === "move") {
      if (distance(p, d.from) * this.scale >= CLICK) this.preview = { index: d.index, box: moveBox(d.box, p.x - d.from.x, p.y - d.from.y, this.size) };
    } else {
      this.preview = { index: d.index, box: resizeBox(d.box, d.handle, p, this.size) };
    }
    return true;
  }

  pointerUp(): void {
    const d = this.drag;
    const preview = this.preview;
    this.drag = null;
    this.preview = null;
    const c = this.control();
    if (!d || !c || !preview) return;
    const ctx = this.ctx();
    const tracks = this.tracks();
    const box: FrameBox = { frame: this.frame, x: preview.box.x, y: preview.box.y, width: preview.box.width, height: preview.box.height };
    if (d.kind === "draw") {
      if (box.width * this.scale < CLICK || box.height * this.scale < CLICK || box.width < 1 || box.height < 1) return;
      const label = armedLabel(c, ctx.activeLabel[c.name]);
      if (label === null) return;
      const track: Track = { id: nextTrackId(tracks), label, frames: [box] };
      ctx.setAnswer(c.name, [...tracks, track]);
      updateMediaState({ selected: { control: c.name, index: tracks.length } });
      return;
    }
    ctx.setAnswer(c.name, tracks.map((t, i) => (i === d.index ? setKeyframe(t, box) : t)));
  }

  /** A keyframe on the current frame with the box the selected track shows here (or its nearest). */
  addKeyframeHere(): boolean {
    const c = this.control();
    const i = this.selectedIndex();
    const track = this.tracks()[i];
    if (!c || !track || this.ctx().readOnly) return false;
    const nearest = boxAt(track, this.frame) ?? [...track.frames].sort((a, b) => Math.abs(a.frame - this.frame) - Math.abs(b.frame - this.frame))[0]!;
    this.ctx().setAnswer(c.name, this.tracks().map((t, j) => (j === i ? setKeyframe(t, { ...nearest, frame: this.frame }) : t)));
    return true;
  }

  removeKeyframeHere(): boolean {
    const c = this.control();
    const i = this.selectedIndex();
    const track = this.tracks()[i];
    if (!c || !track || this.ctx().readOnly) return false;
    const updated = removeKeyframe(track, this.frame);
    const tracks = this.tracks();
    this.ctx().setAnswer(c.name, updated ? tracks.map((t, j) => (j === i ? updated : t)) : tracks.filter((_, j) => j !== i));
    if (!updated) updateMediaState({ selected: null });
    return true;
  }

  deleteTrack(): boolean {
    const c = this.control();
    const i = this.selectedIndex();
    if (!c || i < 0 || this.ctx().readOnly) return false;
    this.ctx().setAnswer(c.name, this.tracks().filter((_, j) => j !== i));
    updateMediaState({ selected: null });
    return true;
  }

  nudge(dx: number, dy: number): boolean {
    const c = this.control();
    const i = this.selectedIndex();
    const track = this.tracks()[i];
    const box = track ? (this.boxShown(track, i)?.box ?? null) : null;
    if (!c || !track || !box || this.ctx().readOnly) return false;
    const moved = { ...moveBox(box, dx, dy, this.size), frame: this.frame };
    this.ctx().setAnswer(c.name, this.tracks().map((t, j) => (j === i ? setKeyframe(t, moved) : t)), { coalesce: `nudge:${c.name}:${i}:${this.frame}` });
    return true;
  }

  isDragging(): boolean {
    return this.drag !== null;
  }
}
