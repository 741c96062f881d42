/**
 * The image controls' panels and hotkeys: image_class (a choice of labels), and for the drawing
 * controls hosted by the image view (bbox, polygon, keypoints) the label picker, the list of regions
 * (select, delete), relabelling, and for keypoints the point placed next and its visibility.
 */
import type { Control, ControlProps, ControlTool, Hotkey, LabelingContext } from "../../contract";
import { boxesOf, keypointInstancesOf, keypointNamesOf, labelColor, labelsOf, polygonsOf, colorIn } from "./answers";
import { Kbd, LabelPicker, controlLabel, useMediaState } from "./common";
import { deleteSelection, keypointPlacement } from "./image-editor";
import { mediaState, updateMediaState } from "./state";

/** Panels list at most this many regions (an image may have thousands): the rest are counted. */
export const LIST_LIMIT = 40;

// --- image_class -------------------------------------------------------------------------------

export function toggleImageClass(control: Control, ctx: LabelingContext, value: string): void {
  if (ctx.readOnly) return;
  const current = ctx.result[control.name];
  if (control.multiple === true) {
    const list = Array.isArray(current) ? current.filter((v): v is string => typeof v === "string") : [];
    const order = labelsOf(control).map((l) => l.value);
    const next = list.includes(value) ? list.filter((v) => v !== value) : [...list, value].sort((a, b) => order.indexOf(a) - order.indexOf(b));
    ctx.setAnswer(control.name, next);
  } else {
    ctx.setAnswer(control.name, current === value ? null : value);
  }
  ctx.setActiveControl(control.name);
}

function ImageClassPanel({ control, ctx }: ControlProps) {
  const current = ctx.result[control.name];
  const multiple = control.multiple === true;
  const chosen = (v: string) => (multiple ? Array.isArray(current) && current.includes(v) : current === v);
  return (
    <div class="lb-chips md-chips md-classes" role={multiple ? "group" : "radiogroup"} aria-label={controlLabel(control)}>
      {labelsOf(control).map((label) => (
        <button
          type="button"
          key={label.value}
          role={multiple ? "checkbox" : "radio"}
          aria-checked={chosen(label.value)}
          class={`lb-chip md-chip${chosen(label.value) ? " lb-chip--on md-chip--on" : ""}`}
          style={{ "--chip": labelColor(control, label.value) }}
          disabled={ctx.readOnly}
          title={label.description}
          onClick={() => toggleImageClass(control, ctx, label.value)}
        >
          <span class="lb-chip__dot md-chip__dot" aria-hidden="true" />
          {label.value}
          {label.hotkey && <Kbd>{label.hotkey}</Kbd>}
        </button>
      ))}
    </div>
  );
}

export const imageClassTool: ControlTool = {
  type: "image_class",
  Panel: ImageClassPanel,
  hotkeys: (control, ctx) => labelHotkeys(control, (label) => toggleImageClass(control, ctx, label)),
};

// --- drawing controls ---------------------------------------------------------------------------

function labelHotkeys(control: Control, run: (label: string) => void): Hotkey[] {
  return labelsOf(control)
    .filter((l) => typeof l.hotkey === "string" && l.hotkey !== "")
    .map((l) => ({ key: l.hotkey!, description: `${controlLabel(control)}: ${l.value}`, run: () => run(l.value) }));
}

/** A label key or chip: relabels the selected region of this control, else arms the label for new ones. */
export function applyRegionLabel(control: Control, ctx: LabelingContext, label: string): void {
  if (ctx.readOnly) return;
  const sel = mediaState().selected;
  if (sel?.control === control.name) {
    const answer = ctx.result[control.name];
    if (control.type === "bbox") {
      const boxes = boxesOf(answer);
      if (boxes[sel.index] && boxes[sel.index]!.label !== label) ctx.setAnswer(control.name, boxes.map((b, i) => (i === sel.index ? { ...b, label } : b)));
    } else if (control.type === "polygon") {
      const polys = polygonsOf(answer);
      if (polys[sel.index] && polys[sel.index]!.label !== label) ctx.setAnswer(control.name, polys.map((p, i) => (i === sel.index ? { ...p, label } : p)));
    } else if (control.type === "keypoints") {
      const instances = keypointInstancesOf(answer);
      if (instances[sel.index]) ctx.setAnswer(control.name, instances.map((x, i) => (i === sel.index ? { ...x, label } : x)));
    }
    return; // relabelled: the label armed for new regions stays
  }
  ctx.setActiveControl(control.name);
  ctx.setActiveLabel(control.name, label);
}

function select(control: Control, index: number, point?: string): void {
  const sel = mediaState().selected;
  const same = sel?.control === control.name && sel.index === index && sel.point === point;
  updateMediaState({ selected: same ? null : point ? { control: control.name, index, point } : { control: control.name, index } });
}

const fmt = (v: number) => String(Math.round(v * 10) / 10);

function RegionList({ control, ctx, rows }: { control: Control; ctx: LabelingContext; rows: { label: string; text: string }[] }) {
  const state = useMediaState();
  if (rows.length === 0) return null;
  const counts = new Map<string, number>();
  for (const r of rows) if (r.label) counts.set(r.label, (counts.get(r.label) ?? 0) + 1);
  const sel = state.selected?.control === control.name ? state.selected.index : -1;
  // the selected row is always listed, even past the limit
  const shown = rows.map((r, i) => ({ ...r, i })).filter((r) => r.i < LIST_LIMIT || r.i === sel);
  return (
    <div class="md-regions">
      {counts.size > 0 && (
      <p class="md-counts">
        {[...counts].map(([label, n]) => (
          <span key={label} class="md-count">
            <span class="md-swatch" style={{ background: labelColor(control, label) }} aria-hidden="true" />
            {label} <strong>{n}</strong>
          </span>
        ))}
      </p>
      )}
      <ul class="lb-list md-list" aria-label={`Regions of ${controlLabel(control)}`}>
        {shown.map((r) => (
          <li key={r.i} class={`lb-list__item${r.i === sel ? " lb-list__item--selected" : ""}`}>
            <button type="button" class="lb-list__main" aria-pressed={r.i === sel} onClick={() => select(control, r.i)}>
              <span class="lb-tag md-tag" style={{ background: `${labelColor(control, r.label)}26`, color: labelColor(control, r.label) }}>
                {r.label || `#${r.i + 1}`}
              </span>
              <span class="lb-muted">{r.text}</span>
            </button>
            {!ctx.readOnly && (
              <button
                type="button"
                class="lb-icon"
                aria-label={`Delete ${r.label || "instance"} ${r.i + 1}`}
                onClick={() => {
                  updateMediaState({ selected: { control: control.name, index: r.i } });
                  deleteSelection(ctx, [control]);
                }}
              >
                ×
              </button>
            )}
          </li>
        ))}
      </ul>
      {rows.length > shown.length && <p class="lb-hint">and {rows.length - shown.length} more (click them on the image)</p>}
    </div>
  );
}

function BBoxPanel({ control, ctx }: ControlProps) {
  const rows = boxesOf(ctx.result[control.name]).map((b) => ({ label: b.label, text: `${fmt(b.x)}, ${fmt(b.y)} · ${fmt(b.width)}×${fmt(b.height)} px` }));
  return (
    <div class="md-panel">
      <LabelPicker control={control} ctx={ctx} onPick={(l) => applyRegionLabel(control, ctx, l)} />
      <RegionList control={control} ctx={ctx} rows={rows} />
    </div>
  );
}

function PolygonPanel({ control, ctx }: ControlProps) {
  const state = useMediaState();
  const rows = polygonsOf(ctx.result[control.name]).map((p) => ({ label: p.label, text: `${p.points.length} points` }));
  const drafting = state.draft?.control === control.name ? state.draft.points.length : 0;
  return (
    <div class="md-panel">
      <LabelPicker control={control} ctx={ctx} onPick={(l) => applyRegionLabel(control, ctx, l)} />
      {drafting > 0 && <p class="lb-hint">Drawing: {drafting} point{drafting === 1 ? "" : "s"}. Enter or a click on the first point closes it.</p>}
      <RegionList control={control} ctx={ctx} rows={rows} />
    </div>
  );
}

/** Keypoints: choose the point the next click places (hotkey or click). */
export function targetKeypoint(control: Control, ctx: LabelingContext, name: string): void {
  const instances = keypointInstancesOf(ctx.result[control.name]);
  const sel = mediaState().selected;
  const instance = sel?.control === control.name ? sel.index : (mediaState().keypointTarget?.control === control.name ? mediaState().keypointTarget!.instance : null) ?? (instances.length ? instances.length - 1 : null);
  updateMediaState({ keypointTarget: { control: control.name, instance, name } });
  ctx.setActiveControl(control.name);
}

export function setVisibility(control: Control, ctx: LabelingContext, index: number, name: string, visibility: 1 | 2): void {
  const instances = keypointInstancesOf(ctx.result[control.name]);
  if (!instances[index] || ctx.readOnly) return;
  ctx.setAnswer(control.name, instances.map((x, i) => (i === index ? { ...x, points: x.points.map((q) => (q.name === name ? { ...q, visibility } : q)) } : x)));
}

function KeypointsPanel({ control, ctx }: ControlProps) {
  const state = useMediaState();
  const instances = keypointInstancesOf(ctx.result[control.name]);
  const names = keypointNamesOf(control);
  const plan = keypointPlacement(control, instances, state.keypointTarget);
  const sel = state.selected?.control === control.name ? state.selected : null;
  const current = instances[sel ? sel.index : plan.index];
  return (
    <div class="md-panel">
      {labelsOf(control).length > 0 && <LabelPicker control={control} ctx={ctx} onPick={(l) => applyRegionLabel(control, ctx, l)} />}
      <p class="lb-hint">
        {plan.index >= instances.length ? `Next click starts instance ${instances.length + 1}` : `Instance ${plan.index + 1}`}: place <strong>{plan.name ?? "—"}</strong>
      </p>
      <ul class="md-points" aria-label={`Points of ${controlLabel(control)}`}>
        {names.map((k) => {
          const point = current?.points.find((q) => q.name === k.value && q.visibility > 0);
          const next = plan.name === k.value;
          return (
            <li key={k.value} class={`md-point${next ? " md-point--next" : ""}`}>
              <button type="button" class="md-point__name" aria-pressed={next} disabled={ctx.readOnly} onClick={() => targetKeypoint(control, ctx, k.value)}>
                <span class="md-swatch" style={{ background: colorIn(names, k.value) }} aria-hidden="true" />
                {k.value}
                {k.hotkey && <Kbd>{k.hotkey}</Kbd>}
              </button>
              {point && current ? (
                <label class="md-point__vis">
                  <input
                    type="checkbox"
                    checked={point.visibility === 1}
                    disabled={ctx.readOnly}
                    onChange={(e) => setVisibility(control, ctx, instances.indexOf(current), k.value, (e.target as HTMLInputElement).checked ? 1 : 2)}
                  />
                  occluded
                </label>
              ) : (
                <span class="lb-muted">not placed</span>
              )}
            </li>
          );
        })}
      </ul>
      <div class="md-row">
        <button
          type="button"
          class="lb-button lb-button--small"
          disabled={ctx.readOnly}
          onClick={() => {
            updateMediaState({ keypointTarget: { control: control.name, instance: null, name: names[0]?.value ?? null }, selected: null });
            ctx.setActiveControl(control.name);
          }}
        >
          New instance
        </button>
        <span class="lb-muted">{instances.length} instance{instances.length === 1 ? "" : "s"}</span>
      </div>
      <RegionList control={control} ctx={ctx} rows={instances.map((x) => ({ label: x.label ?? "", text: `${x.points.filter((q) => q.visibility > 0).length}/${names.length} points` }))} />
    </div>
  );
}

const drawingTool = (type: string, Panel: ControlTool["Panel"]): ControlTool => ({
  type,
  Panel,
  hotkeys: (control, ctx) => labelHotkeys(control, (label) => applyRegionLabel(control, ctx, label)),
  deleteSelected: (control, ctx) => deleteSelection(ctx, [control]),
});

export const bboxTool = drawingTool("bbox", BBoxPanel);
export const polygonTool = drawingTool("polygon", PolygonPanel);
export const keypointsTool: ControlTool = {
  ...drawingTool("keypoints", KeypointsPanel),
  hotkeys: (control, ctx) => [
    ...labelHotkeys(control, (label) => applyRegionLabel(control, ctx, label)),
    ...keypointNamesOf(control)
      .filter((k) => typeof k.hotkey === "string" && k.hotkey !== "")
      .map((k) => ({ key: k.hotkey!, description: `${controlLabel(control)}: place ${k.value} next`, run: () => targetKeypoint(control, ctx, k.value) })),
  ],
  isEmpty: (answer) => keypointInstancesOf(answer).every((x) => x.points.length === 0),
};
