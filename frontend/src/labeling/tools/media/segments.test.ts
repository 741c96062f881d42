import { beforeEach, describe, expect, it } from "vitest";

import type { Control } from "../../contract";
import { addSegment, updateSegment } from "./segments";
import { applySegmentLabel, deleteSelectedSegment } from "./segment-tools";
import { mediaState, resetMediaState } from "./state";
import { fakeContext } from "./test-context";
import { VideoBoxEditor } from "./video-editor";
import { keyframesOf } from "./timeline";

const speakers: Control = { name: "speakers", type: "audio_segments", field: "audio", labels: [{ value: "agent" }, { value: "customer" }] };

beforeEach(() => resetMediaState());

describe("segments", () => {
  it("adds segments sorted by start and selects the new one", () => {
    const ctx = fakeContext([speakers], { fieldType: "audio" });

    addSegment(ctx, speakers, 5, 3.21234, "agent", 10);
    addSegment(ctx, speakers, 0.5, 1, "customer", 10);

    expect(ctx.result.speakers).toEqual([
      { start: 0.5, end: 1, label: "customer" },
      { start: 3.212, end: 5, label: "agent" },
    ]);
    expect(mediaState().selected).toEqual({ control: "speakers", index: 0 });
  });

  it("refuses an overlap with a message and stores nothing; clips an edit to the duration", () => {
    const ctx = fakeContext([speakers], { result: { speakers: [{ start: 1, end: 3, label: "agent" }] } });

    expect(addSegment(ctx, speakers, 2, 4, "customer", 10)).toBe(false);
    expect(mediaState().message).toEqual({ control: "speakers", text: "Segments may not overlap in this project." });
    expect(ctx.calls).toEqual([]);

    expect(updateSegment(ctx, speakers, 0, 1, 12, 10)).toBe(true); // clipped to the duration

    expect(ctx.calls).toHaveLength(1);
    expect(ctx.result.speakers).toEqual([{ start: 1, end: 10, label: "agent" }]);
  });

  it("relabels the selected segment (the armed label stays) and deletes it", () => {
    const ctx = fakeContext([speakers], { result: { speakers: [{ start: 1, end: 3, label: "agent" }] } });
    addSegment(ctx, speakers, 4, 5, "agent", 10);

    applySegmentLabel(speakers, ctx, "customer");
    expect(ctx.result.speakers).toEqual([{ start: 1, end: 3, label: "agent" }, { start: 4, end: 5, label: "customer" }]);
    expect(ctx.activeLabel.speakers).toBeUndefined();

    expect(deleteSelectedSegment(speakers, ctx)).toBe(true);
    expect(ctx.result.speakers).toEqual([{ start: 1, end: 3, label: "agent" }]);
  });
});

describe("video boxes", () => {
  const tracks: Control = { name: "tracks", type: "video_bbox", field: "video", labels: [{ value: "car" }] };

  it("draws a track on one frame, then a drag on a later frame adds a keyframe and interpolates", () => {
    const ctx = fakeContext([tracks], { fieldType: "video" });
    const editor = new VideoBoxEditor(() => ctx, () => tracks);
    editor.size = { width: 320, height: 180 };
    editor.scale = 2; // shown at 640x360

    editor.pointerDown({ x: 40, y: 40 });
    editor.pointerMove({ x: 120, y: 100 });
    editor.pointerUp();
    editor.frame = 4;
    editor.pointerDown({ x: 60, y: 60 }); // the selected track's ghost on a frame it does not cover yet
    editor.pointerMove({ x: 100, y: 60 });
    editor.pointerUp();

    const [track] = ctx.result.tracks as { id: string; label: string; frames: { frame: number; x: number }[] }[];
    expect(track!.id).toBe("t1");
    expect(track!.frames.map((f) => [f.frame, f.x])).toEqual([[0, 20], [1, 25], [2, 30], [3, 35], [4, 40]]);
    expect(keyframesOf(track!.frames as never).map((k) => k.frame)).toEqual([0, 4]);
  });

  it("changes nothing when read-only", () => {
    const ctx = fakeContext([tracks], { fieldType: "video", readOnly: true });
    const editor = new VideoBoxEditor(() => ctx, () => tracks);
    editor.size = { width: 320, height: 180 };

    editor.pointerDown({ x: 10, y: 10 });
    editor.pointerMove({ x: 100, y: 100 });
    editor.pointerUp();

    expect(ctx.calls).toEqual([]);
  });
});
