/** pairwise: A, tie or B, and how much better when the schema asks for strength. */
import type { Control, ControlProps, ControlTool, Hotkey, LabelingContext } from "../../contract";
import { Kbd } from "./common";

const STRENGTHS = [
  { value: 1, label: "Slightly" },
  { value: 2, label: "Clearly" },
  { value: 3, label: "Much" },
];

export function choose(control: Control, ctx: LabelingContext, choice: "A" | "B" | "tie"): void {
  const current = ctx.result[control.name] as { choice?: string; strength?: number } | undefined;
  if (choice === "tie" || control.strength !== true) {
    ctx.setAnswer(control.name, current?.choice === choice ? null : { choice });
    return;
  }
  ctx.setAnswer(control.name, { choice, strength: current?.choice === choice ? current.strength ?? 2 : current?.strength ?? 2 });
}

function PairwisePanel({ control, ctx }: ControlProps) {
  const answer = ctx.result[control.name] as { choice?: string; strength?: number } | undefined;
  const allowTie = control.allow_tie !== false;
  const options: { choice: "A" | "B" | "tie"; text: string; key: string }[] = [
    { choice: "A", text: "A is better", key: "[" },
    ...(allowTie ? [{ choice: "tie" as const, text: "Tie", key: "=" }] : []),
    { choice: "B", text: "B is better", key: "]" },
  ];
  return (
    <div class="lb-pair">
      <div class="lb-pair__choices" role="radiogroup" aria-label={control.name}>
        {options.map((o) => (
          <button
            type="button"
            role="radio"
            key={o.choice}
            aria-checked={answer?.choice === o.choice}
            class={`lb-pair__choice${answer?.choice === o.choice ? " lb-pair__choice--on" : ""}`}
            disabled={ctx.readOnly}
            onClick={() => choose(control, ctx, o.choice)}
          >
            {o.text} <Kbd>{o.key}</Kbd>
          </button>
        ))}
      </div>
      {control.strength === true && answer?.choice && answer.choice !== "tie" && (
        <div class="lb-pair__strength" role="radiogroup" aria-label="How much better">
          {STRENGTHS.map((s) => (
            <button
              type="button"
              role="radio"
              key={s.value}
              aria-checked={answer.strength === s.value}
              class={`lb-seg${answer.strength === s.value ? " lb-seg--on" : ""}`}
              disabled={ctx.readOnly}
              onClick={() => ctx.setAnswer(control.name, { choice: answer.choice, strength: s.value })}
            >
              {s.label} better
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

export const pairwiseTool: ControlTool = {
  type: "pairwise",
  Panel: PairwisePanel,
  hotkeys(control, ctx): Hotkey[] {
    const keys: Hotkey[] = [
      { key: "[", description: `${control.name}: A is better`, run: () => choose(control, ctx, "A") },
      { key: "]", description: `${control.name}: B is better`, run: () => choose(control, ctx, "B") },
    ];
    if (control.allow_tie !== false) keys.push({ key: "=", description: `${control.name}: tie`, run: () => choose(control, ctx, "tie") });
    return keys;
  },
};
