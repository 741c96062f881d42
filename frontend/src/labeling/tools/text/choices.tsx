/** single_choice and multiple_choice: a list of labels; hotkeys pick/toggle; Enter/Space on a focused option too. */
import type { Control, ControlProps, ControlTool, Hotkey, LabelingContext } from "../../contract";
import { Kbd, colorOf, labelsOf } from "./common";

export function chooseSingle(control: Control, ctx: LabelingContext, value: string): void {
  // pressing the chosen label again clears it
  ctx.setAnswer(control.name, ctx.result[control.name] === value ? null : value);
}

export function toggleMultiple(control: Control, ctx: LabelingContext, value: string): void {
  const current = Array.isArray(ctx.result[control.name]) ? (ctx.result[control.name] as unknown[]) : [];
  const order = labelsOf(control).map((l) => l.value);
  const next = current.includes(value) ? current.filter((v) => v !== value) : [...current, value];
  ctx.setAnswer(control.name, next.sort((a, b) => order.indexOf(String(a)) - order.indexOf(String(b))));
}

function ChoicePanel({ control, ctx }: ControlProps) {
  const multiple = control.type === "multiple_choice";
  const answer = ctx.result[control.name];
  const chosen = (value: string) => (multiple ? Array.isArray(answer) && answer.includes(value) : answer === value);
  return (
    <div class="lb-options" role="group" aria-label={control.title ? String(control.title) : control.name}>
      {labelsOf(control).map((label) => {
        const on = chosen(label.value);
        return (
          <button
            type="button"
            key={label.value}
            role={multiple ? "checkbox" : "radio"}
            aria-checked={on}
            class={`lb-option${on ? " lb-option--on" : ""}`}
            style={{ "--chip": colorOf(control, label.value) }}
            disabled={ctx.readOnly}
            title={label.description}
            onClick={() => (multiple ? toggleMultiple(control, ctx, label.value) : chooseSingle(control, ctx, label.value))}
          >
            <span class={multiple ? "lb-option__box" : "lb-option__dot"} aria-hidden="true" />
            <span class="lb-option__text">{label.value}</span>
            {label.hotkey && <Kbd>{label.hotkey}</Kbd>}
          </button>
        );
      })}
    </div>
  );
}

function hotkeysFor(control: Control, ctx: LabelingContext): Hotkey[] {
  const multiple = control.type === "multiple_choice";
  return labelsOf(control)
    .filter((l) => typeof l.hotkey === "string" && l.hotkey !== "")
    .map((l) => ({
      key: l.hotkey!,
      description: `${control.name}: ${l.value}`,
      run: () => {
        ctx.setActiveControl(control.name);
        if (multiple) toggleMultiple(control, ctx, l.value);
        else chooseSingle(control, ctx, l.value);
      },
    }));
}

export const singleChoiceTool: ControlTool = { type: "single_choice", Panel: ChoicePanel, hotkeys: hotkeysFor };
export const multipleChoiceTool: ControlTool = { type: "multiple_choice", Panel: ChoicePanel, hotkeys: hotkeysFor };
