/**
 * The labeling page: the next item from the queue, its fields and controls, keyboard first, and
 * work that is never lost (local copy + debounced server drafts, an offline submit queue with
 * idempotency keys, a lease heartbeat that tells when the lease is lost).
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import type { LabelingContext, Result } from "../contract";
import { ApiError } from "../../api/http";
import { type AssignmentInfo, type NextItem, SessionClient, newIdempotencyKey } from "../core/api";
import { DraftKeeper, type DraftState } from "../core/drafts";
import { type Binding, HotkeyMap } from "../core/hotkeys";
import { Outbox, type OutboxEntry } from "../core/outbox";
import { NextItemLoader } from "../core/prefetch";
import { ActiveTimer, Heartbeat, heartbeatInterval } from "../core/session";
import { isEmpty, missingRequired, resultForSubmit, visibleControls } from "../core/show-if";
import { safeStorage } from "../core/storage";
import { AnswerStore } from "../core/store";
import { controlToolFor } from "../registry";
import { resetTextState, updateTextState } from "../tools/text/selection";
import { clearSpanMessage } from "../tools/text/spans";
import type { PageConfig } from "./config";
import { HelpOverlay, deleteSelectedIn, toolBindings, useHotkeys } from "./keys";
import { type FeedStatus, useFeed } from "./feed";
import type { FeedEvent } from "../../realtime/project-feed";
import { Workspace, controlHeading } from "./workspace";

type Phase =
  | { kind: "loading" }
  | { kind: "working" }
  | { kind: "empty"; reason: string }
  | { kind: "paused"; detail: string }
  | { kind: "guidelines"; version: number; detail: string }
  | { kind: "no_schema" }
  | { kind: "lost"; detail: string }
  | { kind: "waiting"; detail: string }
  | { kind: "error"; detail: string };

export interface LabelingAppProps {
  config: PageConfig;
  client?: SessionClient;
  /** The guidelines panel rendered by the server (sanitised); the app only shows and hides it. */
  guidelinesPanel?: HTMLElement | null;
}

const REASONS: Record<string, { title: string; text: string }> = {
  queue_empty: { title: "Nothing to label right now", text: "Every item has the annotations it needs, or the rest are held by others. New items appear here as they are imported or released." },
  quota_reached: { title: "You reached your quota", text: "You have labelled as many items as this project asks of one person. Thank you! A manager can raise the quota." },
};

export function LabelingApp({ config, client: given, guidelinesPanel }: LabelingAppProps) {
  const client = useMemo(() => given ?? new SessionClient(config.projectId), [given, config.projectId]);
  const store = useMemo(() => new AnswerStore(), []);
  const [, setTick] = useState(0);
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });
  const [assignment, setAssignment] = useState<AssignmentInfo | null>(null);
  const [activeControl, setActiveControl] = useState<string | null>(null);
  const [activeLabel, setActiveLabelState] = useState<Record<string, string | undefined>>({});
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [notice, setNotice] = useState<{ tone: "info" | "warn" | "error" | "ok"; text: string } | null>(null);
  const [draftState, setDraftState] = useState<DraftState>("idle");
  const [pending, setPending] = useState<readonly OutboxEntry[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [help, setHelp] = useState(false);
  const [skipOpen, setSkipOpen] = useState(false);
  const [guidelinesOpen, setGuidelinesOpen] = useState(false);
  const [progress, setProgress] = useState<{ submitted: number; total: number; share: number } | null>(null);
  const [readyAt, setReadyAt] = useState(0);
  const startedFromPrediction = useRef<number | null>(null);
  const assignmentRef = useRef<AssignmentInfo | null>(null);
  assignmentRef.current = assignment;

  const storage = useMemo(() => safeStorage(), []);
  const timer = useMemo(() => new ActiveTimer(), []);
  const drafts = useMemo(
    () =>
      new DraftKeeper({
        projectId: config.projectId,
        storage,
        save: (id, result, keepalive) => client.draft(id, result, 0, keepalive),
        onState: (state, error) => {
          setDraftState(state);
          if (error instanceof ApiError && error.code === "lease_lost") lost(error.detail);
        },
      }),
    [client],
  );
  const loader = useMemo(() => new NextItemLoader(() => client.next()), [client]);
  const heartbeat = useMemo(
    () =>
      new Heartbeat({
        intervalMs: heartbeatInterval(config.leaseSeconds),
        beat: () => {
          const current = assignmentRef.current;
          return current ? client.heartbeat(current.id, timer.take()) : Promise.resolve();
        },
        onLost: (error) => lost(error.detail),
      }),
    [client],
  );
  const outbox = useMemo(
    () =>
      new Outbox({
        projectId: config.projectId,
        storage,
        send: (entry) => client.submit(entry.assignmentId, entry.body, entry.key),
        onChange: (entries) => setPending([...entries]),
        onSent: (entry) => {
          drafts.discard(entry.assignmentId);
          if (assignmentRef.current?.id === entry.assignmentId) {
            setNotice({ tone: "ok", text: "Submitted. Here is your next item." });
            void loadNext();
          }
        },
        onRefused: (entry, error) => refused(entry, error),
      }),
    [client],
  );
  const feedStatus: FeedStatus = useFeed(config.feedPath, (event) => {
    if (event.type === "guideline.version_created") {
      setNotice({ tone: "warn", text: `The guidelines changed (v${event.data.version}). You will confirm them before your next item.` });
    } else if (event.type === "schema.version_created") {
      setNotice({ tone: "warn", text: `The label schema changed (v${event.data.version}). Submissions are checked against the newest version.` });
    } else if (event.type === "member.removed" && event.data.username === config.user) {
      lost("You were removed from this project.");
    } else if (leaseAtRisk(event, assignmentRef.current)) {
      // Our hold was released by the expiry sweep, or someone else just took a slot of our item:
      // renew now (the server gives an expired hold back while a slot is free) or learn at once
      // that it is gone, instead of at the next heartbeat.
      void heartbeat.beatNow();
    }
  }, () => {
    // Back after a gap: a lease.expired or item.leased may have been missed, so check the hold now.
    if (heartbeat.running) void heartbeat.beatNow();
  });

  useEffect(() => {
    // The server closed the feed for good (4403: removed from the project while labeling).
    // A "You were removed" from the member.removed event just before stays the message.
    if (feedStatus === "offline" && phase.kind !== "lost") lost("You no longer have access to this project.");
  }, [feedStatus]);

  function lost(detail: string) {
    heartbeat.stop();
    setPhase({ kind: "lost", detail: `${detail} Your work is kept in this browser.` });
  }

  function refused(entry: OutboxEntry, error: ApiError) {
    setSubmitting(false);
    if (error.code === "invalid_annotation") {
      const byControl: Record<string, string[]> = {};
      for (const p of error.problems) {
        const name = p.path.split(/[.[]/)[0] ?? "";
        byControl[name] ??= [];
        byControl[name].push(p.message);
      }
      setProblems(byControl);
      setNotice({ tone: "error", text: "The server found problems in this annotation; they are shown next to each control." });
      if (assignmentRef.current?.id !== entry.assignmentId) setNotice({ tone: "error", text: `A queued submission was refused: ${error.detail}` });
    } else if (error.code === "lease_lost") {
      lost(error.detail);
    } else if (error.code === "already_submitted") {
      drafts.discard(entry.assignmentId);
      void loadNext();
    } else if (error.code === "guidelines_not_acknowledged") {
      setNotice({ tone: "warn", text: error.detail });
    } else {
      setNotice({ tone: "error", text: error.detail });
    }
  }

  async function loadNext(fromLoader = true) {
    heartbeat.stop();
    setPhase({ kind: "loading" });
    setProblems({});
    let next: NextItem;
    try {
      next = fromLoader ? await loader.take() : await client.next();
    } catch (error) {
      handleNextError(error);
      return;
    }
    showNext(next);
  }

  function handleNextError(error: unknown) {
    if (!(error instanceof ApiError)) {
      setPhase({ kind: "error", detail: String(error) });
      return;
    }
    if (error.code === "guidelines_not_acknowledged") {
      setPhase({ kind: "guidelines", version: Number(error.body.guideline_version ?? config.guidelines?.version ?? 0), detail: error.detail });
      setGuidelinesOpen(true);
    } else if (error.code === "annotator_paused") setPhase({ kind: "paused", detail: error.detail });
    else if (error.code === "no_schema") setPhase({ kind: "no_schema" });
    else setPhase({ kind: "error", detail: error.detail });
  }

  function showNext(next: NextItem) {
    const a = next.assignment;
    resetTextState();
    if (a === null) {
      setAssignment(null);
      setPhase({ kind: "empty", reason: next.reason });
      return;
    }
    const definition = a.schema?.definition ?? config.schema?.definition;
    if (!definition) {
      setPhase({ kind: "no_schema" });
      return;
    }
    drafts.begin(a.id, a.item.id);
    const restored = drafts.restore(a.id, a.draft, a.draft_saved_at);
    let initial: Result = {};
    let predicted: string[] = [];
    startedFromPrediction.current = null;
    if (restored !== null && !isEmpty(restored)) initial = restored;
    else if (a.correction && a.annotation) initial = a.annotation.result;
    else if (a.prediction?.result && typeof a.prediction.result === "object") {
      initial = { ...a.prediction.result };
      predicted = Object.keys(initial).filter((k) => definition.controls.some((c) => c.name === k));
      startedFromPrediction.current = a.prediction.id;
    }
    store.reset(initial, predicted);
    timer.take();
    setAssignment({ ...a, schema: { version: a.schema?.version ?? config.schema?.version ?? 0, definition } });
    setActiveControl(definition.controls[0]?.name ?? null);
    setActiveLabelState({});
    setPhase({ kind: "working" });
    setReadyAt(performance.now());
    heartbeat.start();
    void refreshProgress();
  }

  async function refreshProgress() {
    try {
      const data = (await client.progress()) as { mine?: Record<string, number>; total_items?: number; completed_share?: number };
      setProgress({ submitted: data.mine?.submitted ?? 0, total: data.total_items ?? 0, share: data.completed_share ?? 0 });
    } catch {
      /* progress is a nicety */
    }
  }

  // store → re-render + autosave
  useEffect(
    () =>
      store.subscribe(() => {
        setTick((n) => n + 1);
        if (assignmentRef.current !== null && phaseRef.current === "working") drafts.change(store.result);
      }),
    [],
  );
  const phaseRef = useRef(phase.kind);
  phaseRef.current = phase.kind;

  useEffect(() => {
    const stopTimer = timer.attach(document, window);
    const stopOutbox = outbox.listen(window);
    setPending([...outbox.pending]);
    const onHide = () => {
      if (document.visibilityState === "hidden") void drafts.flush(true);
    };
    const onPageHide = () => void drafts.flush(true);
    document.addEventListener("visibilitychange", onHide);
    window.addEventListener("pagehide", onPageHide);
    if (outbox.pending.length > 0) {
      setPhase({ kind: "waiting", detail: "Sending the work you submitted earlier…" });
      void outbox.flush(true).then(() => {
        if (outbox.pending.length === 0) void loadNext();
        else setPhase({ kind: "waiting", detail: "Your submitted work is saved in this browser and will be sent when the server can be reached." });
      });
    } else void loadNext();
    return () => {
      stopTimer();
      stopOutbox();
      heartbeat.stop();
      document.removeEventListener("visibilitychange", onHide);
      window.removeEventListener("pagehide", onPageHide);
    };
  }, []);

  useEffect(() => {
    if (guidelinesPanel) guidelinesPanel.hidden = !guidelinesOpen;
  }, [guidelinesOpen, guidelinesPanel]);
  useEffect(() => {
    const close = guidelinesPanel?.querySelector("[data-guidelines-close]");
    const onClose = () => setGuidelinesOpen(false);
    close?.addEventListener("click", onClose);
    return () => close?.removeEventListener("click", onClose);
  }, [guidelinesPanel]);

  const definition = assignment?.schema?.definition ?? config.schema?.definition ?? { version: 1, fields: [], controls: [] };
  const result = store.result;
  const visible = useMemo(() => visibleControls(definition, result), [definition, result]);
  const ctx: LabelingContext = {
    definition,
    item: assignment?.item ?? { id: 0, data: {} },
    result,
    setAnswer: (control, answer, options) => {
      if (phase.kind !== "working") return;
      store.set(control, answer, options);
      if (problems[control]) setProblems((p) => ({ ...p, [control]: [] }));
      if (notice?.tone === "error") setNotice(null);
    },
    readOnly: phase.kind !== "working",
    activeControl,
    setActiveControl,
    activeLabel,
    setActiveLabel: (control, label) =>
      setActiveLabelState((current) => ({ ...current, [control]: current[control] === label ? undefined : label })),
    predicted: store.predicted,
    others: [],
    visible: (name) => visible.has(name),
  };

  async function submit() {
    if (assignment === null || phase.kind !== "working" || submitting) return;
    const missing = missingRequired(definition, result, (control, value) => controlToolFor(control.type)?.isEmpty?.(value) ?? isEmpty(value));
    if (missing.length > 0) {
      setProblems(Object.fromEntries(missing.map((c) => [c.name, ["Required: answer this before submitting."]])));
      setNotice({ tone: "error", text: `Answer ${missing.map(controlHeading).join(", ")} first.` });
      document.querySelector<HTMLElement>(`[data-control="${missing[0]!.name}"] button, [data-control="${missing[0]!.name}"] textarea`)?.focus();
      return;
    }
    setSubmitting(true);
    await drafts.flush().catch(() => undefined);
    const body = {
      result: resultForSubmit(definition, result),
      active_ms: timer.take(),
      prediction: startedFromPrediction.current,
      ...(assignment.status === "correction" && assignment.annotation ? { base_revision: assignment.annotation.revision } : {}),
    };
    const outcome = await outbox.submit({ assignmentId: assignment.id, itemId: assignment.item.id, key: newIdempotencyKey(), body });
    setSubmitting(false);
    if (outcome.status === "queued") {
      heartbeat.stop();
      setPhase({ kind: "waiting", detail: "You are offline. Your submission is saved in this browser and will be sent as soon as the connection is back." });
    }
  }

  async function skip(reason: string) {
    if (assignment === null) return;
    try {
      await client.skip(assignment.id, reason);
      drafts.discard(assignment.id);
      setSkipOpen(false);
      setNotice({ tone: "info", text: "Skipped. It will not be shown to you again." });
      void loadNext(false);
    } catch (error) {
      setNotice({ tone: "error", text: error instanceof ApiError ? error.detail : String(error) });
    }
  }

  async function acknowledge(version: number) {
    try {
      await client.acknowledge(version);
      setGuidelinesOpen(false);
      setNotice({ tone: "ok", text: `Thanks: you confirmed guidelines v${version}.` });
      void loadNext(false);
    } catch (error) {
      setNotice({ tone: "error", text: error instanceof ApiError ? error.detail : String(error) });
    }
  }

  const buildMap = () => {
    const shell: Binding[] = [
      { key: "Enter", ctrl: true, description: "Submit", run: () => void submit(), inInputs: true, group: "General" },
      {
        key: "Enter",
        description: "Submit (when no button has focus; a focused rating scale submits too)",
        run: () => void submit(),
        group: "General",
        // A rating step is a radio: Enter submits (as in a form) instead of clicking it, which would clear it.
        when: () => !(document.activeElement instanceof HTMLElement && !document.activeElement.closest(".lb-rating__scale") && document.activeElement.closest("button, a, summary, [role=button], [tabindex]:not(body)")),
      },
      { key: "z", ctrl: true, description: "Undo", run: () => store.undo(), group: "General" },
      { key: "z", ctrl: true, shift: true, description: "Redo", run: () => store.redo(), group: "General" },
      { key: "y", ctrl: true, description: "Redo", run: () => store.redo(), group: "General" },
      { key: "?", description: "Show or hide this help", run: () => setHelp((h) => !h), group: "General" },
      { key: "Escape", description: "Clear the selection / close", run: () => { setHelp(false); setSkipOpen(false); clearSpanMessage(); updateTextState({ pending: null, selectedSpan: null }); window.getSelection()?.removeAllRanges(); }, inInputs: true, group: "General" },
      { key: "Delete", description: "Delete the selected region", run: () => void deleteSelectedIn(ctx), group: "General" },
      { key: "Backspace", description: "Delete the selected region", run: () => void deleteSelectedIn(ctx), group: "General" },
      { key: "g", alt: true, description: "Show or hide the guidelines", run: () => setGuidelinesOpen((o) => !o), group: "General" },
      { key: "s", alt: true, description: "Skip this item", run: () => phase.kind === "working" && setSkipOpen(true), group: "General" },
    ];
    return new HotkeyMap([...shell, ...(phase.kind === "working" ? toolBindings(ctx) : [])]);
  };
  useHotkeys(buildMap);

  // measured by the benchmark: the moment the next item is ready for input
  useEffect(() => {
    if (phase.kind === "working" && readyAt > 0) {
      document.documentElement.dataset.itemReady = String(assignment?.id ?? "");
      window.dispatchEvent(new CustomEvent("tessera:item-ready", { detail: { assignment: assignment?.id } }));
    }
  }, [readyAt]);

  return (
    <div class="lb-app" data-phase={phase.kind}>
      <header class="lb-bar">
        <div class="lb-bar__item">
          {assignment && phase.kind !== "empty" ? (
            <>
              <span class="lb-bar__title">Item {assignment.item.external_id ? String(assignment.item.external_id) : `#${assignment.item.id}`}</span>
              {assignment.status === "correction" && <span class="lb-badge lb-badge--warn">correction</span>}
              {startedFromPrediction.current !== null && <span class="lb-badge lb-badge--predicted">pre-annotated</span>}
            </>
          ) : (
            <span class="lb-bar__title">{config.projectName}</span>
          )}
        </div>
        {progress && (
          <div class="lb-progress" title={`${Math.round(progress.share * 100)}% of the project's items are complete`}>
            <span>
              <strong>{progress.submitted}</strong> done by you
            </span>
            <span class="lb-progress__bar" aria-hidden="true">
              <span style={{ width: `${Math.round(progress.share * 100)}%` }} />
            </span>
            <span class="lb-muted">{Math.round(progress.share * 100)}% of project</span>
          </div>
        )}
        <div class="lb-bar__tools">
          <SaveStatus state={draftState} pending={pending.length} />
          <span class={`lb-live lb-live--${feedStatus}`} title="Live updates from the project">
            {feedStatus === "open" ? "Live" : feedStatus === "connecting" ? "Connecting…" : feedStatus === "offline" ? "Offline" : "Reconnecting…"}
          </span>
          {config.guidelines && (
            <button type="button" class="lb-button lb-button--ghost lb-button--small" aria-expanded={guidelinesOpen} onClick={() => setGuidelinesOpen((o) => !o)}>
              Guidelines
            </button>
          )}
          <button type="button" class="lb-button lb-button--ghost lb-button--small" aria-label="Keyboard shortcuts" onClick={() => setHelp(true)}>
            <kbd class="lb-kbd">?</kbd>
          </button>
        </div>
      </header>

      {notice && (
        <div class={`lb-notice lb-notice--${notice.tone}`} role={notice.tone === "error" ? "alert" : "status"}>
          <span>{notice.text}</span>
          <button type="button" class="lb-icon" aria-label="Dismiss" onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      )}

      {phase.kind === "working" && assignment?.correction && (
        <section class="lb-correction" aria-label="Reviewer's feedback">
          <h2>Sent back by {assignment.correction.reviewer}</h2>
          <p>
            <span class="lb-badge lb-badge--warn">{assignment.correction.reason.replace(/_/g, " ")}</span> {assignment.correction.comment}
          </p>
        </section>
      )}

      <StateMessage phase={phase} config={config} onRetry={() => void loadNext(false)} onAcknowledge={acknowledge} />

      {(phase.kind === "working" || phase.kind === "lost" || phase.kind === "waiting") && assignment && (
        <Workspace ctx={ctx} problems={problems} />
      )}

      {phase.kind === "working" && (
        <footer class="lb-actions">
          <div class="lb-actions__left">
            <button type="button" class="lb-button lb-button--ghost" onClick={() => store.undo()} disabled={!store.canUndo} title="Ctrl+Z">
              Undo
            </button>
            <button type="button" class="lb-button lb-button--ghost" onClick={() => store.redo()} disabled={!store.canRedo} title="Ctrl+Shift+Z">
              Redo
            </button>
          </div>
          <div class="lb-actions__right">
            <button type="button" class="lb-button lb-button--ghost" onClick={() => setSkipOpen(true)}>
              Skip…
            </button>
            <button type="button" class="lb-button lb-button--primary" onClick={() => void submit()} disabled={submitting}>
              {submitting ? "Submitting…" : assignment?.status === "correction" ? "Resubmit" : "Submit"} <kbd class="lb-kbd lb-kbd--on-primary">Ctrl+Enter</kbd>
            </button>
          </div>
        </footer>
      )}

      {skipOpen && <SkipDialog onCancel={() => setSkipOpen(false)} onSkip={skip} />}
      {help && <HelpOverlay map={buildMap()} onClose={() => setHelp(false)} />}
    </div>
  );
}

function SaveStatus({ state, pending }: { state: DraftState; pending: number }) {
  if (pending > 0) return <span class="lb-save lb-save--warn">{pending} waiting to send</span>;
  const text: Record<DraftState, string> = {
    idle: "",
    pending: "Unsaved changes",
    saving: "Saving…",
    saved: "Draft saved",
    offline: "Offline: kept in this browser",
    error: "Draft not saved: kept in this browser",
  };
  return text[state] ? (
    <span class={`lb-save lb-save--${state}`} aria-live="polite">
      {text[state]}
    </span>
  ) : null;
}

function StateMessage({ phase, config, onRetry, onAcknowledge }: { phase: Phase; config: PageConfig; onRetry(): void; onAcknowledge(version: number): void }) {
  switch (phase.kind) {
    case "loading":
      return <p class="lb-state lb-state--loading" aria-live="polite">Loading the next item…</p>;
    case "empty": {
      const reason = REASONS[phase.reason] ?? REASONS.queue_empty!;
      return (
        <section class="lb-state" aria-live="polite">
          <h2>{reason.title}</h2>
          <p>{reason.text}</p>
          <button type="button" class="lb-button" onClick={onRetry}>
            Check again
          </button>
        </section>
      );
    }
    case "paused":
      return (
        <section class="lb-state lb-state--warn" role="alert">
          <h2>You are paused in this project</h2>
          <p>{phase.detail}</p>
        </section>
      );
    case "no_schema":
      return (
        <section class="lb-state">
          <h2>This project has no label schema yet</h2>
          <p>A manager has to define what to label before work can start.</p>
        </section>
      );
    case "guidelines":
      return (
        <section class="lb-state lb-state--warn" aria-labelledby="ack-title">
          <h2 id="ack-title">Please read the guidelines (v{phase.version})</h2>
          <p>{phase.detail}</p>
          {config.guidelines && config.guidelines.version !== phase.version && (
            <p>
              This page shows v{config.guidelines.version}; <a href={config.links.guidelines} target="_blank" rel="noopener">read v{phase.version} on the Guidelines tab</a>.
            </p>
          )}
          <button type="button" class="lb-button lb-button--primary" onClick={() => onAcknowledge(phase.version)}>
            I have read v{phase.version}
          </button>
        </section>
      );
    case "lost":
      return (
        <section class="lb-state lb-state--error" role="alert">
          <h2>Your hold on this item was lost</h2>
          <p>{phase.detail}</p>
          <button type="button" class="lb-button lb-button--primary" onClick={onRetry}>
            Get my next item
          </button>
        </section>
      );
    case "waiting":
      return (
        <section class="lb-state lb-state--warn" role="status">
          <h2>Waiting for the connection</h2>
          <p>{phase.detail}</p>
        </section>
      );
    case "error":
      return (
        <section class="lb-state lb-state--error" role="alert">
          <h2>Something went wrong</h2>
          <p>{phase.detail}</p>
          <button type="button" class="lb-button" onClick={onRetry}>
            Try again
          </button>
        </section>
      );
    default:
      return null;
  }
}

function SkipDialog({ onCancel, onSkip }: { onCancel(): void; onSkip(reason: string): void }) {
  const [reason, setReason] = useState("");
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => input.current?.focus(), []);
  const presets = ["Not in the expected language", "Content is broken or empty", "I cannot judge this"];
  return (
    <div class="lb-overlay" role="presentation" onClick={onCancel}>
      <div class="lb-dialog" role="dialog" aria-modal="true" aria-labelledby="skip-title" onClick={(e) => e.stopPropagation()}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (reason.trim()) onSkip(reason.trim());
        }}
      >
        <header class="lb-dialog__head">
          <h2 id="skip-title">Skip this item</h2>
        </header>
        <div class="lb-chips">
          {presets.map((p) => (
            <button type="button" key={p} class="lb-chip" onClick={() => setReason(p)}>
              {p}
            </button>
          ))}
        </div>
        <label class="lb-field">
          <span>Reason (shown to managers)</span>
          <textarea ref={input} class="lb-textarea" rows={3} maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} required />
        </label>
        <footer class="lb-dialog__foot">
          <button type="button" class="lb-button lb-button--ghost" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" class="lb-button lb-button--primary" disabled={!reason.trim()}>
            Skip item
          </button>
        </footer>
      </form>
      </div>
    </div>
  );
}

/** Whether a project-feed event can mean the current lease is gone: the sweep expired leases on our
 * item, or another assignment leased it (perhaps its last slot). The feed passes these workflow
 * events through undecoded (`unrecognized`, by name), so their fields are checked here. */
export function leaseAtRisk(event: FeedEvent, current: { id: number; item: { id: number } } | null): boolean {
  if (current === null || event.type !== "unrecognized") return false;
  const { name, data } = event;
  if (name === "lease.expired") return Array.isArray(data.items) && data.items.includes(current.item.id);
  if (name === "item.leased") return data.item_id === current.item.id && typeof data.assignment_id === "number" && data.assignment_id !== current.id;
  return false;
}
