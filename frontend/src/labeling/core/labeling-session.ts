/**
 * The labeling session as a controller outside the component: claim (lease) the next item, load it
 * (the newer of the local and the server draft, else the correction's or the prediction's answers),
 * autosave drafts, submit through the offline outbox, skip, acknowledge guidelines, keep the lease
 * alive, and react to the project feed. Framework-free: `LabelingApp` renders `state` and calls the
 * intents; tests drive it without a DOM (core/labeling-session.test.ts).
 *
 * Never lose work: a change goes to localStorage at once and to the server as a debounced draft
 * (DraftKeeper); a submission is written to the outbox before it is sent and retried while offline
 * (Outbox); the heartbeat tells at once when the lease is lost, and the work stays in the browser.
 */
import { ApiError } from "../../api/http";
import type { FeedEvent } from "../../realtime/project-feed";
import type { Answer, Control, Definition, Result, SetAnswerOptions } from "../contract";
import { controlToolFor } from "../registry";
import type { PageConfig } from "../shell/config";
import { resetTextState } from "../tools/text/selection";
import { type AssignmentInfo, type NextItem, SessionClient, newIdempotencyKey } from "./api";
import { DraftKeeper, type DraftState } from "./drafts";
import { Outbox, type OutboxEntry } from "./outbox";
import { NextItemLoader } from "./prefetch";
import { ActiveTimer, Heartbeat, heartbeatInterval } from "./session";
import { isEmpty, missingRequired, resultForSubmit } from "./show-if";
import { type KeyValue, safeStorage } from "./storage";
import { AnswerStore } from "./store";

export type Phase =
  | { kind: "loading" }
  | { kind: "working" }
  | { kind: "empty"; reason: string }
  | { kind: "paused"; detail: string }
  | { kind: "guidelines"; version: number; detail: string }
  | { kind: "no_schema" }
  | { kind: "lost"; detail: string }
  | { kind: "waiting"; detail: string }
  | { kind: "error"; detail: string };

export interface Notice {
  tone: "info" | "warn" | "error" | "ok";
  text: string;
}

export interface Progress {
  submitted: number;
  total: number;
  share: number;
}

/** Everything the labeling page shows; replaced (never mutated) on every change. */
export interface LabelingState {
  phase: Phase;
  assignment: AssignmentInfo | null;
  activeControl: string | null;
  activeLabel: Readonly<Record<string, string | undefined>>;
  /** Messages per control name (required, or the server's invalid_annotation problems). */
  problems: Readonly<Record<string, string[]>>;
  notice: Notice | null;
  draftState: DraftState;
  pending: readonly OutboxEntry[];
  submitting: boolean;
  help: boolean;
  skipOpen: boolean;
  guidelinesOpen: boolean;
  progress: Progress | null;
  /** performance.now() when the current item became ready for input (the benchmark's mark). */
  readyAt: number;
  /** The prediction the answers started from, sent with the submission. */
  predictionId: number | null;
}

/** What a submit did: `missing` names the required controls left unanswered (the page focuses the first). */
export type SubmitOutcome = { status: "ignored" } | { status: "missing"; missing: string[] } | { status: "sent" | "queued" | "refused" };

export interface LabelingSessionOptions {
  config: PageConfig;
  client?: SessionClient;
  storage?: KeyValue | null;
  timer?: ActiveTimer;
  now?: () => number;
}

const EMPTY_DEFINITION: Definition = { version: 1, fields: [], controls: [] };

export const WAITING_OFFLINE =
  "You are offline. Your submission is saved in this browser and will be sent as soon as the connection is back.";

export class LabelingSession {
  readonly client: SessionClient;
  readonly store = new AnswerStore();
  readonly timer: ActiveTimer;
  private readonly config: PageConfig;
  private readonly drafts: DraftKeeper;
  private readonly loader: NextItemLoader;
  private readonly heartbeat: Heartbeat;
  private readonly outbox: Outbox;
  private readonly now: () => number;
  private readonly listeners = new Set<() => void>();
  private current: LabelingState = {
    phase: { kind: "loading" },
    assignment: null,
    activeControl: null,
    activeLabel: {},
    problems: {},
    notice: null,
    draftState: "idle",
    pending: [],
    submitting: false,
    help: false,
    skipOpen: false,
    guidelinesOpen: false,
    progress: null,
    readyAt: 0,
    predictionId: null,
  };

  constructor({ config, client, storage = safeStorage(), timer, now }: LabelingSessionOptions) {
    this.config = config;
    this.client = client ?? new SessionClient(config.projectId);
    this.timer = timer ?? new ActiveTimer();
    this.now = now ?? (() => (typeof performance === "undefined" ? Date.now() : performance.now()));
    this.drafts = new DraftKeeper({
      projectId: config.projectId,
      storage,
      save: (id, result, keepalive) => this.client.draft(id, result, 0, keepalive),
      onState: (draftState, error) => {
        this.update({ draftState });
        if (error instanceof ApiError && error.code === "lease_lost") this.lost(error.detail);
      },
    });
    this.loader = new NextItemLoader(() => this.client.next());
    this.heartbeat = new Heartbeat({
      intervalMs: heartbeatInterval(config.leaseSeconds),
      beat: () => {
        const current = this.current.assignment;
        return current ? this.client.heartbeat(current.id, this.timer.take()) : Promise.resolve();
      },
      onLost: (error) => this.lost(error.detail),
    });
    this.outbox = new Outbox({
      projectId: config.projectId,
      storage,
      send: (entry) => this.client.submit(entry.assignmentId, entry.body, entry.key),
      onChange: (entries) => this.update({ pending: [...entries] }),
      onSent: (entry) => {
        this.drafts.discard(entry.assignmentId);
        if (this.current.assignment?.id === entry.assignmentId) {
          this.update({ notice: { tone: "ok", text: "Submitted. Here is your next item." } });
          void this.loadNext().then(() => {
            // No next item: do not promise one above "Nothing to label".
            if (this.current.phase.kind === "empty" && this.current.notice?.text.startsWith("Submitted.")) {
              this.update({ notice: { tone: "ok", text: "Submitted. That was the last item for now." } });
            }
          });
        }
      },
      onRefused: (entry, error) => this.refused(entry, error),
    });
    // Answers changed: re-render, and keep the draft (locally now, on the server after a pause).
    this.store.subscribe(() => {
      if (this.current.assignment !== null && this.current.phase.kind === "working") this.drafts.change(this.store.result);
      this.emit();
    });
  }

  // --- observing -------------------------------------------------------------------------------------

  get state(): LabelingState {
    return this.current;
  }

  /** The schema of the current item, else the page's. */
  get definition(): Definition {
    return this.current.assignment?.schema?.definition ?? this.config.schema?.definition ?? EMPTY_DEFINITION;
  }

  get heartbeatRunning(): boolean {
    return this.heartbeat.running;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- lifecycle -------------------------------------------------------------------------------------

  /**
   * Wires the session to the page (active time, online/offline, draft flush on hide) and starts: the
   * submissions still in the outbox first, then the next item. Returns a function that unwires it.
   */
  start(doc: Document, win: Window): () => void {
    const stopTimer = this.timer.attach(doc, win);
    const stopOutbox = this.outbox.listen(win);
    this.update({ pending: [...this.outbox.pending] });
    const onHide = () => {
      if (doc.visibilityState === "hidden") void this.drafts.flush(true);
    };
    const onPageHide = () => void this.drafts.flush(true);
    doc.addEventListener("visibilitychange", onHide);
    win.addEventListener("pagehide", onPageHide);
    void this.resume();
    return () => {
      stopTimer();
      stopOutbox();
      this.heartbeat.stop();
      doc.removeEventListener("visibilitychange", onHide);
      win.removeEventListener("pagehide", onPageHide);
    };
  }

  /** Stops the timers of the session (heartbeat, pending draft save) without starting anything new. */
  dispose(): void {
    this.heartbeat.stop();
    this.drafts.cancel();
  }

  /** Sends what an earlier visit left in the outbox, then loads the next item. */
  async resume(): Promise<void> {
    if (this.outbox.pending.length === 0) return this.loadNext();
    this.update({ phase: { kind: "waiting", detail: "Sending the work you submitted earlier…" } });
    await this.outbox.flush(true);
    if (this.outbox.pending.length === 0) return this.loadNext();
    this.update({
      phase: {
        kind: "waiting",
        detail: "Your submitted work is saved in this browser and will be sent when the server can be reached.",
      },
    });
  }

  /** Claims the next item (the prefetched answer unless `fromLoader` is false). */
  async loadNext(fromLoader = true): Promise<void> {
    this.heartbeat.stop();
    this.update({ phase: { kind: "loading" }, problems: {} });
    let next: NextItem;
    try {
      next = fromLoader ? await this.loader.take() : await this.client.next();
    } catch (error) {
      this.nextFailed(error);
      return;
    }
    this.show(next);
  }

  // --- intents ---------------------------------------------------------------------------------------

  setAnswer(control: string, answer: Answer, options?: SetAnswerOptions): void {
    if (this.current.phase.kind !== "working") return;
    this.store.set(control, answer, options);
    const { problems, notice } = this.current;
    if (problems[control]) this.update({ problems: { ...problems, [control]: [] } });
    if (notice?.tone === "error") this.update({ notice: null });
  }

  setActiveControl(name: string | null): void {
    this.update({ activeControl: name });
  }

  /** Picks a label to draw with; picking it again puts it down. */
  toggleActiveLabel(control: string, label: string | undefined): void {
    const current = this.current.activeLabel;
    this.update({ activeLabel: { ...current, [control]: current[control] === label ? undefined : label } });
  }

  undo(): void {
    this.store.undo();
  }

  redo(): void {
    this.store.redo();
  }

  setHelp(open: boolean | ((open: boolean) => boolean)): void {
    this.update({ help: typeof open === "function" ? open(this.current.help) : open });
  }

  setGuidelinesOpen(open: boolean | ((open: boolean) => boolean)): void {
    this.update({ guidelinesOpen: typeof open === "function" ? open(this.current.guidelinesOpen) : open });
  }

  /** Opens the skip dialog (only while working) or closes it. */
  setSkipOpen(open: boolean): void {
    if (open && this.current.phase.kind !== "working") return;
    this.update({ skipOpen: open });
  }

  dismissNotice(): void {
    this.update({ notice: null });
  }

  async submit(): Promise<SubmitOutcome> {
    const { assignment, phase, submitting } = this.current;
    if (assignment === null || phase.kind !== "working" || submitting) return { status: "ignored" };
    const definition = this.definition;
    const result = this.store.result;
    const missing = missingRequired(
      definition,
      result,
      (control, value) => controlToolFor(control.type)?.isEmpty?.(value) ?? isEmpty(value),
    );
    if (missing.length > 0) {
      this.update({
        problems: Object.fromEntries(missing.map((c) => [c.name, ["Required: answer this before submitting."]])),
        notice: { tone: "error", text: `Answer ${missing.map(controlHeading).join(", ")} first.` },
      });
      return { status: "missing", missing: missing.map((c) => c.name) };
    }
    this.update({ submitting: true });
    await this.drafts.flush().catch(() => undefined);
    const body = {
      result: resultForSubmit(definition, result),
      active_ms: this.timer.take(),
      prediction: this.current.predictionId,
      ...(assignment.status === "correction" && assignment.annotation ? { base_revision: assignment.annotation.revision } : {}),
    };
    const outcome = await this.outbox.submit({
      assignmentId: assignment.id,
      itemId: assignment.item.id,
      key: newIdempotencyKey(),
      body,
    });
    this.update({ submitting: false });
    if (outcome.status === "queued") {
      this.heartbeat.stop();
      this.update({ phase: { kind: "waiting", detail: WAITING_OFFLINE } });
    }
    return { status: outcome.status };
  }

  async skip(reason: string): Promise<void> {
    const assignment = this.current.assignment;
    if (assignment === null) return;
    try {
      await this.client.skip(assignment.id, reason);
      this.drafts.discard(assignment.id);
      this.update({ skipOpen: false, notice: { tone: "info", text: "Skipped. It will not be shown to you again." } });
      void this.loadNext(false);
    } catch (error) {
      this.update({ notice: { tone: "error", text: error instanceof ApiError ? error.detail : String(error) } });
    }
  }

  async acknowledge(version: number): Promise<void> {
    try {
      await this.client.acknowledge(version);
      this.update({ guidelinesOpen: false, notice: { tone: "ok", text: `Thanks: you confirmed guidelines v${version}.` } });
      void this.loadNext(false);
    } catch (error) {
      this.update({ notice: { tone: "error", text: error instanceof ApiError ? error.detail : String(error) } });
    }
  }

  // --- the project feed --------------------------------------------------------------------------------

  feedEvent(event: FeedEvent): void {
    if (event.type === "guideline.version_created") {
      this.update({
        notice: { tone: "warn", text: `The guidelines changed (v${event.data.version}). You will confirm them before your next item.` },
      });
    } else if (event.type === "schema.version_created") {
      this.update({
        notice: {
          tone: "warn",
          text: `The label schema changed (v${event.data.version}). Submissions are checked against the newest version.`,
        },
      });
    } else if (event.type === "member.removed" && event.data.username === this.config.user) {
      this.lost("You were removed from this project.");
    } else if (leaseAtRisk(event, this.current.assignment)) {
      // Our hold was released by the expiry sweep, or someone else just took a slot of our item:
      // renew now (the server gives an expired hold back while a slot is free) or learn at once
      // that it is gone, instead of at the next heartbeat.
      void this.heartbeat.beatNow();
    }
  }

  /** Back after a gap: a lease.expired or item.leased may have been missed, so check the hold now. */
  feedGap(): void {
    if (this.heartbeat.running) void this.heartbeat.beatNow();
  }

  /** The server closed the feed for good (4403: removed from the project while labeling). */
  feedClosed(): void {
    // A "You were removed" from the member.removed event just before stays the message.
    if (this.current.phase.kind !== "lost") this.lost("You no longer have access to this project.");
  }

  // --- internals ---------------------------------------------------------------------------------------

  private lost(detail: string): void {
    this.heartbeat.stop();
    this.update({ phase: { kind: "lost", detail: `${detail} Your work is kept in this browser.` } });
  }

  private refused(entry: OutboxEntry, error: ApiError): void {
    this.update({ submitting: false });
    if (error.code === "invalid_annotation") {
      const byControl: Record<string, string[]> = {};
      for (const p of error.problems) {
        const name = p.path.split(/[.[]/)[0] ?? "";
        byControl[name] ??= [];
        byControl[name].push(p.message);
      }
      const text =
        this.current.assignment?.id !== entry.assignmentId
          ? `A queued submission was refused: ${error.detail}`
          : "The server found problems in this annotation; they are shown next to each control.";
      this.update({ problems: byControl, notice: { tone: "error", text } });
    } else if (error.code === "lease_lost") {
      this.lost(error.detail);
    } else if (error.code === "already_submitted") {
      this.drafts.discard(entry.assignmentId);
      void this.loadNext();
    } else if (error.code === "guidelines_not_acknowledged") {
      this.update({ notice: { tone: "warn", text: error.detail } });
    } else {
      this.update({ notice: { tone: "error", text: error.detail } });
    }
  }

  private nextFailed(error: unknown): void {
    if (!(error instanceof ApiError)) {
      this.update({ phase: { kind: "error", detail: String(error) } });
    } else if (error.code === "guidelines_not_acknowledged") {
      const version = Number(error.body.guideline_version ?? this.config.guidelines?.version ?? 0);
      this.update({ phase: { kind: "guidelines", version, detail: error.detail }, guidelinesOpen: true });
    } else if (error.code === "annotator_paused") this.update({ phase: { kind: "paused", detail: error.detail } });
    else if (error.code === "no_schema") this.update({ phase: { kind: "no_schema" } });
    else this.update({ phase: { kind: "error", detail: error.detail } });
  }

  private show(next: NextItem): void {
    const a = next.assignment;
    resetTextState();
    if (a === null) {
      this.update({ assignment: null, phase: { kind: "empty", reason: next.reason } });
      return;
    }
    const definition = a.schema?.definition ?? this.config.schema?.definition;
    if (!definition) {
      this.update({ phase: { kind: "no_schema" } });
      return;
    }
    this.drafts.begin(a.id, a.item.id);
    const restored = this.drafts.restore(a.id, a.draft, a.draft_saved_at);
    let initial: Result = {};
    let predicted: string[] = [];
    let predictionId: number | null = null;
    if (restored !== null && !isEmpty(restored)) initial = restored;
    else if (a.correction && a.annotation) initial = a.annotation.result;
    else if (a.prediction?.result && typeof a.prediction.result === "object") {
      initial = { ...a.prediction.result };
      predicted = Object.keys(initial).filter((k) => definition.controls.some((c) => c.name === k));
      predictionId = a.prediction.id;
    }
    // The new item's answers replace the old ones before it is shown (the store's change is not a draft
    // change of the previous assignment: the phase is still "loading").
    this.current = { ...this.current, predictionId };
    this.store.reset(initial, predicted);
    this.timer.take();
    this.update({
      assignment: { ...a, schema: { version: a.schema?.version ?? this.config.schema?.version ?? 0, definition } },
      activeControl: definition.controls[0]?.name ?? null,
      activeLabel: {},
      phase: { kind: "working" },
      readyAt: this.now(),
    });
    this.heartbeat.start();
    void this.refreshProgress();
  }

  private async refreshProgress(): Promise<void> {
    try {
      const data = (await this.client.progress()) as {
        mine?: Record<string, number>;
        total_items?: number;
        completed_share?: number;
      };
      this.update({
        progress: { submitted: data.mine?.submitted ?? 0, total: data.total_items ?? 0, share: data.completed_share ?? 0 },
      });
    } catch {
      /* progress is a nicety */
    }
  }

  private update(patch: Partial<LabelingState>): void {
    this.current = { ...this.current, ...patch };
    this.emit();
  }

  private emit(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** A control's heading: its title, else its name. */
export function controlHeading(control: Control): string {
  return (typeof control.title === "string" && control.title) || control.name;
}

/** Whether a project-feed event can mean the current lease is gone: the sweep expired leases on our
 * item, or another assignment leased it (perhaps its last slot). The feed passes these workflow
 * events through undecoded (`unrecognized`, by name), so their fields are checked here. */
export function leaseAtRisk(event: FeedEvent, current: { id: number; item: { id: number } } | null): boolean {
  if (current === null || event.type !== "unrecognized") return false;
  const { name, data } = event;
  if (name === "lease.expired") return Array.isArray(data.items) && data.items.includes(current.item.id);
  if (name === "item.leased")
    return data.item_id === current.item.id && typeof data.assignment_id === "number" && data.assignment_id !== current.id;
  return false;
}
