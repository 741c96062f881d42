/**
 * Transient text-tool state that is not part of the answer: the text selected in a field (waiting
 * for a label key), the selected span (to relabel or delete), the focused conversation turn.
 * Framework-free; views subscribe with `useTextState`.
 */
export interface PendingSelection {
  field: string;
  start: number;
  end: number;
  text: string;
}

export interface TextState {
  pending: PendingSelection | null;
  /** A selected existing span: its control and id. */
  selectedSpan: { control: string; id: string } | null;
  /** The focused turn per conversation field. */
  turn: Record<string, number>;
}

let state: TextState = { pending: null, selectedSpan: null, turn: {} };
const listeners = new Set<() => void>();

export const textState = (): TextState => state;

export function updateTextState(patch: Partial<TextState>): void {
  state = { ...state, ...patch };
  for (const listener of [...listeners]) listener();
}

export function subscribeTextState(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Forget everything (a new item). */
export function resetTextState(): void {
  updateTextState({ pending: null, selectedSpan: null, turn: {} });
}

export const cpLength = (text: string) => {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
};

export const cpSlice = (text: string, start: number, end?: number) => Array.from(text).slice(start, end).join("");
