/**
 * The review session as a controller outside the component: the next item in review with all its
 * annotations, which one is shown, and a decision per annotation (accept; reject with a reason code
 * and a comment; fix: edit in the answer store, then submit as a fix). Framework-free: `ReviewApp`
 * renders `state` and calls the intents; tests drive it without a DOM (core/review-session.test.ts).
 */
import { ApiError } from "../../api/http";
import type { Answer, Definition, SetAnswerOptions } from "../contract";
import type { PageConfig } from "../shell/config";
import { resetTextState } from "../tools/text/selection";
import { type AnnotationInfo, type ReviewTask, SessionClient } from "./api";
import { resultForSubmit } from "./show-if";
import { AnswerStore } from "./store";

export type ReviewMode = "view" | "reject" | "fix";
export type Decision = "accept" | "reject" | "fix";

export interface ReviewState {
  task: ReviewTask | null;
  phase: "loading" | "working" | "empty" | "error";
  error: string;
  /** Index of the annotation shown (and decided on). */
  selected: number;
  mode: ReviewMode;
  reason: string;
  comment: string;
  notice: { tone: "ok" | "error" | "info"; text: string } | null;
  busy: boolean;
  help: boolean;
  guidelinesOpen: boolean;
  activeControl: string | null;
  activeLabel: Readonly<Record<string, string | undefined>>;
}

/** What a decision did: `need_comment` asks the page to focus the comment box. */
export type DecideOutcome = "ignored" | "need_comment" | "done" | "failed";

const EMPTY_DEFINITION: Definition = { version: 1, fields: [], controls: [] };

export class ReviewSession {
  readonly client: SessionClient;
  readonly store = new AnswerStore();
  private readonly config: PageConfig;
  private readonly listeners = new Set<() => void>();
  private current: ReviewState;

  constructor({ config, client }: { config: PageConfig; client?: SessionClient }) {
    this.config = config;
    this.client = client ?? new SessionClient(config.projectId);
    this.current = {
      task: null,
      phase: "loading",
      error: "",
      selected: 0,
      mode: "view",
      reason: config.rejectReasons[0] ?? "other",
      comment: "",
      notice: null,
      busy: false,
      help: false,
      guidelinesOpen: false,
      activeControl: null,
      activeLabel: {},
    };
    this.store.subscribe(() => this.emit());
  }

  get state(): ReviewState {
    return this.current;
  }

  get definition(): Definition {
    return this.config.schema?.definition ?? EMPTY_DEFINITION;
  }

  get annotations(): AnnotationInfo[] {
    return this.current.task?.annotations ?? [];
  }

  /** The annotation shown and decided on. */
  get annotation(): AnnotationInfo | undefined {
    return this.annotations[this.current.selected];
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async loadNext(): Promise<void> {
    this.update({ phase: "loading", mode: "view" });
    resetTextState();
    try {
      const next = await this.client.reviewNext();
      this.update({
        task: next,
        selected: Math.max(0, next.annotations.findIndex((a) => a.review === "pending")),
        phase: next.item === null ? "empty" : "working",
      });
    } catch (e) {
      this.update({ error: e instanceof ApiError ? e.detail : String(e), phase: "error" });
    }
  }

  select(index: number): void {
    this.update({ selected: index });
  }

  setMode(mode: ReviewMode): void {
    this.update({ mode });
  }

  /** Opens the reject dialog for a pending annotation. */
  startReject(): void {
    if (this.annotation?.review === "pending") this.update({ mode: "reject" });
  }

  /** Starts a fix of a pending annotation from its answers. */
  startFix(): void {
    const annotation = this.annotation;
    if (annotation?.review !== "pending") return;
    this.store.reset(annotation.result);
    this.update({ mode: "fix" });
  }

  setReason(reason: string): void {
    this.update({ reason });
  }

  setComment(comment: string): void {
    this.update({ comment });
  }

  /** Answers change only while fixing. */
  setAnswer(control: string, answer: Answer, options?: SetAnswerOptions): void {
    if (this.current.mode === "fix") this.store.set(control, answer, options);
  }

  setActiveControl(name: string | null): void {
    this.update({ activeControl: name });
  }

  toggleActiveLabel(control: string, label: string | undefined): void {
    const current = this.current.activeLabel;
    this.update({ activeLabel: { ...current, [control]: current[control] === label ? undefined : label } });
  }

  setHelp(open: boolean | ((open: boolean) => boolean)): void {
    this.update({ help: typeof open === "function" ? open(this.current.help) : open });
  }

  setGuidelinesOpen(open: boolean | ((open: boolean) => boolean)): void {
    this.update({ guidelinesOpen: typeof open === "function" ? open(this.current.guidelinesOpen) : open });
  }

  dismissNotice(): void {
    this.update({ notice: null });
  }

  undo(): void {
    this.store.undo();
  }

  redo(): void {
    this.store.redo();
  }

  async decide(decision: Decision): Promise<DecideOutcome> {
    const current = this.annotation;
    const { busy, comment, reason } = this.current;
    if (!current || busy || current.review !== "pending") return "ignored";
    if (decision === "reject" && !comment.trim()) {
      this.update({ notice: { tone: "error", text: "Write a comment: the annotator sees it with the item." } });
      return "need_comment";
    }
    this.update({ busy: true });
    try {
      await this.client.review(current.id, {
        decision,
        revision: current.revision,
        ...(decision === "reject" ? { reason, comment: comment.trim() } : {}),
        ...(decision === "fix" ? { result: resultForSubmit(this.definition, this.store.result) } : {}),
      });
      const status = decision === "accept" ? "accepted" : decision === "reject" ? "rejected" : "fixed";
      const updated = this.annotations.map((a) => (a.id === current.id ? { ...a, review: status } : a));
      const task = this.current.task;
      this.update({
        task: task ? { ...task, annotations: updated } : task,
        mode: "view",
        comment: "",
        notice: { tone: "ok", text: `${current.annotator}'s annotation ${status}.` },
      });
      const nextPending = updated.findIndex((a) => a.review === "pending");
      if (nextPending >= 0) this.update({ selected: nextPending });
      else void this.loadNext();
      return "done";
    } catch (e) {
      this.update({ notice: { tone: "error", text: e instanceof ApiError ? e.detail : String(e) } });
      return "failed";
    } finally {
      this.update({ busy: false });
    }
  }

  private update(patch: Partial<ReviewState>): void {
    this.current = { ...this.current, ...patch };
    this.emit();
  }

  private emit(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
