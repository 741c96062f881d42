/**
 * Time and frames for the audio and video tools, framework-free. Segments are seconds
 * (docs/SCHEMA.md#audio_segments); video boxes are per 0-based frame (docs/SCHEMA.md#video_bbox).
 *
 * Video tracks are edited with **keyframes**: the annotator places a box on some frames and every
 * frame between two keyframes gets the linear interpolation. The stored answer is the schema's own
 * shape, a box for every frame from the track's first to its last keyframe (what quality and the
 * exports compare frame by frame); the keyframes are recovered from it as the frames whose box is
 * not the interpolation of its neighbours, so nothing outside the schema is stored.
 */
import { type Rect, round2 } from "./geometry";

export interface Segment {
  start: number;
  end: number;
  label: string;
}

export interface FrameBox extends Rect {
  frame: number;
}

export interface Track {
  id: string;
  label: string;
  frames: FrameBox[];
}

export const DEFAULT_FPS = 25;
/** Shortest segment a drag creates, seconds (a shorter drag is a click: seek). */
export const MIN_SEGMENT = 0.05;

export const round3 = (v: number): number => Math.round(v * 1000) / 1000;

/** Frames per second from the media facts (frame_count / duration), else `fallback`. */
export function fpsOf(media: { frame_count?: number; duration?: number } | undefined, fallback = DEFAULT_FPS): number {
  const n = media?.frame_count;
  const d = media?.duration;
  if (typeof n === "number" && typeof d === "number" && n > 0 && d > 0 && Number.isFinite(d)) return n / d;
  return fallback;
}

/** The frame shown at `time`: frame i covers [i/fps, (i+1)/fps). A hair of slack absorbs float error. */
export const frameAt = (time: number, fps: number): number => Math.max(0, Math.floor(time * fps + 1e-6));

/** A time inside frame `frame` (its middle), so seeking there shows exactly that frame. */
export const timeOfFrame = (frame: number, fps: number): number => (frame + 0.5) / fps;

export function frameCountOf(duration: number, fps: number, known?: number): number {
  if (typeof known === "number" && known > 0) return known;
  return Number.isFinite(duration) && duration > 0 ? Math.max(1, Math.round(duration * fps)) : 1;
}

/** "1:05.250" (m:ss.mmm) or "1:02:03.000". */
export function formatTime(seconds: number): string {
  const s = Math.max(0, Number.isFinite(seconds) ? seconds : 0);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = (s % 60).toFixed(3).padStart(6, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

/** A segment between two times in any order, clipped to [0, duration], 3 decimals. */
export function segmentFrom(a: number, b: number, duration: number, label: string): Segment {
  const high = Number.isFinite(duration) && duration > 0 ? duration : Math.max(a, b);
  const lo = Math.min(Math.max(0, Math.min(a, b)), high);
  const hi = Math.min(Math.max(0, Math.max(a, b)), high);
  return { start: round3(lo), end: round3(hi), label };
}

export const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }): boolean => a.start < b.end && b.start < a.end;

/** Why `candidate` may not join `segments` (ignoring index `except`), or null. */
export function segmentProblem(segments: readonly Segment[], candidate: Segment, allowOverlap: boolean, except = -1): string | null {
  if (candidate.end - candidate.start < MIN_SEGMENT / 2) return "A segment needs a length.";
  if (!allowOverlap && segments.some((s, i) => i !== except && overlaps(s, candidate))) return "Segments may not overlap in this project.";
  return null;
}

export const sortSegments = (segments: readonly Segment[]): Segment[] => [...segments].sort((a, b) => a.start - b.start || a.end - b.end);

/** The segment under `time` (the shortest one when several overlap), as an index, or -1. */
export function segmentAt(segments: readonly Segment[], time: number): number {
  let best = -1;
  for (let i = 0; i < segments.length; i += 1) {
    const s = segments[i]!;
    if (time >= s.start && time <= s.end && (best < 0 || s.end - s.start < segments[best]!.end - segments[best]!.start)) best = i;
  }
  return best;
}

// --- tracks and keyframes ---------------------------------------------------------------------

const lerp = (a: number, b: number, t: number): number => a + (b - a) * t;

export function interpolate(a: FrameBox, b: FrameBox, frame: number): FrameBox {
  const t = b.frame === a.frame ? 0 : (frame - a.frame) / (b.frame - a.frame);
  return { frame, x: round2(lerp(a.x, b.x, t)), y: round2(lerp(a.y, b.y, t)), width: round2(lerp(a.width, b.width, t)), height: round2(lerp(a.height, b.height, t)) };
}

/** Every frame from the first keyframe to the last, interpolated between keyframes. */
export function expandKeyframes(keyframes: readonly FrameBox[]): FrameBox[] {
  const keys = [...keyframes].sort((a, b) => a.frame - b.frame);
  const out: FrameBox[] = [];
  for (let i = 0; i < keys.length; i += 1) {
    const a = keys[i]!;
    const b = keys[i + 1];
    out.push({ frame: a.frame, x: a.x, y: a.y, width: a.width, height: a.height });
    if (b) for (let f = a.frame + 1; f < b.frame; f += 1) out.push(interpolate(a, b, f));
  }
  return out;
}

const TOLERANCE = 0.011; // two-decimal rounding of interpolated values

/** The keyframes of a stored frame list: its ends, the frames next to a gap, and every frame whose
 * box is not the interpolation of its neighbouring frames' boxes. */
export function keyframesOf(frames: readonly FrameBox[]): FrameBox[] {
  const sorted = [...frames].sort((a, b) => a.frame - b.frame);
  if (sorted.length <= 2) return sorted;
  const keys: FrameBox[] = [sorted[0]!];
  let anchor = sorted[0]!;
  for (let i = 1; i < sorted.length - 1; i += 1) {
    const current = sorted[i]!;
    const next = sorted[i + 1]!;
    const gap = current.frame - sorted[i - 1]!.frame > 1 || next.frame - current.frame > 1;
    // does the straight run from the anchor to `next` still pass through `current`?
    const expected = interpolate(anchor, next, current.frame);
    const straight = (["x", "y", "width", "height"] as const).every((k) => Math.abs(expected[k] - current[k]) <= TOLERANCE);
    if (gap || !straight) {
      keys.push(current);
      anchor = current;
    }
  }
  keys.push(sorted[sorted.length - 1]!);
  return keys;
}

/** The box a track shows on `frame` (null before its first and after its last frame). */
export function boxAt(track: Track, frame: number): FrameBox | null {
  return track.frames.find((f) => f.frame === frame) ?? null;
}

/** Sets (adds or replaces) the keyframe at `box.frame` and re-interpolates. */
export function setKeyframe(track: Track, box: FrameBox): Track {
  const keys = keyframesOf(track.frames).filter((k) => k.frame !== box.frame);
  return { ...track, frames: expandKeyframes([...keys, box]) };
}

/** Removes the keyframe at `frame`; null when the track would be left with no frame. */
export function removeKeyframe(track: Track, frame: number): Track | null {
  const keys = keyframesOf(track.frames).filter((k) => k.frame !== frame);
  return keys.length === 0 ? null : { ...track, frames: expandKeyframes(keys) };
}

export const isKeyframe = (track: Track, frame: number): boolean => keyframesOf(track.frames).some((k) => k.frame === frame);

export function nextTrackId(tracks: readonly Track[]): string {
  const ids = new Set(tracks.map((t) => t.id));
  let n = tracks.length + 1;
  while (ids.has(`t${n}`)) n += 1;
  return `t${n}`;
}
