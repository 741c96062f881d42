/**
 * Segment edits shared by the audio and video views: add and update a segment of a time control,
 * refusing what the server would refuse (no length, overlap when `allow_overlap` is off) with a
 * message instead of a bad answer. The list stays sorted by start; the new/edited one is selected.
 */
import type { Control, LabelingContext } from "../../contract";
import { segmentsOf } from "./answers";
import { updateMediaState } from "./state";
import { type Segment, segmentFrom, segmentProblem, sortSegments } from "./timeline";

function store(ctx: LabelingContext, control: Control, segments: Segment[], target: Segment): void {
  const sorted = sortSegments(segments);
  ctx.setAnswer(control.name, sorted);
  updateMediaState({ selected: { control: control.name, index: sorted.indexOf(target) }, message: null });
}

export function addSegment(ctx: LabelingContext, control: Control, a: number, b: number, label: string, duration: number): boolean {
  if (ctx.readOnly) return false;
  const segments = segmentsOf(ctx.result[control.name]);
  const segment = segmentFrom(a, b, duration, label);
  const problem = segmentProblem(segments, segment, control.allow_overlap === true);
  if (problem) {
    updateMediaState({ message: { control: control.name, text: problem } });
    return false;
  }
  store(ctx, control, [...segments, segment], segment);
  return true;
}

export function updateSegment(ctx: LabelingContext, control: Control, index: number, a: number, b: number, duration: number): boolean {
  const segments = segmentsOf(ctx.result[control.name]);
  const old = segments[index];
  if (ctx.readOnly || !old) return false;
  const segment = segmentFrom(a, b, duration, old.label);
  if (segment.start === old.start && segment.end === old.end) return false;
  const problem = segmentProblem(segments, segment, control.allow_overlap === true, index);
  if (problem) {
    updateMediaState({ message: { control: control.name, text: problem } });
    return false;
  }
  store(ctx, control, segments.map((s, i) => (i === index ? segment : s)), segment);
  return true;
}
