/**
 * The answer store: the current result ({control: answer}) with undo/redo. Framework-free.
 *
 * Every `set` is one undo step, except that consecutive sets with the same non-empty `coalesce`
 * key merge into one (typing in a text box is one step, not one per key). Any other action (a set
 * with another key, undo, redo, reset) ends the run.
 */
import type { Answer, Result, SetAnswerOptions } from "../contract";

interface Step {
  control: string;
  before: Answer;
  after: Answer;
  beforePredicted: boolean;
  coalesce?: string;
}

export const MAX_UNDO_STEPS = 500;

export class AnswerStore {
  private current: Result = {};
  private predictedSet = new Set<string>();
  private undoStack: Step[] = [];
  private redoStack: Step[] = [];
  private openRun: string | null = null;
  private readonly listeners = new Set<() => void>();
  /** Bumped on every change; cheap change detection for autosave. */
  revision = 0;

  constructor(initial: Result = {}, predicted: Iterable<string> = []) {
    this.reset(initial, predicted);
  }

  get result(): Result {
    return this.current;
  }

  get predicted(): ReadonlySet<string> {
    return this.predictedSet;
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** Replaces everything (a new item); forgets the history. */
  reset(result: Result, predicted: Iterable<string> = []): void {
    this.current = { ...result };
    this.predictedSet = new Set(predicted);
    this.undoStack = [];
    this.redoStack = [];
    this.openRun = null;
    this.changed();
  }

  set(control: string, answer: Answer, options: SetAnswerOptions = {}): void {
    const before = this.current[control];
    if (sameJson(before, answer)) return;
    const key = options.coalesce || null;
    const last = this.undoStack[this.undoStack.length - 1];
    if (key !== null && this.openRun === key && last !== undefined && last.control === control) {
      last.after = answer; // same run: one step from the first `before` to this `after`
    } else {
      this.undoStack.push({
        control,
        before,
        after: answer,
        beforePredicted: this.predictedSet.has(control),
        coalesce: key ?? undefined,
      });
      if (this.undoStack.length > MAX_UNDO_STEPS) this.undoStack.shift();
    }
    this.openRun = key;
    this.redoStack = [];
    this.write(control, answer);
    this.predictedSet.delete(control); // an edited prediction is the annotator's answer now
    this.changed();
  }

  undo(): boolean {
    const step = this.undoStack.pop();
    if (step === undefined) return false;
    this.redoStack.push(step);
    this.openRun = null;
    this.write(step.control, step.before);
    if (step.beforePredicted) this.predictedSet.add(step.control);
    this.changed();
    return true;
  }

  redo(): boolean {
    const step = this.redoStack.pop();
    if (step === undefined) return false;
    this.undoStack.push(step);
    this.openRun = null;
    this.write(step.control, step.after);
    this.predictedSet.delete(step.control);
    this.changed();
    return true;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private write(control: string, answer: Answer): void {
    const next = { ...this.current };
    if (answer === undefined) delete next[control];
    else next[control] = answer;
    this.current = next; // a new object per change: views compare by identity
  }

  private changed(): void {
    this.revision += 1;
    for (const listener of [...this.listeners]) listener();
  }
}

/** Structural equality of JSON values (key order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => sameJson(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao);
  if (keys.length !== Object.keys(bo).length) return false;
  return keys.every((k) => Object.hasOwn(bo, k) && sameJson(ao[k], bo[k]));
}

/** JSON with sorted keys: a canonical form for comparing answers. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
