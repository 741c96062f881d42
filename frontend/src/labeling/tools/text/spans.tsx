/**
 * spans: select text in a text/rich_text field, then press a label key (or click a label); or arm a
 * label first and select. Click a span to select it: a label key relabels it, Delete removes it.
 * Offsets are Unicode code points of the stored string (docs/SCHEMA.md#spans).
 */
import type { Control, ControlProps, ControlTool, Hotkey, LabelingContext } from "../../contract";
import { Kbd, colorOf, labelsOf, tint, useTextState } from "./common";
import { cpSlice, textState, updateTextState } from "./selection";

export interface Span {
  id: string;
  start: number;
  end: number;
  label: string;
  text?: string;
}

export function spansOf(answer: unknown): Span[] {
  if (!Array.isArray(answer)) return [];
  return answer.filter(
    (s): s is Span =>
      s !== null && typeof s === "object" && typeof s.id === "string" && Number.isInteger(s.start) && Number.isInteger(s.end) && typeof s.label === "string",
  );
}

export function nextSpanId(spans: readonly Span[]): string {
  let n = spans.length + 1;
  const ids = new Set(spans.map((s) => s.id));
  while (ids.has(`s${n}`)) n += 1;
  return `s${n}`;
}

/** Why a new span may not be added, or null. Touching spans are fine; the same span+label never. */
export function spanConflict(spans: readonly Span[], start: number, end: number, label: string, allowOverlap: boolean): string | null {
  if (spans.some((s) => s.start === start && s.end === end && s.label === label)) return "This span already has that label.";
  if (!allowOverlap && spans.some((s) => s.start < end && start < s.end)) return "Spans may not overlap in this project.";
  return null;
}

let lastMessage: { text: string; at: number } | null = null;
export const spanMessage = () => (lastMessage && Date.now() - lastMessage.at < 5000 ? lastMessage.text : null);
/** Forget the last refusal message (Escape, a new item). */
export const clearSpanMessage = () => {
  lastMessage = null;
};

export function createSpan(control: Control, ctx: LabelingContext, source: string, start: number, end: number, label: string): boolean {
  const spans = spansOf(ctx.result[control.name]);
  const problem = spanConflict(spans, start, end, label, control.allow_overlap === true);
  if (problem !== null) {
    lastMessage = { text: problem, at: Date.now() };
    updateTextState({});
    return false;
  }
  const span: Span = { id: nextSpanId(spans), start, end, label, text: cpSlice(source, start, end) };
  ctx.setAnswer(control.name, [...spans, span].sort((a, b) => a.start - b.start || a.end - b.end));
  lastMessage = null;
  if (typeof window !== "undefined") window.getSelection()?.removeAllRanges();
  updateTextState({ pending: null, selectedSpan: { control: control.name, id: span.id } });
  return true;
}

function sourceOf(control: Control, ctx: LabelingContext): string {
  const field = ctx.definition.fields.find((f) => f.name === control.field);
  const value = field ? ctx.item.data[field.source ?? field.name] : undefined;
  return typeof value === "string" ? value : "";
}

/** A label chosen (key or click): label the pending selection, relabel the selected span, or arm it. */
export function applyLabel(control: Control, ctx: LabelingContext, label: string): void {
  if (ctx.readOnly) return;
  const { pending, selectedSpan } = textState();
  if (pending !== null && pending.field === control.field) {
    createSpan(control, ctx, sourceOf(control, ctx), pending.start, pending.end, label);
    return;
  }
  if (selectedSpan !== null && selectedSpan.control === control.name) {
    const spans = spansOf(ctx.result[control.name]);
    const target = spans.find((s) => s.id === selectedSpan.id);
    if (target !== undefined && target.label !== label) {
      const others = spans.filter((s) => s.id !== target.id);
      const problem = spanConflict(others, target.start, target.end, label, true);
      if (problem === null) ctx.setAnswer(control.name, spans.map((s) => (s.id === target.id ? { ...s, label } : s)));
      return;
    }
  }
  ctx.setActiveControl(control.name);
  ctx.setActiveLabel(control.name, label);
}

function removeSpan(control: Control, ctx: LabelingContext, id: string): void {
  const spans = spansOf(ctx.result[control.name]);
  ctx.setAnswer(control.name, spans.filter((s) => s.id !== id));
  // relations pointing at the span would be refused by the server: drop them too
  for (const rel of ctx.definition.controls.filter((c) => c.type === "relations" && c.spans === control.name)) {
    const list = ctx.result[rel.name];
    if (Array.isArray(list) && list.some((r) => r?.from === id || r?.to === id)) {
      ctx.setAnswer(rel.name, list.filter((r) => r?.from !== id && r?.to !== id));
    }
  }
  if (textState().selectedSpan?.id === id) updateTextState({ selectedSpan: null });
}

function SpansPanel({ control, ctx }: ControlProps) {
  const state = useTextState();
  const spans = spansOf(ctx.result[control.name]);
  const armed = ctx.activeLabel[control.name];
  const pending = state.pending?.field === control.field ? state.pending : null;
  const message = spanMessage();
  return (
    <div class="lb-spans">
      <div class="lb-chips" role="group" aria-label={`Labels for ${control.name}`}>
        {labelsOf(control).map((label) => (
          <button
            type="button"
            key={label.value}
            class={`lb-chip${armed === label.value ? " lb-chip--on" : ""}`}
            style={{ "--chip": colorOf(control, label.value) }}
            aria-pressed={armed === label.value}
            disabled={ctx.readOnly}
            title={label.description}
            onClick={() => applyLabel(control, ctx, label.value)}
          >
            <span class="lb-chip__dot" aria-hidden="true" />
            {label.value}
            {label.hotkey && <Kbd>{label.hotkey}</Kbd>}
          </button>
        ))}
      </div>
      <p class="lb-hint" aria-live="polite">
        {message ? (
          <span class="lb-error">{message}</span>
        ) : pending ? (
          <>Selected “{pending.text}”: press a label key or click a label.</>
        ) : armed ? (
          <>Select text to mark it as {armed}.</>
        ) : (
          <>Select text in the item, then press a label key.</>
        )}
      </p>
      {spans.length > 0 && (
        <ul class="lb-list" aria-label={`Spans of ${control.name}`}>
          {spans.map((span) => {
            const selected = state.selectedSpan?.control === control.name && state.selectedSpan.id === span.id;
            return (
              <li key={span.id} class={selected ? "lb-list__item lb-list__item--selected" : "lb-list__item"}>
                <button
                  type="button"
                  class="lb-list__main"
                  aria-pressed={selected}
                  onClick={() => updateTextState({ selectedSpan: selected ? null : { control: control.name, id: span.id }, pending: null })}
                >
                  <span class="lb-tag" style={{ background: tint(colorOf(control, span.label), "26"), color: colorOf(control, span.label) }}>
                    {span.label}
                  </span>
                  <span class="lb-list__text">{span.text ?? cpSlice(sourceOf(control, ctx), span.start, span.end)}</span>
                  <span class="lb-muted">
                    {span.start}–{span.end}
                  </span>
                </button>
                {!ctx.readOnly && (
                  <button type="button" class="lb-icon" aria-label={`Delete span ${span.text ?? span.id}`} onClick={() => removeSpan(control, ctx, span.id)}>
                    ×
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

export const spansTool: ControlTool = {
  type: "spans",
  Panel: SpansPanel,
  hotkeys(control, ctx): Hotkey[] {
    return labelsOf(control)
      .filter((l) => typeof l.hotkey === "string" && l.hotkey !== "")
      .map((l) => ({ key: l.hotkey!, description: `${control.name}: ${l.value}`, run: () => applyLabel(control, ctx, l.value) }));
  },
  deleteSelected(control, ctx) {
    const selected = textState().selectedSpan;
    if (selected === null || selected.control !== control.name || ctx.readOnly) return false;
    removeSpan(control, ctx, selected.id);
    return true;
  },
};
