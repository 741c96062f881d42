/**
 * Hotkeys: one map for the whole page, built from the shell's own keys and every tool's keys.
 * Conflict-free: the first binding of a combination wins, later ones are reported (and shown as
 * "unavailable" in the help). Keys typed into a text box never trigger a label: only bindings marked
 * `inInputs` (ctrl+Enter, Escape) work there.
 */
import type { Hotkey } from "../contract";

export interface Binding extends Hotkey {
  /** Works while focus is in an input, textarea, select or contenteditable. */
  inInputs?: boolean;
  /** A heading for the help overlay ("Shell", a control's title). */
  group?: string;
  /** Only when this returns true (e.g. plain Enter submits unless a button has focus). */
  when?(): boolean;
}

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  target: EventTarget | null;
  isComposing?: boolean;
}

const isPrintable = (key: string) => [...key].length === 1;

/** A canonical id of a combination: "ctrl+shift+z", "a", "?" (shift is part of printable keys). */
export function comboOf(binding: Pick<Hotkey, "key" | "ctrl" | "shift" | "alt">): string {
  const printable = isPrintable(binding.key);
  const key = printable ? binding.key.toLowerCase() : binding.key;
  const parts: string[] = [];
  if (binding.ctrl) parts.push("ctrl");
  if (binding.alt) parts.push("alt");
  // For printable keys shift only changes the character ("?" is shift+/): not compared, except
  // for letters with ctrl/alt where it is a real modifier (ctrl+shift+z).
  if (binding.shift && (!printable || binding.ctrl || binding.alt)) parts.push("shift");
  parts.push(key === " " ? "space" : key);
  return parts.join("+");
}

export function comboOfEvent(event: KeyLike): string {
  return comboOf({
    key: event.key,
    ctrl: event.ctrlKey || event.metaKey,
    alt: event.altKey,
    shift: event.shiftKey,
  });
}

/** Human-readable: "Ctrl+Shift+Z", "A", "?". */
export function describeCombo(binding: Pick<Hotkey, "key" | "ctrl" | "shift" | "alt">): string {
  const parts: string[] = [];
  if (binding.ctrl) parts.push("Ctrl");
  if (binding.alt) parts.push("Alt");
  if (binding.shift && (!isPrintable(binding.key) || binding.ctrl || binding.alt)) parts.push("Shift");
  const key = binding.key === " " ? "Space" : isPrintable(binding.key) ? binding.key.toUpperCase() : binding.key;
  parts.push(key);
  return parts.join("+");
}

export function isTypingTarget(target: EventTarget | null): boolean {
  if (target === null || typeof (target as Element).closest !== "function") return false;
  const element = target as HTMLElement;
  if (element.isContentEditable) return true;
  if (element.closest("textarea, select, [contenteditable='true'], [contenteditable='']")) return true;
  if (element instanceof HTMLInputElement) {
    return !["checkbox", "radio", "button", "submit", "reset", "range"].includes(element.type);
  }
  return false;
}

export class HotkeyMap {
  private readonly byCombo = new Map<string, Binding>();
  readonly conflicts: { binding: Binding; existing: Binding }[] = [];
  readonly bindings: Binding[] = [];

  constructor(bindings: Iterable<Binding> = []) {
    for (const binding of bindings) this.add(binding);
  }

  /** Adds a binding; returns false (and records a conflict) if its combination is taken. */
  add(binding: Binding): boolean {
    const combo = comboOf(binding);
    const existing = this.byCombo.get(combo);
    if (existing !== undefined) {
      this.conflicts.push({ binding, existing });
      return false;
    }
    this.byCombo.set(combo, binding);
    this.bindings.push(binding);
    return true;
  }

  has(binding: Pick<Hotkey, "key" | "ctrl" | "shift" | "alt">): boolean {
    return this.byCombo.has(comboOf(binding));
  }

  /** Runs the binding for the event, if any; returns true when one ran (the caller prevents default). */
  dispatch(event: KeyLike): boolean {
    if (event.isComposing) return false;
    const binding = this.byCombo.get(comboOfEvent(event));
    if (binding === undefined) return false;
    if (isTypingTarget(event.target) && !binding.inInputs) return false;
    if (binding.when !== undefined && !binding.when()) return false;
    binding.run();
    return true;
  }
}
