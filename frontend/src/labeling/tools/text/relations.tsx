/** relations: pick a "from" and a "to" span of the linked spans control, then a relation label. */
import type { Control, ControlProps, ControlTool, Hotkey, LabelingContext } from "../../contract";
import { Kbd, labelsOf } from "./common";
import { updateTextState, useTextStateVersion } from "./relations-state";
import { spansOf } from "./spans";

export interface Relation {
  from: string;
  to: string;
  label: string;
}

const drafts = new Map<string, { from: string; to: string }>();
export const relationDraft = (control: string) => drafts.get(control) ?? { from: "", to: "" };

export function relationsOf(answer: unknown): Relation[] {
  return Array.isArray(answer)
    ? answer.filter((r): r is Relation => r && typeof r.from === "string" && typeof r.to === "string" && typeof r.label === "string")
    : [];
}

export function addRelation(control: Control, ctx: LabelingContext, label: string): string | null {
  const { from, to } = relationDraft(control.name);
  if (!from || !to) return "Choose both spans first.";
  if (from === to) return "A span cannot relate to itself.";
  const list = relationsOf(ctx.result[control.name]);
  if (list.some((r) => r.from === from && r.to === to && r.label === label)) return "That relation exists already.";
  ctx.setAnswer(control.name, [...list, { from, to, label }]);
  return null;
}

function RelationsPanel({ control, ctx }: ControlProps) {
  useTextStateVersion();
  const spansControl = typeof control.spans === "string" ? control.spans : "";
  const spans = spansOf(ctx.result[spansControl]);
  const relations = relationsOf(ctx.result[control.name]);
  const draft = relationDraft(control.name);
  const describe = (id: string) => {
    const s = spans.find((x) => x.id === id);
    return s ? `${s.label}: ${s.text ?? `${s.start}–${s.end}`}` : id;
  };
  const setDraft = (patch: Partial<{ from: string; to: string }>) => {
    drafts.set(control.name, { ...draft, ...patch });
    updateTextState();
  };
  if (spans.length < 2) return <p class="lb-hint">Mark at least two spans in “{spansControl}” to relate them.</p>;
  const arrow = control.directed === false ? "—" : "→";
  return (
    <div class="lb-rel">
      {!ctx.readOnly && (
        <div class="lb-rel__pick">
          <label class="lb-field">
            <span>From</span>
            <select class="lb-input" value={draft.from} onChange={(e) => setDraft({ from: e.currentTarget.value })}>
              <option value="">Choose a span</option>
              {spans.map((s) => (
                <option key={s.id} value={s.id}>
                  {describe(s.id)}
                </option>
              ))}
            </select>
          </label>
          <label class="lb-field">
            <span>To</span>
            <select class="lb-input" value={draft.to} onChange={(e) => setDraft({ to: e.currentTarget.value })}>
              <option value="">Choose a span</option>
              {spans.map((s) => (
                <option key={s.id} value={s.id}>
                  {describe(s.id)}
                </option>
              ))}
            </select>
          </label>
          <div class="lb-chips" role="group" aria-label="Relation label">
            {labelsOf(control).map((l) => (
              <button type="button" key={l.value} class="lb-chip" disabled={!draft.from || !draft.to || draft.from === draft.to} onClick={() => addRelation(control, ctx, l.value)}>
                + {l.value}
                {l.hotkey && <Kbd>{l.hotkey}</Kbd>}
              </button>
            ))}
          </div>
        </div>
      )}
      {relations.length > 0 && (
        <ul class="lb-list" aria-label={`Relations of ${control.name}`}>
          {relations.map((r, i) => (
            <li class="lb-list__item" key={`${r.from}-${r.to}-${r.label}`}>
              <span class="lb-list__main">
                <span class="lb-list__text">{describe(r.from)}</span>
                <span class="lb-tag">
                  {arrow} {r.label} {arrow}
                </span>
                <span class="lb-list__text">{describe(r.to)}</span>
              </span>
              {!ctx.readOnly && (
                <button type="button" class="lb-icon" aria-label={`Delete relation ${r.label}`} onClick={() => ctx.setAnswer(control.name, relations.filter((_, j) => j !== i))}>
                  ×
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export const relationsTool: ControlTool = {
  type: "relations",
  Panel: RelationsPanel,
  hotkeys(control, ctx): Hotkey[] {
    return labelsOf(control)
      .filter((l) => l.hotkey)
      .map((l) => ({ key: l.hotkey!, description: `${control.name}: ${l.value}`, run: () => void addRelation(control, ctx, l.value) }));
  },
};
