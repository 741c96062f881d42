/**
 * rating: one button per step of [min, max]; arrow keys move within the group when focused.
 * Number keys: with the scale focused, 1..9 (and 0 when it is on the scale) set that value. When the
 * form has exactly one visible rating and no other control (or the page) uses a digit as its key,
 * the digits work anywhere on the page too, except while typing in a text box.
 */
import type { Control, ControlProps, ControlTool, Hotkey, LabelingContext } from "../../contract";
import { labelsOf } from "./common";

export function ratingSteps(min: number, max: number, step: number): number[] {
  const out: number[] = [];
  const count = Math.floor((max - min) / step + 1e-9);
  for (let k = 0; k <= count && k <= 100; k++) out.push(Math.round((min + k * step) * 1e9) / 1e9);
  return out;
}

function stepsOf(control: Control): number[] {
  const min = Number(control.min ?? 1);
  const max = Number(control.max ?? 5);
  const step = Number(control.step ?? 1) || 1;
  return ratingSteps(min, max, step);
}

/** The digit keys of a scale: "0".."9" whose value is one of its steps (0 only when it is a step). */
export function ratingDigits(control: Control): { key: string; value: number }[] {
  const steps = stepsOf(control);
  return [1, 2, 3, 4, 5, 6, 7, 8, 9, 0].filter((d) => steps.includes(d)).map((d) => ({ key: String(d), value: d }));
}

const DIGIT = /^[0-9]$/;

/**
 * Whether the rating's digits work anywhere on the page ("page") or only while its scale has focus
 * ("focused"): page-wide only for the one visible rating of the form, when no schema label hotkey,
 * or keypoint hotkey is a digit (they keep their digits; no key does two things).
 */
export function ratingDigitScope(control: Control, ctx: LabelingContext): "page" | "focused" {
  const ratings = ctx.definition.controls.filter((c) => c.type === "rating" && ctx.visible(c.name));
  if (ratings.length !== 1 || ratings[0]!.name !== control.name) return "focused";
  for (const other of ctx.definition.controls) {
    const points = Array.isArray(other.keypoints) ? (other.keypoints as { hotkey?: unknown }[]) : [];
    for (const l of [...labelsOf(other), ...points]) if (typeof l?.hotkey === "string" && DIGIT.test(l.hotkey)) return "focused";
  }
  return "page";
}

function rate(control: Control, ctx: LabelingContext, value: number): void {
  ctx.setActiveControl(control.name);
  // a key sets the value (pressing it again keeps it); clicking the chosen value clears it
  if (ctx.result[control.name] !== value) ctx.setAnswer(control.name, value);
}

function RatingPanel({ control, ctx }: ControlProps) {
  const steps = stepsOf(control);
  const digits = ratingDigits(control);
  const scope = ratingDigitScope(control, ctx);
  const answer = ctx.result[control.name];
  // biome-ignore lint/complexity/useIndexOf: `answer` is unknown; indexOf would need a cast
  const index = steps.findIndex((v) => v === answer);
  const set = (value: number) => ctx.setAnswer(control.name, answer === value ? null : value);
  const focusStep = (scale: HTMLElement, value: number) =>
    (scale.querySelectorAll("button")[steps.indexOf(value)] as HTMLButtonElement | undefined)?.focus();
  const onKey = (event: KeyboardEvent) => {
    if (ctx.readOnly || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    const digit = digits.find((d) => d.key === event.key);
    if (digit !== undefined) {
      // the focused scale takes its digits before any page-wide key (a choice hotkey "1")
      event.preventDefault();
      rate(control, ctx, digit.value);
      focusStep(event.currentTarget as HTMLElement, digit.value);
      return;
    }
    const delta = event.key === "ArrowRight" || event.key === "ArrowUp" ? 1 : event.key === "ArrowLeft" || event.key === "ArrowDown" ? -1 : 0;
    if (delta === 0) return;
    event.preventDefault();
    const next = steps[Math.max(0, Math.min(steps.length - 1, (index < 0 ? (delta > 0 ? -1 : steps.length) : index) + delta))];
    if (next !== undefined) {
      ctx.setAnswer(control.name, next);
      focusStep(event.currentTarget as HTMLElement, next);
    }
  };
  const first = digits[0]?.key;
  const last = digits[digits.length - 1]?.key;
  return (
    <div class="lb-rating">
      <div class="lb-rating__scale" role="radiogroup" aria-label={control.title ? String(control.title) : control.name} onKeyDown={onKey}>
        {steps.map((value, i) => (
          <button
            type="button"
            role="radio"
            key={value}
            aria-checked={answer === value}
            aria-keyshortcuts={digits.some((d) => d.value === value) ? String(value) : undefined}
            tabIndex={index === i || (index < 0 && i === 0) ? 0 : -1}
            class={`lb-rating__step${answer === value ? " lb-rating__step--on" : ""}`}
            disabled={ctx.readOnly}
            onClick={() => set(value)}
          >
            {value}
          </button>
        ))}
      </div>
      {(control.min_label || control.max_label) && (
        <div class="lb-rating__ends lb-muted">
          <span>{typeof control.min_label === "string" ? control.min_label : ""}</span>
          <span>{typeof control.max_label === "string" ? control.max_label : ""}</span>
        </div>
      )}
      {!ctx.readOnly && first !== undefined && (
        <p class="lb-hint lb-rating__keys">
          Keys <kbd class="lb-kbd">{first}</kbd>
          {last !== first && (
            <>
              –<kbd class="lb-kbd">{last}</kbd>
            </>
          )}
          {scope === "page" ? " rate anywhere on the page" : " rate while the scale has focus (click it or Tab to it)"}; ←/→ step.
        </p>
      )}
    </div>
  );
}

function hotkeysFor(control: Control, ctx: LabelingContext): Hotkey[] {
  if (ratingDigitScope(control, ctx) !== "page") return [];
  const heading = (typeof control.title === "string" && control.title) || control.name;
  return ratingDigits(control).map((d) => ({ key: d.key, description: `${heading}: rate ${d.value}`, run: () => rate(control, ctx, d.value) }));
}

export const ratingTool: ControlTool = { type: "rating", Panel: RatingPanel, hotkeys: hotkeysFor };
