/**
 * The conversation field view (a list of {role, content} turns, or {messages: [...]}) and the
 * chat_turn_labels control it hosts: label chips under every turn whose role may be labelled.
 * Focus or click a turn, then press a label key; J/K move between labelable turns.
 */
import type { Control, ControlTool, FieldViewProps, Hotkey, LabelingContext } from "../../contract";
import { Kbd, colorOf, displayText, labelsOf, useTextState } from "./common";
import { MarkdownText } from "./markdown-text";
import { textState, updateTextState } from "./selection";

export interface Turn {
  role: string;
  content: unknown;
}

export function turnsOf(value: unknown): Turn[] {
  const list = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as { messages?: unknown }).messages : value;
  if (!Array.isArray(list)) return [];
  return list.map((t) => (t !== null && typeof t === "object" ? { role: String((t as Turn).role ?? ""), content: (t as Turn).content } : { role: "", content: t }));
}

export const canLabelTurn = (control: Control, role: string) =>
  !Array.isArray(control.per_turn_roles) || (control.per_turn_roles as unknown[]).includes(role);

export function toggleTurnLabel(control: Control, ctx: LabelingContext, turn: number, label: string): void {
  const current = (ctx.result[control.name] ?? {}) as Record<string, unknown>;
  const key = String(turn);
  const next = { ...current };
  if (control.multiple === true) {
    const list = Array.isArray(current[key]) ? (current[key] as string[]) : [];
    const updated = list.includes(label) ? list.filter((l) => l !== label) : [...list, label];
    if (updated.length === 0) delete next[key];
    else next[key] = updated;
  } else if (current[key] === label) delete next[key];
  else next[key] = label;
  ctx.setAnswer(control.name, next);
}

function labelableTurns(control: Control, ctx: LabelingContext): number[] {
  const field = ctx.definition.fields.find((f) => f.name === control.field);
  const turns = turnsOf(field ? ctx.item.data[field.source ?? field.name] : undefined);
  return turns.map((t, i) => (canLabelTurn(control, t.role) ? i : -1)).filter((i) => i >= 0);
}

function activeTurn(control: Control, ctx: LabelingContext): number | undefined {
  const turns = labelableTurns(control, ctx);
  const focused = textState().turn[control.field];
  return focused !== undefined && turns.includes(focused) ? focused : turns[0];
}

export function ConversationView({ field, value, controls, ctx }: FieldViewProps) {
  const state = useTextState();
  const turns = turnsOf(value);
  const focused = state.turn[field.name];
  const hosted = controls.filter((c) => c.type === "chat_turn_labels");
  if (turns.length === 0) return <p class="lb-muted">This item has no conversation turns.</p>;
  return (
    <ol class="cv" aria-label="Conversation">
      {turns.map((turn, index) => {
        const labelling = hosted.filter((c) => canLabelTurn(c, turn.role));
        return (
          <li
            key={index}
            class={`cv-turn cv-turn--${/^(user|assistant|system|tool)$/.test(turn.role) ? turn.role : "other"}${focused === index ? " cv-turn--focused" : ""}`}
            tabIndex={labelling.length > 0 ? 0 : -1}
            data-turn={index}
            onFocus={() => labelling.length > 0 && updateTextState({ turn: { ...textState().turn, [field.name]: index } })}
            onClick={() => labelling.length > 0 && updateTextState({ turn: { ...textState().turn, [field.name]: index } })}
          >
            <div class="cv-turn__role">
              {turn.role || "turn"} <span class="lb-muted">#{index}</span>
            </div>
            <div class="cv-turn__content">
              <MarkdownText source={displayText(turn.content)} />
            </div>
            {labelling.map((control) => {
              const answer = (ctx.result[control.name] ?? {}) as Record<string, unknown>;
              const given = answer[String(index)];
              const on = (v: string) => (Array.isArray(given) ? given.includes(v) : given === v);
              return (
                <div class="lb-chips cv-turn__labels" role="group" aria-label={`${control.name} for turn ${index}`} key={control.name}>
                  {labelsOf(control).map((l) => (
                    <button
                      type="button"
                      key={l.value}
                      class={`lb-chip lb-chip--small${on(l.value) ? " lb-chip--on" : ""}`}
                      style={{ "--chip": colorOf(control, l.value) }}
                      aria-pressed={on(l.value)}
                      disabled={ctx.readOnly}
                      onClick={(e) => {
                        e.stopPropagation();
                        updateTextState({ turn: { ...textState().turn, [field.name]: index } });
                        toggleTurnLabel(control, ctx, index, l.value);
                      }}
                    >
                      <span class="lb-chip__dot" aria-hidden="true" />
                      {l.value}
                      {l.hotkey && focused === index && <Kbd>{l.hotkey}</Kbd>}
                    </button>
                  ))}
                  {ctx.others.map((o) => {
                    const theirs = (o.result[control.name] as Record<string, unknown> | undefined)?.[String(index)];
                    if (theirs === undefined) return null;
                    return (
                      <span class="lb-other" key={o.annotator} style={{ borderColor: o.color }}>
                        {o.annotator}: {Array.isArray(theirs) ? theirs.join(", ") : String(theirs)}
                      </span>
                    );
                  })}
                </div>
              );
            })}
          </li>
        );
      })}
    </ol>
  );
}

function moveTurn(control: Control, ctx: LabelingContext, delta: number): void {
  const turns = labelableTurns(control, ctx);
  const current = activeTurn(control, ctx);
  const at = current === undefined ? -1 : turns.indexOf(current);
  const next = turns[Math.max(0, Math.min(turns.length - 1, at + delta))];
  if (next === undefined) return;
  updateTextState({ turn: { ...textState().turn, [control.field]: next } });
  document.querySelector<HTMLElement>(`[data-turn="${next}"]`)?.focus();
}

export const chatTurnLabelsTool: ControlTool = {
  type: "chat_turn_labels",
  hotkeys(control, ctx): Hotkey[] {
    const keys: Hotkey[] = labelsOf(control)
      .filter((l) => l.hotkey)
      .map((l) => ({
        key: l.hotkey!,
        description: `${control.name}: ${l.value} (focused turn)`,
        run: () => {
          const turn = activeTurn(control, ctx);
          if (turn !== undefined) toggleTurnLabel(control, ctx, turn, l.value);
        },
      }));
    keys.push(
      { key: "j", description: "Next turn", run: () => moveTurn(control, ctx, 1) },
      { key: "k", description: "Previous turn", run: () => moveTurn(control, ctx, -1) },
    );
    return keys;
  },
};
