/**
 * The keypoint tool: each click places the next point of the target instance (a new instance once
 * the current one is complete); drag a point to move it. Points, skeleton edges and instance labels
 * come from the control.
 */
import type { Control } from "../../../contract";
import {
  type KeypointInstance,
  type KeypointPoint,
  armedLabel,
  colorIn,
  keypointInstancesOf,
  keypointNamesOf,
  labelsOf,
  skeletonOf,
} from "../answers";
import { type Point, clampPoint, distance, round2 } from "../geometry";
import { mediaState, updateMediaState } from "../state";
import { CLICK, type DrawItem, type DrawingTool, type EditorHost, type ToolDrag } from "./tool";

export type KeypointDrag = ToolDrag & { kind: "point"; index: number; name: string; at: Point; moved: boolean };

const isPlaced = (inst: KeypointInstance | undefined, name: string): boolean =>
  inst?.points.some((q) => q.name === name && q.visibility > 0) ?? false;

/**
 * Where the next click on the image puts a keypoint: into the target instance (else the last one)
 * the target point if it is not placed yet, else its first unplaced point; when that instance is
 * complete (or there is none), into a new instance (`index` = instances.length).
 */
export function keypointPlacement(
  control: Control,
  instances: readonly KeypointInstance[],
  target: { control: string; instance: number | null; name: string | null } | null,
): { index: number; name: string | null } {
  const names = keypointNamesOf(control).map((k) => k.value);
  const mine = target?.control === control.name ? target : null;
  const index = mine && mine.instance !== null && mine.instance < instances.length ? mine.instance : mine && mine.instance === null ? instances.length : instances.length - 1;
  const instance = instances[index];
  const wanted = mine?.name && names.includes(mine.name) ? mine.name : null;
  if (instance) {
    const name = wanted && !isPlaced(instance, wanted) ? wanted : names.find((n) => !isPlaced(instance, n));
    if (name !== undefined) return { index, name };
  }
  return { index: instances.length, name: wanted ?? names[0] ?? null };
}

/** Places the target point (or the first one not yet placed) of the target instance at `p`. */
export function placeKeypoint(host: EditorHost, control: Control, p: Point): void {
  const names = keypointNamesOf(control).map((k) => k.value);
  const instances = keypointInstancesOf(host.ctx.result[control.name]);
  const plan = keypointPlacement(control, instances, mediaState().keypointTarget);
  if (plan.name === null) return;
  const name = plan.name;
  let list = instances;
  if (plan.index >= instances.length) {
    const label = Array.isArray(control.labels) ? armedLabel(control, host.ctx.activeLabel[control.name]) : null;
    list = [...instances, label !== null ? { label, points: [] } : { points: [] }];
  }
  const instance = list[plan.index]!;
  const point: KeypointPoint = { name, x: round2(p.x), y: round2(p.y), visibility: 2 };
  const updated: KeypointInstance = {
    ...instance,
    points: [...instance.points.filter((q) => q.name !== name), point].sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name)),
  };
  host.set(control.name, list.map((inst, i) => (i === plan.index ? updated : inst)));
  const next = names.find((n) => !isPlaced(updated, n)) ?? null;
  updateMediaState({
    keypointTarget: { control: control.name, instance: next === null ? null : plan.index, name: next },
    selected: { control: control.name, index: plan.index, point: name },
  });
  host.redraw("regions");
}

export const keypointTool: DrawingTool<KeypointDrag> = {
  type: "keypoints",

  hits(control, answer, p, grab) {
    const out: ReturnType<DrawingTool["hits"]> = [];
    keypointInstancesOf(answer).forEach((inst, index) => {
      for (const q of inst.points) {
        if (q.visibility > 0 && distance(q, p) <= grab) out.push({ sel: { control: control.name, index, point: q.name }, area: -1 });
      }
    });
    return out;
  },

  pressHandle() {
    return null;
  },

  grabRegion(_host, control, hit, p) {
    if (!hit.point) return null;
    updateMediaState({ keypointTarget: { control: control.name, instance: hit.index, name: mediaState().keypointTarget?.name ?? null } });
    return { kind: "point", control: control.name, index: hit.index, name: hit.point, at: p, moved: false };
  },

  onPointerDown(host, control, p) {
    placeKeypoint(host, control, p);
    return null;
  },

  onPointerMove(host, drag, p) {
    drag.moved = drag.moved || distance(p, drag.at) * host.viewport.scale >= CLICK;
    if (drag.moved) host.preview = { control: drag.control, index: drag.index, point: { name: drag.name, ...clampPoint(p, host.size) } };
  },

  onPointerUp() {
    return false;
  },

  commit(host, preview) {
    const { name, x, y } = preview.point!;
    const instances = keypointInstancesOf(host.ctx.result[preview.control]);
    host.set(
      preview.control,
      instances.map((inst, i) => (i === preview.index ? { ...inst, points: inst.points.map((q) => (q.name === name ? { ...q, x, y } : q)) } : inst)),
    );
  },

  nudge(host, control, sel, dx, dy) {
    if (!sel.point) return false;
    const instances = keypointInstancesOf(host.ctx.result[sel.control]);
    if (!instances[sel.index]) return false;
    const moved = instances.map((inst, i) =>
      i === sel.index
        ? { ...inst, points: inst.points.map((q) => (q.name === sel.point ? { ...q, ...clampPoint({ x: q.x + dx, y: q.y + dy }, host.size) } : q)) }
        : inst,
    );
    host.ctx.setAnswer(control.name, moved, { coalesce: `nudge:${sel.control}:${sel.index}` });
    return true;
  },

  remove(ctx, control, sel) {
    const instances = keypointInstancesOf(ctx.result[control.name]);
    const inst = instances[sel.index];
    if (!inst) return false;
    const points = sel.point ? inst.points.filter((q) => q.name !== sel.point) : [];
    ctx.setAnswer(
      control.name,
      points.length ? instances.map((x, i) => (i === sel.index ? { ...x, points } : x)) : instances.filter((_, i) => i !== sel.index),
    );
    return true;
  },

  items(control, answer, o) {
    const labels = labelsOf(control);
    const names = keypointNamesOf(control);
    const skeleton = skeletonOf(control);
    const out: DrawItem[] = [];
    keypointInstancesOf(answer).forEach((inst, i) => {
      if (i === o.skip) return;
      const at = new Map(inst.points.filter((q) => q.visibility > 0).map((q) => [q.name, q] as const));
      const color = o.color ?? colorIn(labels.length ? labels : names, inst.label ?? inst.points[0]?.name);
      out.push({
        kind: "keypoints",
        color,
        label: inst.label ?? "",
        selected: o.selected?.index === i,
        dashed: o.dashed,
        faded: o.faded,
        points: inst.points
          .filter((q) => q.visibility > 0)
          .map((q) => ({ ...q, color: o.color ?? colorIn(names, q.name), selected: o.selected?.index === i && o.selected.point === q.name })),
        edges: skeleton.filter(([a, b]) => at.has(a) && at.has(b)).map(([a, b]) => [at.get(a)!, at.get(b)!]),
      });
    });
    return out;
  },

  previewItems(host, control, preview) {
    const point = preview.point;
    if (!point) return [];
    const inst = keypointInstancesOf(host.ctx.result[control.name])[preview.index];
    if (!inst) return [];
    const moved = { ...inst, points: inst.points.map((q) => (q.name === point.name ? { ...q, x: point.x, y: point.y } : q)) };
    return keypointTool.items(control, [moved], {
      color: null,
      dashed: false,
      faded: false,
      selected: { control: control.name, index: 0, point: point.name },
      skip: null,
    });
  },

  selectionHandles() {},
};
