/** taxonomy: a tree of choices with a filter box; any node may be chosen (a path from the root). */
import { useMemo, useState } from "preact/hooks";

import type { ControlProps, ControlTool } from "../../contract";
import { sameJson } from "../../core/store";

export interface TaxonomyNode {
  value: string;
  description?: string;
  children?: TaxonomyNode[];
}

export function flattenTaxonomy(nodes: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  if (!Array.isArray(nodes)) return out;
  for (const node of nodes as TaxonomyNode[]) {
    if (typeof node?.value !== "string") continue;
    const path = [...prefix, node.value];
    out.push(path);
    flattenTaxonomy(node.children, path, out);
  }
  return out;
}

export function pathsOf(answer: unknown, multiple: boolean): string[][] {
  if (multiple) return Array.isArray(answer) ? answer.filter((p): p is string[] => Array.isArray(p)) : [];
  return Array.isArray(answer) && answer.length > 0 && answer.every((v) => typeof v === "string") ? [answer as string[]] : [];
}

const MAX_SHOWN = 300;

function TaxonomyPanel({ control, ctx }: ControlProps) {
  const multiple = control.multiple === true;
  const [filter, setFilter] = useState("");
  const all = useMemo(() => flattenTaxonomy(control.choices), [control.choices]);
  const chosen = pathsOf(ctx.result[control.name], multiple);
  const needle = filter.trim().toLowerCase();
  const shown = (needle ? all.filter((p) => p.join(" / ").toLowerCase().includes(needle)) : all).slice(0, MAX_SHOWN);
  const isChosen = (path: string[]) => chosen.some((c) => sameJson(c, path));
  const toggle = (path: string[]) => {
    if (multiple) {
      const next = isChosen(path) ? chosen.filter((c) => !sameJson(c, path)) : [...chosen, path];
      ctx.setAnswer(control.name, next);
    } else ctx.setAnswer(control.name, isChosen(path) ? null : path);
  };
  const id = `tx-filter-${control.name}`;
  return (
    <div class="lb-taxonomy">
      <label class="sr-only" for={id}>
        Filter {control.name}
      </label>
      <input id={id} class="lb-input" type="search" placeholder="Filter categories…" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      {chosen.length > 0 && (
        <p class="lb-chosen">
          {chosen.map((path) => (
            <span class="lb-tag" key={path.join("/")}>
              {path.join(" › ")}
            </span>
          ))}
        </p>
      )}
      <ul class="lb-tree" role="group" aria-label={control.name}>
        {shown.map((path) => {
          const on = isChosen(path);
          return (
            <li key={path.join("\u0000")} style={{ paddingLeft: `${needle ? 0 : (path.length - 1) * 16}px` }}>
              <label class="lb-tree__row">
                <input type={multiple ? "checkbox" : "radio"} name={`tx-${control.name}`} checked={on} disabled={ctx.readOnly} onChange={() => toggle(path)} />
                <span>{needle ? path.join(" › ") : path[path.length - 1]}</span>
              </label>
            </li>
          );
        })}
        {shown.length === 0 && <li class="lb-muted">No category matches.</li>}
      </ul>
    </div>
  );
}

export const taxonomyTool: ControlTool = { type: "taxonomy", Panel: TaxonomyPanel };
