/**
 * ranking: order every candidate, best first. Drag a row, or focus it and press Alt+↑/Alt+↓
 * (or its ↑/↓ buttons). The initial order is the item's; "Keep this order" answers with it.
 */
import { useState } from "preact/hooks";

import type { ControlProps, ControlTool } from "../../contract";
import { candidateIds, displayText } from "./common";

type Id = string | number;

export function currentOrder(answer: unknown, ids: Id[]): Id[] {
  if (Array.isArray(answer) && answer.length === ids.length && ids.every((id) => answer.includes(id))) return answer as Id[];
  return ids;
}

export function move<T>(list: readonly T[], from: number, to: number): T[] {
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(Math.max(0, Math.min(next.length, to)), 0, item as T);
  return next;
}

function RankingPanel({ control, ctx, value }: ControlProps) {
  const ids = candidateIds(value) ?? [];
  const answered = Array.isArray(ctx.result[control.name]) && (ctx.result[control.name] as unknown[]).length > 0;
  const order = currentOrder(ctx.result[control.name], ids);
  const [dragging, setDragging] = useState<number | null>(null);
  const candidates = Array.isArray(value) ? value : [];
  const textOf = (id: Id) => displayText(candidates[ids.indexOf(id)]);
  const set = (next: Id[]) => ctx.setAnswer(control.name, next);
  const focusRow = (root: HTMLElement | null, index: number) =>
    requestAnimationFrame(() => root?.querySelectorAll<HTMLElement>(".lb-rank__row")[index]?.focus());

  if (ids.length === 0) return <p class="lb-muted">This item has no candidates to rank.</p>;
  return (
    <div class="lb-rank">
      <ol class="lb-rank__list" aria-label={`${control.name}: best first`}>
        {order.map((id, index) => (
          <li
            key={String(id)}
            class={`lb-rank__row${dragging === index ? " lb-rank__row--dragging" : ""}`}
            tabIndex={0}
            draggable={!ctx.readOnly}
            data-id={String(id)}
            aria-label={`Rank ${index + 1}: ${textOf(id)}`}
            onDragStart={(e) => {
              setDragging(index);
              e.dataTransfer?.setData("text/plain", String(index));
            }}
            onDragEnd={() => setDragging(null)}
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => {
              e.preventDefault();
              const from = Number(e.dataTransfer?.getData("text/plain") ?? dragging);
              setDragging(null);
              if (Number.isInteger(from) && from !== index) set(move(order, from, index));
            }}
            onKeyDown={(e) => {
              if (!e.altKey || ctx.readOnly) return;
              const delta = e.key === "ArrowUp" ? -1 : e.key === "ArrowDown" ? 1 : 0;
              if (delta === 0) return;
              e.preventDefault();
              const to = index + delta;
              if (to < 0 || to >= order.length) return;
              set(move(order, index, to));
              focusRow((e.currentTarget as HTMLElement).parentElement, to);
            }}
          >
            <span class="lb-rank__pos">{index + 1}</span>
            <span class="lb-rank__text">{textOf(id)}</span>
            {!ctx.readOnly && (
              <span class="lb-rank__moves">
                <button type="button" class="lb-icon" aria-label={`Move ${index + 1} up`} disabled={index === 0} onClick={() => set(move(order, index, index - 1))}>
                  ↑
                </button>
                <button type="button" class="lb-icon" aria-label={`Move ${index + 1} down`} disabled={index === order.length - 1} onClick={() => set(move(order, index, index + 1))}>
                  ↓
                </button>
              </span>
            )}
          </li>
        ))}
      </ol>
      {!answered && !ctx.readOnly && (
        <button type="button" class="lb-button lb-button--ghost" onClick={() => set([...order])}>
          Keep this order
        </button>
      )}
      <p class="lb-hint">Drag rows, or focus one and press Alt+↑ / Alt+↓.</p>
    </div>
  );
}

export const rankingTool: ControlTool = { type: "ranking", Panel: RankingPanel };
