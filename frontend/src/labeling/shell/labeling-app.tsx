/**
 * The labeling page: the next item from the queue, its fields and controls, keyboard first, and
 * work that is never lost (local copy + debounced server drafts, an offline submit queue with
 * idempotency keys, a lease heartbeat that tells when the lease is lost).
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import type { LabelingContext } from "../contract";
import type { SessionClient } from "../core/api";
import type { DraftState } from "../core/drafts";
import { type Binding, HotkeyMap } from "../core/hotkeys";
import { LabelingSession, type Phase } from "../core/labeling-session";
import { visibleControls } from "../core/show-if";
import { updateTextState } from "../tools/text/selection";
import { clearSpanMessage } from "../tools/text/spans";
import type { PageConfig } from "./config";
import { HelpOverlay, deleteSelectedIn, toolBindings, useHotkeys } from "./keys";
import { type FeedStatus, useFeed } from "./feed";
import { Workspace } from "./workspace";

export { leaseAtRisk } from "../core/labeling-session";

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

/** The session of this page, re-rendering on each of its changes. */
function useLabelingSession(config: PageConfig, client: SessionClient | undefined): LabelingSession {
  const session = useMemo(() => new LabelingSession({ config, client }), [client, config.projectId]);
  const [, setTick] = useState(0);
  useEffect(() => session.subscribe(() => setTick((n) => n + 1)), [session]);
  useEffect(() => session.start(document, window), [session]);
  return session;
}

export function LabelingApp({ config, client, guidelinesPanel }: LabelingAppProps) {
  const session = useLabelingSession(config, client);
  const { store } = session;
  const { phase, assignment, activeControl, activeLabel, problems, notice, draftState, pending, submitting, help, skipOpen, guidelinesOpen, progress, readyAt, predictionId } =
    session.state;

  const feedStatus: FeedStatus = useFeed(
    config.feedPath,
    (event) => session.feedEvent(event),
    () => session.feedGap(),
  );
  useEffect(() => {
    if (feedStatus === "offline") session.feedClosed();
  }, [feedStatus]);

  useEffect(() => {
    if (guidelinesPanel) guidelinesPanel.hidden = !guidelinesOpen;
  }, [guidelinesOpen, guidelinesPanel]);
  useEffect(() => {
    const close = guidelinesPanel?.querySelector("[data-guidelines-close]");
    const onClose = () => session.setGuidelinesOpen(false);
    close?.addEventListener("click", onClose);
    return () => close?.removeEventListener("click", onClose);
  }, [guidelinesPanel]);

  const definition = session.definition;
  const result = store.result;
  const visible = useMemo(() => visibleControls(definition, result), [definition, result]);
  const ctx: LabelingContext = {
    definition,
    item: assignment?.item ?? { id: 0, data: {} },
    result,
    setAnswer: (control, answer, options) => session.setAnswer(control, answer, options),
    readOnly: phase.kind !== "working",
    activeControl,
    setActiveControl: (name) => session.setActiveControl(name),
    activeLabel,
    setActiveLabel: (control, label) => session.toggleActiveLabel(control, label),
    predicted: store.predicted,
    others: [],
    visible: (name) => visible.has(name),
  };

  async function submit() {
    const outcome = await session.submit();
    if (outcome.status === "missing") {
      const first = outcome.missing[0]!;
      document.querySelector<HTMLElement>(`[data-control="${first}"] button, [data-control="${first}"] textarea`)?.focus();
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
      { key: "z", ctrl: true, description: "Undo", run: () => session.undo(), group: "General" },
      { key: "z", ctrl: true, shift: true, description: "Redo", run: () => session.redo(), group: "General" },
      { key: "y", ctrl: true, description: "Redo", run: () => session.redo(), group: "General" },
      { key: "?", description: "Show or hide this help", run: () => session.setHelp((h) => !h), group: "General" },
      { key: "Escape", description: "Clear the selection / close", run: () => { session.setHelp(false); session.setSkipOpen(false); clearSpanMessage(); updateTextState({ pending: null, selectedSpan: null }); window.getSelection()?.removeAllRanges(); }, inInputs: true, group: "General" },
      { key: "Delete", description: "Delete the selected region", run: () => void deleteSelectedIn(ctx), group: "General" },
      { key: "Backspace", description: "Delete the selected region", run: () => void deleteSelectedIn(ctx), group: "General" },
      { key: "g", alt: true, description: "Show or hide the guidelines", run: () => session.setGuidelinesOpen((o) => !o), group: "General" },
      { key: "s", alt: true, description: "Skip this item", run: () => session.setSkipOpen(true), group: "General" },
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
              {predictionId !== null && <span class="lb-badge lb-badge--predicted">pre-annotated</span>}
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
            <button type="button" class="lb-button lb-button--ghost lb-button--small" aria-expanded={guidelinesOpen} onClick={() => session.setGuidelinesOpen((o) => !o)}>
              Guidelines
            </button>
          )}
          <button type="button" class="lb-button lb-button--ghost lb-button--small" aria-label="Keyboard shortcuts" onClick={() => session.setHelp(true)}>
            <kbd class="lb-kbd">?</kbd>
          </button>
        </div>
      </header>

      {notice && (
        <div class={`lb-notice lb-notice--${notice.tone}`} role={notice.tone === "error" ? "alert" : "status"}>
          <span>{notice.text}</span>
          <button type="button" class="lb-icon" aria-label="Dismiss" onClick={() => session.dismissNotice()}>
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

      <StateMessage phase={phase} config={config} onRetry={() => void session.loadNext(false)} onAcknowledge={(version) => void session.acknowledge(version)} />

      {(phase.kind === "working" || phase.kind === "lost" || phase.kind === "waiting") && assignment && (
        <Workspace ctx={ctx} problems={problems} />
      )}

      {phase.kind === "working" && (
        <footer class="lb-actions">
          <div class="lb-actions__left">
            <button type="button" class="lb-button lb-button--ghost" onClick={() => session.undo()} disabled={!store.canUndo} title="Ctrl+Z">
              Undo
            </button>
            <button type="button" class="lb-button lb-button--ghost" onClick={() => session.redo()} disabled={!store.canRedo} title="Ctrl+Shift+Z">
              Redo
            </button>
          </div>
          <div class="lb-actions__right">
            <button type="button" class="lb-button lb-button--ghost" onClick={() => session.setSkipOpen(true)}>
              Skip…
            </button>
            <button type="button" class="lb-button lb-button--primary" onClick={() => void submit()} disabled={submitting}>
              {submitting ? "Submitting…" : assignment?.status === "correction" ? "Resubmit" : "Submit"} <kbd class="lb-kbd lb-kbd--on-primary">Ctrl+Enter</kbd>
            </button>
          </div>
        </footer>
      )}

      {skipOpen && <SkipDialog onCancel={() => session.setSkipOpen(false)} onSkip={(reason) => void session.skip(reason)} />}
      {help && <HelpOverlay map={buildMap()} onClose={() => session.setHelp(false)} />}
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
