import { describe, expect, it } from "vitest";

import { controlToolFor, fieldViewFor } from "../../registry";
import type { DrawItem } from "./image-editor";
import { registerMediaTools } from "./index";
import { drawItems } from "./render";

function recorder() {
  const calls: string[] = [];
  const g = new Proxy(
    { lineWidth: 0, strokeStyle: "", fillStyle: "", font: "", globalAlpha: 1, textBaseline: "alphabetic" as CanvasTextBaseline },
    {
      get(target, key) {
        if (key in target) return target[key as keyof typeof target];
        return (...args: unknown[]) => {
          calls.push(String(key));
          return key === "measureText" ? { width: 10 * String(args[0]).length } : undefined;
        };
      },
      set(target, key, value) {
        (target as Record<string, unknown>)[key as string] = value;
        return true;
      },
    },
  );
  return { g: g as never, calls };
}

describe("drawing", () => {
  it("draws 1,000 boxes in one pass with screen-constant lines, and caps the label tags", () => {
    const items: DrawItem[] = Array.from({ length: 1000 }, (_, i) => ({ kind: "box", rect: { x: i, y: 0, width: 40, height: 40 }, color: "#e53935", label: `car ${i}`, selected: false, dashed: false, faded: false }));
    const { g, calls } = recorder();

    drawItems(g, items, 2);

    expect(calls.filter((c) => c === "strokeRect")).toHaveLength(1000);
    expect(calls.filter((c) => c === "fillText")).toHaveLength(400);
    expect((g as { lineWidth: number }).lineWidth).toBe(1); // 2 screen px at scale 2
  });

  it("draws label text with fillText only (never markup)", () => {
    const { g, calls } = recorder();
    drawItems(g, [{ kind: "box", rect: { x: 0, y: 30, width: 100, height: 40 }, color: "#123456", label: "<img src=x onerror=alert(1)>", selected: true, dashed: true, faded: false }], 1);
    expect(calls).toContain("fillText");
    expect(calls).toContain("setLineDash");
  });
});

describe("registration", () => {
  it("registers the three media field views and the eight media controls", () => {
    registerMediaTools();

    expect(fieldViewFor("image")?.hosts).toEqual(["bbox", "polygon", "keypoints"]);
    expect(fieldViewFor("audio")?.hosts).toEqual(["audio_segments"]);
    expect(fieldViewFor("video")?.hosts).toEqual(["video_segments", "video_bbox"]);
    for (const type of ["image_class", "bbox", "polygon", "keypoints", "audio_segments", "transcription", "video_segments", "video_bbox"]) {
      expect(controlToolFor(type)?.Panel, type).toBeTypeOf("function");
    }
  });
});
