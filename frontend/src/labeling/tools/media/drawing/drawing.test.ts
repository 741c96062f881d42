/** The drawing tools behind their one interface, driven directly through a minimal host (no editor). */
import { beforeEach, describe, expect, it } from "vitest";

import type { Control } from "../../../contract";
import { mediaState, resetMediaState } from "../state";
import { fakeContext } from "../test-context";
import { DRAWING_TOOLS, DRAWING_TYPES, type EditorHost, drawingToolFor } from ".";

const bbox: Control = { name: "objects", type: "bbox", field: "image", labels: [{ value: "car" }] };
const polygon: Control = { name: "regions", type: "polygon", field: "image", labels: [{ value: "road" }] };
const pose: Control = { name: "pose", type: "keypoints", field: "image", keypoints: [{ value: "nose" }, { value: "eye" }] };

function host(controls: Control[], init: Parameters<typeof fakeContext>[1] = {}): EditorHost & { redraws: string[] } {
  const ctx = fakeContext(controls, init);
  const redraws: string[] = [];
  return {
    ctx,
    size: { width: 100, height: 100 },
    viewport: { scale: 1, x: 0, y: 0 },
    pointer: null,
    dragging: false,
    preview: null,
    redraws,
    grab: () => 7,
    control: (name) => controls.find((c) => c.name === name),
    set: (control, answer) => ctx.setAnswer(control, answer),
    select: () => undefined,
    redraw: (what) => void redraws.push(what),
  };
}

beforeEach(() => resetMediaState());

describe("drawing tools", () => {
  it("has one tool per drawing control type, and none for others", () => {
    expect(DRAWING_TYPES).toEqual(["bbox", "polygon", "keypoints"]);
    for (const type of DRAWING_TYPES) expect(DRAWING_TOOLS[type].type).toBe(type);
    expect(drawingToolFor("single_choice")).toBeUndefined();
    expect(drawingToolFor("toString")).toBeUndefined();
  });

  it("rectangle: press, move and release draw one box with the armed label", () => {
    const h = host([bbox]); // one label: armed without choosing
    const tool = DRAWING_TOOLS.bbox;
    const drag = tool.onPointerDown(h, bbox, { x: 10, y: 10 })!;
    tool.onPointerMove(h, drag, { x: 40, y: 30 });
    expect(tool.onPointerUp(h, drag)).toBe(true);
    expect(h.ctx.result.objects).toEqual([{ x: 10, y: 10, width: 30, height: 20, label: "car" }]);
  });

  it("polygon: a press starts a draft; Backspace and Escape are draft keys", () => {
    const h = host([polygon]);
    const tool = DRAWING_TOOLS.polygon;
    expect(tool.onPointerDown(h, polygon, { x: 5, y: 5 })).toBeNull();
    expect(mediaState().draft).toEqual({ control: "regions", points: [[5, 5]] });
    tool.onDraftPointerDown!(h, polygon, { x: 50, y: 5 }, true);
    expect(tool.onDraftKey!(h, "Backspace")).toBe(true);
    expect(mediaState().draft?.points).toEqual([[5, 5]]);
    expect(tool.onDraftKey!(h, "Escape")).toBe(true);
    expect(mediaState().draft).toBeNull();
    expect(tool.onDraftKey!(h, "Escape")).toBe(false);
  });

  it("keypoint: each press places the next point; the point is hit within the grab distance", () => {
    const h = host([pose]);
    const tool = DRAWING_TOOLS.keypoints;
    tool.onPointerDown(h, pose, { x: 20, y: 20 });
    tool.onPointerDown(h, pose, { x: 30, y: 20 });
    expect(h.ctx.result.pose).toEqual([{ points: [{ name: "nose", x: 20, y: 20, visibility: 2 }, { name: "eye", x: 30, y: 20, visibility: 2 }] }]);
    expect(tool.hits(pose, h.ctx.result.pose, { x: 21, y: 21 }, 3)).toEqual([{ sel: { control: "pose", index: 0, point: "nose" }, area: -1 }]);
  });
});
