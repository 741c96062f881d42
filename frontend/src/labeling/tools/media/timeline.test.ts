import { describe, expect, it } from "vitest";

import { expandKeyframes, formatTime, fpsOf, frameAt, keyframesOf, removeKeyframe, segmentAt, segmentFrom, segmentProblem, setKeyframe, timeOfFrame } from "./timeline";

describe("frames and time", () => {
  it("derives fps from frame_count / duration, else 25", () => {
    expect(fpsOf({ frame_count: 300, duration: 10 })).toBe(30);
    expect(fpsOf({ duration: 10 })).toBe(25);
    expect(fpsOf(undefined)).toBe(25);
  });

  it("maps every frame's middle time back to the same frame", () => {
    for (const fps of [24, 25, 29.97, 30, 60]) {
      for (let f = 0; f < 500; f += 7) expect(frameAt(timeOfFrame(f, fps), fps)).toBe(f);
    }
    expect(frameAt(1 / 3, 3)).toBe(1); // exactly on a boundary: the new frame
  });

  it("formats times", () => {
    expect(formatTime(65.25)).toBe("1:05.250");
    expect(formatTime(3723)).toBe("1:02:03.000");
  });
});

describe("segments", () => {
  it("orders, clips and rounds a dragged range", () => {
    expect(segmentFrom(9.87654, -1, 8, "a")).toEqual({ start: 0, end: 8, label: "a" });
  });

  it("refuses an overlap unless allowed, and an empty segment", () => {
    const list = [{ start: 1, end: 3, label: "a" }];
    expect(segmentProblem(list, { start: 2, end: 4, label: "b" }, false)).toMatch(/overlap/);
    expect(segmentProblem(list, { start: 2, end: 4, label: "b" }, true)).toBeNull();
    expect(segmentProblem(list, { start: 3, end: 4, label: "b" }, false)).toBeNull();
    expect(segmentProblem(list, { start: 2, end: 4, label: "a" }, false, 0)).toBeNull();
    expect(segmentProblem([], { start: 2, end: 2, label: "a" }, true)).toMatch(/length/);
  });

  it("finds the shortest segment under a time", () => {
    expect(segmentAt([{ start: 0, end: 10, label: "a" }, { start: 4, end: 5, label: "b" }], 4.5)).toBe(1);
    expect(segmentAt([{ start: 0, end: 1, label: "a" }], 2)).toBe(-1);
  });
});

describe("keyframes", () => {
  const a = { frame: 0, x: 0, y: 0, width: 10, height: 10 };
  const b = { frame: 4, x: 40, y: 0, width: 10, height: 30 };

  it("interpolates every frame between keyframes", () => {
    const frames = expandKeyframes([b, a]);
    expect(frames.map((f) => f.frame)).toEqual([0, 1, 2, 3, 4]);
    expect(frames[1]).toEqual({ frame: 1, x: 10, y: 0, width: 10, height: 15 });
  });

  it("recovers the keyframes from the stored frames", () => {
    const c = { frame: 8, x: 40, y: 40, width: 10, height: 30 };
    expect(keyframesOf(expandKeyframes([a, b, c]))).toEqual([a, b, c]);
    const third = { frame: 9, x: 13.33, y: 7, width: 3, height: 3 };
    expect(keyframesOf(expandKeyframes([a, third]))).toEqual([a, third]); // rounding noise is not a keyframe
  });

  it("adds and removes a keyframe; removing the last one removes the track", () => {
    const track = { id: "t1", label: "car", frames: expandKeyframes([a, b]) };
    const moved = setKeyframe(track, { frame: 2, x: 0, y: 0, width: 10, height: 10 });
    expect(keyframesOf(moved.frames).map((k) => k.frame)).toEqual([0, 2, 4]);
    expect(moved.frames[1]).toEqual({ frame: 1, x: 0, y: 0, width: 10, height: 10 });
    const extended = setKeyframe(track, { frame: 6, x: 60, y: 0, width: 10, height: 30 });
    expect(extended.frames.map((f) => f.frame)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(removeKeyframe(moved, 2)!.frames).toEqual(track.frames);
    expect(removeKeyframe({ id: "t", label: "car", frames: [a] }, 0)).toBeNull();
  });
});
