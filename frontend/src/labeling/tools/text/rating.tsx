/** rating: one button per step of [min, max]; arrow keys move within the group when focused. */
import type { ControlProps, ControlTool } from "../../contract";

export function ratingSteps(min: number, max: number, step: number): number[] {
  const out: number[] = [];
  const count = Math.floor((max - min) / step + 1e-9);
  for (let k = 0; k <= count && k <= 100; k++) out.push(Math.round((min + k * step) * 1e9) / 1e9);
  return out;
}

function RatingPanel({ control, ctx }: ControlProps) {
  const min = Number(control.min ?? 1);
  const max = Number(control.max ?? 5);
  const step = Number(control.step ?? 1) || 1;
  const steps = ratingSteps(min, max, step);
  const answer = ctx.result[control.name];
  const index = steps.findIndex((v) => v === answer);
  const set = (value: number) => ctx.setAnswer(control.name, answer === value ? null : value);
  const onKey = (event: KeyboardEvent) => {
    const delta = event.key === "ArrowRight" || event.key === "ArrowUp" ? 1 : event.key === "ArrowLeft" || event.key === "ArrowDown" ? -1 : 0;
    if (delta === 0 || ctx.readOnly) return;
    event.preventDefault();
    const next = steps[Math.max(0, Math.min(steps.length - 1, (index < 0 ? (delta > 0 ? -1 : steps.length) : index) + delta))];
    if (next !== undefined) {
      ctx.setAnswer(control.name, next);
      const buttons = (event.currentTarget as HTMLElement).querySelectorAll("button");
      (buttons[steps.indexOf(next)] as HTMLButtonElement | undefined)?.focus();
    }
  };
  return (
    <div class="lb-rating">
      <div class="lb-rating__scale" role="radiogroup" aria-label={control.title ? String(control.title) : control.name} onKeyDown={onKey}>
        {steps.map((value, i) => (
          <button
            type="button"
            role="radio"
            key={value}
            aria-checked={answer === value}
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
    </div>
  );
}

export const ratingTool: ControlTool = { type: "rating", Panel: RatingPanel };
