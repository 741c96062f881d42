import { useEffect, useState } from "preact/hooks";

import type { Control, Label, LabelingContext } from "../../contract";
import { subscribeTextState, textState, type TextState } from "./selection";

const PALETTE = ["#1565c0", "#6a1b9a", "#2e7d32", "#ef6c00", "#00838f", "#ad1457", "#5d4037", "#455a64"];
const COLOR = /^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

export function labelsOf(control: Control): Label[] {
  const labels = control.labels;
  return Array.isArray(labels) ? labels.filter((l): l is Label => typeof l?.value === "string") : [];
}

/** The label's colour if it is a valid #rgb/#rrggbb, else one from the palette by position. */
export function colorOf(control: Control, value: string): string {
  const labels = labelsOf(control);
  const index = labels.findIndex((l) => l.value === value);
  const color = labels[index]?.color;
  if (typeof color === "string" && COLOR.test(color)) return expand(color);
  return PALETTE[Math.max(index, 0) % PALETTE.length]!;
}

function expand(color: string): string {
  return color.length === 4 ? `#${[...color.slice(1)].map((c) => c + c).join("")}` : color;
}

/** A translucent tint of a #rrggbb colour. */
export const tint = (color: string, alpha = "33") => `${color}${alpha}`;

export function useTextState(): TextState {
  const [, force] = useState(0);
  useEffect(() => subscribeTextState(() => force((n) => n + 1)), []);
  return textState();
}

export function Kbd({ children }: { children: string }) {
  return <kbd class="lb-kbd">{children}</kbd>;
}

/** Candidate or turn content as display text (never markup). */
export function displayText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value !== null && typeof value === "object") {
    for (const key of ["text", "content", "response", "output", "answer", "completion", "value"]) {
      const inner = (value as Record<string, unknown>)[key];
      if (typeof inner === "string") return inner;
    }
  }
  try {
    return JSON.stringify(value, null, 2) ?? "";
  } catch {
    return String(value);
  }
}

/** Ids of the candidates, as the server computes them (docs/SCHEMA.md#ranking). */
export function candidateIds(value: unknown): (string | number)[] | null {
  if (!Array.isArray(value)) return null;
  return value.map((c, i) => {
    const id = c !== null && typeof c === "object" ? (c as Record<string, unknown>).id : undefined;
    return typeof id === "string" || (typeof id === "number" && Number.isInteger(id)) ? id : i;
  });
}

export const titleOf = (control: Control) => (typeof control.title === "string" && control.title) || control.name;

export const isReadOnly = (ctx: LabelingContext) => ctx.readOnly;

/** Another annotator's answers to a control, for the "others" strip. */
export function othersFor(ctx: LabelingContext, control: string) {
  return ctx.others.map((o) => ({ annotator: o.annotator, color: o.color, answer: o.result[control] }));
}
