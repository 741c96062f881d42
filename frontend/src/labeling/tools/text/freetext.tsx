/** text: a free-text answer (a demonstration). Typing is one undo step per burst (coalesced). */
import type { ControlProps, ControlTool } from "../../contract";
import { cpLength } from "./selection";

function FreeTextPanel({ control, ctx }: ControlProps) {
  const value = typeof ctx.result[control.name] === "string" ? (ctx.result[control.name] as string) : "";
  const max = typeof control.max_length === "number" ? control.max_length : 100_000;
  const min = typeof control.min_length === "number" ? control.min_length : 0;
  const length = cpLength(value);
  const id = `ft-${control.name}`;
  return (
    <div class="lb-freetext">
      <label class="sr-only" for={id}>
        {typeof control.title === "string" ? control.title : control.name}
      </label>
      <textarea
        id={id}
        class="lb-textarea"
        rows={Math.min(14, Math.max(3, value.split("\n").length + 1))}
        placeholder={typeof control.placeholder === "string" ? control.placeholder : "Type your answer"}
        value={value}
        readOnly={ctx.readOnly}
        maxLength={max}
        onFocus={() => ctx.setActiveControl(control.name)}
        onInput={(e) => ctx.setAnswer(control.name, e.currentTarget.value, { coalesce: `type:${control.name}` })}
      />
      <p class={`lb-counter${length > max || (length > 0 && length < min) ? " lb-error" : ""}`}>
        {length.toLocaleString()} / {max.toLocaleString()}
        {min > 0 ? ` · at least ${min}` : ""}
      </p>
    </div>
  );
}

export const freeTextTool: ControlTool = { type: "text", Panel: FreeTextPanel };
