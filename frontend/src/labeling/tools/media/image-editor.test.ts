import { beforeEach, describe, expect, it } from "vitest";

import type { Control } from "../../contract";
import { ImageEditor, keypointPlacement } from "./image-editor";
import { applyRegionLabel, toggleImageClass } from "./image-tools";
import { mediaState, resetMediaState, updateMediaState } from "./state";
import { fakeContext, type FakeContext } from "./test-context";

const bbox: Control = { name: "objects", type: "bbox", field: "image", labels: [{ value: "car", hotkey: "c" }, { value: "person" }] };
const polygon: Control = { name: "regions", type: "polygon", field: "image", labels: [{ value: "road" }] };
const pose: Control = {
  name: "pose",
  type: "keypoints",
  field: "image",
  keypoints: [{ value: "nose" }, { value: "left_eye" }, { value: "right_eye" }],
  skeleton: [["nose", "left_eye"]],
};

/** An editor over a 640x480 image shown at 100 % with no offset: screen = image pixels. */
function setup(controls: Control[], init: Parameters<typeof fakeContext>[1] = {}): { ctx: FakeContext; editor: ImageEditor } {
  const ctx = fakeContext(controls, init);
  const editor = new ImageEditor({ ctx: () => ctx, controls: () => controls, redraw: () => {} });
  editor.size = { width: 640, height: 480 };
  editor.view = { width: 640, height: 480 };
  editor.viewport = { scale: 1, x: 0, y: 0 };
  return { ctx, editor };
}

function drag(editor: ImageEditor, from: [number, number], to: [number, number], opts: { shift?: boolean } = {}) {
  editor.pointerDown({ x: from[0], y: from[1], button: 0, ...opts });
  editor.pointerMove({ x: (from[0] + to[0]) / 2, y: (from[1] + to[1]) / 2 });
  editor.pointerMove({ x: to[0], y: to[1] });
  editor.pointerUp({ x: to[0], y: to[1] });
}

beforeEach(() => resetMediaState());

describe("bbox", () => {
  it("draws a box right-to-left with the armed label, in image pixels, as one answer change", () => {
    const { ctx, editor } = setup([bbox]);
    ctx.setActiveLabel("objects", "person");

    drag(editor, [300, 200], [100, 50]);

    expect(ctx.result.objects).toEqual([{ x: 100, y: 50, width: 200, height: 150, label: "person" }]);
    expect(ctx.calls).toHaveLength(1);
    expect(mediaState().selected).toEqual({ control: "objects", index: 0 });
  });

  it("maps screen to image pixels through zoom and pan", () => {
    const { ctx, editor } = setup([bbox]);
    editor.viewport = { scale: 2, x: 100, y: 20 };

    drag(editor, [120, 40], [320, 240]);

    expect(ctx.result.objects).toEqual([{ x: 10, y: 10, width: 100, height: 100, label: "car" }]);
  });

  it("treats a tiny drag as a click: no box, selection cleared", () => {
    const { ctx, editor } = setup([bbox]);
    updateMediaState({ selected: { control: "objects", index: 0 } });

    drag(editor, [10, 10], [12, 11]);

    expect(ctx.calls).toEqual([]);
    expect(mediaState().selected).toBeNull();
  });

  it("moves a box by dragging it (clamped to the image), resizes by a handle, nudges with arrows", () => {
    const { ctx, editor } = setup([bbox], { result: { objects: [{ x: 10, y: 10, width: 100, height: 50, label: "car" }] } });

    drag(editor, [50, 30], [20, 40]);
    expect(ctx.result.objects).toEqual([{ x: 0, y: 20, width: 100, height: 50, label: "car" }]);

    drag(editor, [100, 70], [150, 100]); // the south-east handle
    expect(ctx.result.objects).toEqual([{ x: 0, y: 20, width: 150, height: 80, label: "car" }]);

    expect(editor.key("ArrowRight", { shift: true })).toBe(true);
    expect(editor.key("ArrowRight")).toBe(true);
    expect(ctx.result.objects).toEqual([{ x: 11, y: 20, width: 150, height: 80, label: "car" }]);
    expect(ctx.calls.at(-1)!.options).toEqual({ coalesce: "nudge:objects:0" });
  });

  it("selects the smallest box under the pointer, relabels it with a label key, deletes it", () => {
    const big = { x: 0, y: 0, width: 300, height: 300, label: "car" };
    const small = { x: 50, y: 50, width: 20, height: 20, label: "car" };
    const { ctx, editor } = setup([bbox], { result: { objects: [big, small] } });

    editor.pointerDown({ x: 60, y: 60 });
    editor.pointerUp({ x: 60, y: 60 });
    expect(mediaState().selected).toEqual({ control: "objects", index: 1 });
    expect(ctx.calls).toEqual([]); // a click does not change the answer

    applyRegionLabel(bbox, ctx, "person");
    expect(ctx.result.objects).toEqual([big, { ...small, label: "person" }]);

    expect(editor.key("Delete")).toBe(true);
    expect(ctx.result.objects).toEqual([big]);
  });

  it("leaves schema hotkeys to the shell and changes nothing when read-only", () => {
    const { ctx, editor } = setup([bbox], { result: { objects: [{ x: 10, y: 10, width: 100, height: 50, label: "car" }] }, readOnly: true });

    expect(editor.key("c", {}, new Set(["c"]))).toBe(false);
    drag(editor, [50, 30], [200, 200]);
    drag(editor, [300, 300], [400, 400]);
    expect(editor.key("Delete")).toBe(false);

    expect(ctx.calls).toEqual([]);
    expect(mediaState().selected).toBeNull(); // selected by the first drag, deselected by the second
    expect(editor.viewport).toEqual({ scale: 1, x: 250, y: 270 }); // both drags panned, neither drew
  });

  it("draws 1,000 boxes as data (no node per box) and others' answers dashed in their colour", () => {
    const boxes = Array.from({ length: 1000 }, (_, i) => ({ x: (i % 40) * 16, y: Math.floor(i / 40) * 16, width: 12, height: 12, label: "car" }));
    const { editor } = setup([bbox], { result: { objects: boxes }, others: [{ annotator: "ann", color: "#123456", result: { objects: [boxes[0]] } }] });

    const items = editor.regions();

    expect(items).toHaveLength(1001);
    expect(items[0]).toMatchObject({ kind: "box", color: "#123456", dashed: true, faded: true });
    expect(editor.hitTest({ x: 16 * 39 + 5, y: 16 * 24 + 5 })).toEqual({ control: "objects", index: 999 });
  });
});

describe("polygon", () => {
  it("adds points by clicks and closes on the first point", () => {
    const { ctx, editor } = setup([polygon]);
    for (const [x, y] of [[10, 10], [100, 10], [100, 100]] as const) {
      editor.pointerDown({ x, y });
      editor.pointerUp({ x, y });
    }
    expect(mediaState().draft?.points).toHaveLength(3);

    editor.pointerDown({ x: 12, y: 11 });
    editor.pointerUp({ x: 12, y: 11 });

    expect(ctx.result.regions).toEqual([{ points: [[10, 10], [100, 10], [100, 100]], label: "road" }]);
    expect(mediaState().draft).toBeNull();
  });

  it("refuses to close a polygon without area; Backspace and Escape edit the draft", () => {
    const { ctx, editor } = setup([polygon]);
    updateMediaState({ draft: { control: "regions", points: [[0, 0], [5, 5], [10, 10]] } });

    expect(editor.key("Enter")).toBe(true);
    expect(ctx.calls).toEqual([]);
    expect(mediaState().message?.text).toMatch(/3 points/);

    editor.key("Backspace");
    expect(mediaState().draft?.points).toEqual([[0, 0], [5, 5]]);
    editor.key("Escape");
    expect(mediaState().draft).toBeNull();
  });

  it("drags a vertex of the selected polygon and removes one with Shift+click (never below 3)", () => {
    const square = { points: [[10, 10], [110, 10], [110, 110], [10, 110]], label: "road" };
    const { ctx, editor } = setup([polygon], { result: { regions: [square] } });
    updateMediaState({ selected: { control: "regions", index: 0 } });

    drag(editor, [110, 110], [200, 150]);
    expect(ctx.result.regions).toEqual([{ ...square, points: [[10, 10], [110, 10], [200, 150], [10, 110]] }]);

    editor.pointerDown({ x: 10, y: 110, shift: true });
    editor.pointerUp({ x: 10, y: 110 });
    expect((ctx.result.regions as { points: unknown[] }[])[0]!.points).toEqual([[10, 10], [110, 10], [200, 150]]);

    editor.pointerDown({ x: 10, y: 10, shift: true });
    expect((ctx.result.regions as { points: unknown[] }[])[0]!.points).toHaveLength(3);
    expect(mediaState().message?.text).toMatch(/at least 3/);
  });
});

describe("polygon vertices on edges", () => {
  const square = { points: [[10, 10], [110, 10], [110, 110], [10, 110]], label: "road" };

  it("a click on an edge of the selected polygon inserts a vertex there; a drag moves it too", () => {
    const { ctx, editor } = setup([polygon], { result: { regions: [square] } });
    updateMediaState({ selected: { control: "regions", index: 0 } });

    editor.pointerDown({ x: 60, y: 12 }); // near the top edge, between the first two points
    editor.pointerUp({ x: 60, y: 12 });
    expect((ctx.result.regions as { points: unknown[] }[])[0]!.points).toEqual([[10, 10], [60, 10], [110, 10], [110, 110], [10, 110]]);

    drag(editor, [10, 60], [-30, 60]); // the closing edge (last point back to the first), dragged out
    expect((ctx.result.regions as { points: unknown[] }[])[0]!.points).toEqual([
      [10, 10], [60, 10], [110, 10], [110, 110], [10, 110], [0, 60],
    ]); // clamped to the image
    expect(ctx.calls).toHaveLength(2); // one change per gesture: one undo step each
  });

  it("shows where a click adds a vertex: the middle of each edge of the selected polygon", () => {
    const { editor } = setup([polygon], { result: { regions: [square] } });
    expect(editor.overlay().midpoints).toEqual([]);

    updateMediaState({ selected: { control: "regions", index: 0 } });

    expect(editor.overlay().midpoints).toEqual([{ x: 60, y: 10 }, { x: 110, y: 60 }, { x: 60, y: 110 }, { x: 10, y: 60 }]);
  });

  it("Shift+click on an edge changes nothing; edges of unselected polygons are not handles", () => {
    const { ctx, editor } = setup([polygon], { result: { regions: [square] } });
    updateMediaState({ selected: { control: "regions", index: 0 } });
    editor.pointerDown({ x: 60, y: 10, shift: true });
    editor.pointerUp({ x: 60, y: 10 });
    expect(ctx.calls).toEqual([]);

    updateMediaState({ selected: null });
    editor.pointerDown({ x: 60, y: 10 });
    editor.pointerUp({ x: 60, y: 10 });
    expect(ctx.calls).toEqual([]); // it selected the polygon, inserted nothing
    expect(mediaState().selected).toEqual({ control: "regions", index: 0 });
  });
});

describe("keypoints", () => {
  it("places the points in schema order, then starts a new instance", () => {
    const { ctx, editor } = setup([pose]);
    const click = (x: number, y: number) => {
      editor.pointerDown({ x, y });
      editor.pointerUp({ x, y });
    };

    click(100, 100);
    click(90, 90);
    click(110, 90);
    click(300, 300);

    expect(ctx.result.pose).toEqual([
      { points: [{ name: "nose", x: 100, y: 100, visibility: 2 }, { name: "left_eye", x: 90, y: 90, visibility: 2 }, { name: "right_eye", x: 110, y: 90, visibility: 2 }] },
      { points: [{ name: "nose", x: 300, y: 300, visibility: 2 }] },
    ]);
  });

  it("places a chosen point next and drags an existing point", () => {
    const { ctx, editor } = setup([pose], { result: { pose: [{ points: [{ name: "nose", x: 100, y: 100, visibility: 2 }] }] } });
    updateMediaState({ keypointTarget: { control: "pose", instance: 0, name: "right_eye" } });

    editor.pointerDown({ x: 120, y: 80 });
    editor.pointerUp({ x: 120, y: 80 });
    drag(editor, [100, 100], [105, 130]);

    expect(ctx.result.pose).toEqual([{ points: [{ name: "nose", x: 105, y: 130, visibility: 2 }, { name: "right_eye", x: 120, y: 80, visibility: 2 }] }]);
  });

  it("plans the next placement", () => {
    const one = { points: [{ name: "nose", x: 1, y: 1, visibility: 2 as const }] };
    expect(keypointPlacement(pose, [], null)).toEqual({ index: 0, name: "nose" });
    expect(keypointPlacement(pose, [one], null)).toEqual({ index: 0, name: "left_eye" });
    expect(keypointPlacement(pose, [one], { control: "pose", instance: null, name: "nose" })).toEqual({ index: 1, name: "nose" });
  });
});

describe("image_class", () => {
  it("chooses one label, toggles it off, and with multiple keeps schema order", () => {
    const single: Control = { name: "scene", type: "image_class", field: "image", labels: [{ value: "indoor" }, { value: "outdoor" }] };
    const multi: Control = { ...single, name: "tags", multiple: true };
    const { ctx } = setup([single, multi]);

    toggleImageClass(single, ctx, "outdoor");
    expect(ctx.result.scene).toBe("outdoor");
    toggleImageClass(single, ctx, "outdoor");
    expect(ctx.result.scene).toBeNull();

    toggleImageClass(multi, ctx, "outdoor");
    toggleImageClass(multi, ctx, "indoor");
    expect(ctx.result.tags).toEqual(["indoor", "outdoor"]);
  });
});
