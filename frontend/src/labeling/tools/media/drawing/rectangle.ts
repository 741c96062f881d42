/** The rectangle tool (bbox controls): drag on the image to draw, drag a box to move it, a handle to resize. */
import { type BoxAnswer, armedLabel, boxesOf, colorIn, labelColor, labelsOf } from "../answers";
import {
  HANDLES,
  type Handle,
  type Point,
  boxFromCorners,
  clampPoint,
  containsPoint,
  distance,
  handlePoint,
  moveBox,
  resizeBox,
} from "../geometry";
import { CLICK, type DrawItem, type DrawingTool, type ToolDrag } from "./tool";

export type RectangleDrag =
  | (ToolDrag & { kind: "draw"; from: Point; to: Point })
  | (ToolDrag & { kind: "move-box"; index: number; from: Point; box: BoxAnswer; moved: boolean })
  | (ToolDrag & { kind: "resize"; index: number; handle: Handle; box: BoxAnswer });

export const rectangleTool: DrawingTool<RectangleDrag> = {
  type: "bbox",

  hits(control, answer, p, grab) {
    return boxesOf(answer).flatMap((b, index) =>
      containsPoint(b, p, grab / 2) ? [{ sel: { control: control.name, index }, area: b.width * b.height }] : [],
    );
  },

  pressHandle(host, control, sel, p) {
    const box = boxesOf(host.ctx.result[control.name])[sel.index];
    if (!box) return null;
    const handle = HANDLES.find((h) => distance(handlePoint(box, h), p) <= host.grab());
    return handle ? { kind: "resize", control: control.name, index: sel.index, handle, box } : null;
  },

  grabRegion(host, control, hit, p) {
    const box = boxesOf(host.ctx.result[control.name])[hit.index]!;
    return { kind: "move-box", control: control.name, index: hit.index, from: p, box, moved: false };
  },

  onPointerDown(_host, control, p) {
    return { kind: "draw", control: control.name, from: p, to: p };
  },

  onPointerMove(host, drag, p) {
    if (drag.kind === "draw") {
      drag.to = clampPoint(p, host.size);
    } else if (drag.kind === "move-box") {
      const moved = moveBox(drag.box, p.x - drag.from.x, p.y - drag.from.y, host.size);
      drag.moved = drag.moved || distance(p, drag.from) * host.viewport.scale >= CLICK;
      if (drag.moved) host.preview = { control: drag.control, index: drag.index, box: { ...moved, label: drag.box.label } };
    } else {
      host.preview = {
        control: drag.control,
        index: drag.index,
        box: { ...resizeBox(drag.box, drag.handle, p, host.size), label: drag.box.label },
      };
    }
  },

  onPointerUp(host, drag) {
    if (drag.kind !== "draw") return false;
    const scale = host.viewport.scale;
    const box = boxFromCorners(drag.from, drag.to, host.size);
    const big = box.width * scale >= CLICK && box.height * scale >= CLICK && box.width >= 1 && box.height >= 1;
    if (!big) {
      host.select(null);
      host.redraw("edit");
      return true;
    }
    const control = host.control(drag.control)!;
    const label = armedLabel(control, host.ctx.activeLabel[control.name]);
    if (label === null) return true;
    const boxes = boxesOf(host.ctx.result[control.name]);
    host.set(control.name, [...boxes, { ...box, label }]);
    host.select({ control: control.name, index: boxes.length });
    host.redraw("edit");
    return true;
  },

  commit(host, preview) {
    const boxes = boxesOf(host.ctx.result[preview.control]);
    host.set(preview.control, boxes.map((b, i) => (i === preview.index ? preview.box! : b)));
  },

  nudge(host, control, sel, dx, dy) {
    const boxes = boxesOf(host.ctx.result[sel.control]);
    if (!boxes[sel.index]) return false;
    host.ctx.setAnswer(
      control.name,
      boxes.map((b, i) => (i === sel.index ? { ...moveBox(b, dx, dy, host.size), label: b.label } : b)),
      { coalesce: `nudge:${sel.control}:${sel.index}` },
    );
    return true;
  },

  remove(ctx, control, sel) {
    ctx.setAnswer(control.name, boxesOf(ctx.result[control.name]).filter((_, i) => i !== sel.index));
    return true;
  },

  items(control, answer, o) {
    const labels = labelsOf(control);
    const out: DrawItem[] = [];
    boxesOf(answer).forEach((b, i) => {
      if (i !== o.skip) {
        out.push({ kind: "box", rect: b, label: b.label, color: o.color ?? colorIn(labels, b.label), selected: o.selected?.index === i, dashed: o.dashed, faded: o.faded });
      }
    });
    return out;
  },

  dragItems(host, control, drag) {
    if (drag.kind !== "draw") return [];
    const label = control ? (armedLabel(control, host.ctx.activeLabel[control.name]) ?? "") : "";
    const color = control ? labelColor(control, label) : "#1e88e5";
    return [{ kind: "box", rect: boxFromCorners(drag.from, drag.to, host.size), color, label, selected: true, dashed: false, faded: false }];
  },

  previewItems(_host, control, preview) {
    if (!preview.box) return [];
    return [{ kind: "box", rect: preview.box, color: labelColor(control, preview.box.label), label: preview.box.label, selected: true, dashed: false, faded: false }];
  },

  selectionHandles(host, control, sel, into) {
    const preview = host.preview;
    const box = preview?.box && preview.control === sel.control ? preview.box : boxesOf(host.ctx.result[control.name])[sel.index];
    if (box) into.handles.push(...HANDLES.map((h) => handlePoint(box, h)));
  },
};
