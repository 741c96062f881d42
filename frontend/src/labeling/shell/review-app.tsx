/**
 * The review page: the next item in review with all its annotations, compared control by control
 * (differences highlighted), and a decision per annotation: accept, reject with a reason code and a
 * comment (the annotator gets it back as a correction), or fix (edit, then submit as a fix).
 * Keyboard: 1–9 pick an annotation, A accept, R reject, F fix, Ctrl+Enter confirm, N next item.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import type { LabelingContext, OtherAnnotation } from "../contract";
import type { SessionClient } from "../core/api";
import { differs, summarise } from "../core/compare";
import { type Binding, HotkeyMap } from "../core/hotkeys";
import { type Decision, ReviewSession } from "../core/review-session";
import { visibleControls } from "../core/show-if";
import { ANNOTATOR_COLORS, type PageConfig } from "./config";
import { HelpOverlay, deleteSelectedIn, toolBindings, useHotkeys } from "./keys";
import { Workspace, controlHeading } from "./workspace";

export interface ReviewAppProps {
  config: PageConfig;
  client?: SessionClient;
  guidelinesPanel?: HTMLElement | null;
}

/** The review session of this page, re-rendering on each of its changes. */
function useReviewSession(config: PageConfig, client: SessionClient | undefined): ReviewSession {
  const session = useMemo(() => new ReviewSession({ config, client }), [client, config.projectId]);
  const [, setTick] = useState(0);
  useEffect(() => session.subscribe(() => setTick((n) => n + 1)), [session]);
  useEffect(() => void session.loadNext(), [session]);
  return session;
}

export function ReviewApp({ config, client, guidelinesPanel }: ReviewAppProps) {
  const session = useReviewSession(config, client);
  const { store } = session;
  const { task, phase, error, selected, mode, reason, comment, notice, busy, help, guidelinesOpen, activeControl, activeLabel } = session.state;
  const commentRef = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (guidelinesPanel) guidelinesPanel.hidden = !guidelinesOpen;
    const close = guidelinesPanel?.querySelector("[data-guidelines-close]");
    const onClose = () => session.setGuidelinesOpen(false);
    close?.addEventListener("click", onClose);
    return () => close?.removeEventListener("click", onClose);
  }, [guidelinesOpen, guidelinesPanel]);
  useEffect(() => {
    if (mode === "reject") commentRef.current?.focus();
  }, [mode]);

  const definition = session.definition;
  const annotations = session.annotations;
  const current = session.annotation;
  const colors = annotations.map((_, i) => ANNOTATOR_COLORS[i % ANNOTATOR_COLORS.length]!);
  const result = mode === "fix" ? store.result : (current?.result ?? {});
  const visible = useMemo(() => visibleControls(definition, result), [definition, result]);
  const others: OtherAnnotation[] = annotations
    .map((a, i) => ({ annotator: a.annotator, color: colors[i]!, result: a.result }))
    .filter((_, i) => i !== selected);
  const differing = useMemo(
    () => new Set(definition.controls.filter((c) => differs(c, annotations.map((a) => a.result))).map((c) => c.name)),
    [task],
  );

  const ctx: LabelingContext = {
    definition,
    item: task?.item ?? { id: 0, data: {} },
    result,
    setAnswer: (control, answer, options) => session.setAnswer(control, answer, options),
    readOnly: mode !== "fix",
    activeControl,
    setActiveControl: (name) => session.setActiveControl(name),
    activeLabel,
    setActiveLabel: (control, label) => session.toggleActiveLabel(control, label),
    predicted: new Set(),
    others,
    visible: (name) => visible.has(name),
  };

  async function decide(decision: Decision) {
    if ((await session.decide(decision)) === "need_comment") commentRef.current?.focus();
  }
  const loadNext = () => session.loadNext();
  const startFix = () => session.startFix();

  const buildMap = () => {
    const keys: Binding[] = [
      { key: "?", description: "Show or hide this help", run: () => session.setHelp((h) => !h), group: "Review" },
      { key: "n", description: "Next item", run: () => void loadNext(), group: "Review", when: () => mode === "view" },
      { key: "g", alt: true, description: "Show or hide the guidelines", run: () => session.setGuidelinesOpen((o) => !o), group: "Review" },
      { key: "Escape", description: "Cancel reject / fix", run: () => session.setMode("view"), inInputs: true, group: "Review" },
      {
        key: "Enter",
        ctrl: true,
        description: "Confirm the reject or the fix",
        run: () => void (mode === "reject" ? decide("reject") : mode === "fix" ? decide("fix") : undefined),
        inInputs: true,
        group: "Review",
      },
    ];
    if (mode === "view") {
      keys.push(
        { key: "a", description: "Accept", run: () => void decide("accept"), group: "Review" },
        { key: "r", description: "Reject with a reason…", run: () => session.startReject(), group: "Review" },
        { key: "f", description: "Fix: edit and submit as a fix", run: startFix, group: "Review" },
        ...annotations.slice(0, 9).map((a, i) => ({ key: String(i + 1), description: `Show ${a.annotator}'s annotation`, run: () => session.select(i), group: "Review" })),
      );
    }
    if (mode === "fix") {
      keys.push(
        { key: "z", ctrl: true, description: "Undo", run: () => session.undo(), group: "Fix" },
        { key: "z", ctrl: true, shift: true, description: "Redo", run: () => session.redo(), group: "Fix" },
        { key: "Delete", description: "Delete the selected region", run: () => void deleteSelectedIn(ctx), group: "Fix" },
        ...toolBindings(ctx),
      );
    }
    return new HotkeyMap(keys);
  };
  useHotkeys(buildMap);

  return (
    <div class="lb-app rv-app" data-phase={phase}>
      <header class="lb-bar">
        <div class="lb-bar__item">
          <span class="lb-bar__title">{task?.item ? `Review · item ${task.item.external_id ? String(task.item.external_id) : `#${task.item.id}`}` : `Review · ${config.projectName}`}</span>
          {task?.item_state && <span class="lb-badge">{task.item_state.replace(/_/g, " ")}</span>}
          {mode === "fix" && <span class="lb-badge lb-badge--warn">fixing</span>}
        </div>
        <div class="lb-bar__tools">
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
      {phase === "loading" && <p class="lb-state lb-state--loading">Loading the next item to review…</p>}
      {phase === "empty" && (
        <section class="lb-state">
          <h2>Nothing to review</h2>
          <p>No item is waiting for review, or the others are held by other reviewers. Items you annotated yourself are never shown here.</p>
          <button type="button" class="lb-button" onClick={() => void loadNext()}>
            Check again
          </button>
        </section>
      )}
      {phase === "error" && (
        <section class="lb-state lb-state--error" role="alert">
          <h2>Something went wrong</h2>
          <p>{error}</p>
          <button type="button" class="lb-button" onClick={() => void loadNext()}>
            Try again
          </button>
        </section>
      )}
      {phase === "working" && task?.item && (
        <>
          <section class="rv-panel" aria-labelledby="compare-title">
            <h2 id="compare-title">
              {annotations.length} annotation{annotations.length === 1 ? "" : "s"} side by side
              {differing.size > 0 && <span class="lb-badge lb-badge--warn"> {differing.size} control{differing.size === 1 ? "" : "s"} differ</span>}
            </h2>
            <div style={{ overflowX: "auto" }}>
              <table class="rv-compare">
                <thead>
                  <tr>
                    <th scope="col">Control</th>
                    {annotations.map((a, i) => (
                      <th scope="col" key={a.id} class={i === selected ? "rv-selected" : undefined}>
                        <button type="button" class="rv-tab" aria-pressed={i === selected} onClick={() => session.select(i)} disabled={mode !== "view"}>
                          <kbd class="lb-kbd">{i + 1}</kbd>
                          <span class="rv-who" style={{ "--who": colors[i] }}>
                            {a.annotator}
                          </span>
                          <ReviewBadge state={a.review} />
                        </button>
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {definition.controls.map((control) => (
                    <tr key={control.name} class={differing.has(control.name) ? "rv-differs" : undefined}>
                      <th scope="row">
                        {controlHeading(control)}
                        {differing.has(control.name) && <span class="sr-only"> (annotators differ)</span>}
                      </th>
                      {annotations.map((a, i) => (
                        <td key={a.id} class={`rv-cell${i === selected ? " rv-selected" : ""}`}>
                          {summarise(control, a.result[control.name])}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          <Workspace ctx={ctx} marked={differing} />
          <footer class="lb-actions">
            <div class="lb-actions__left">
              {current && (
                <span>
                  Deciding on <strong>{current.annotator}</strong>'s annotation (revision {current.revision}) <ReviewBadge state={current.review} />
                </span>
              )}
            </div>
            {mode === "view" && (
              <div class="lb-actions__right">
                <button type="button" class="lb-button lb-button--ghost" onClick={() => void loadNext()}>
                  Next item <kbd class="lb-kbd">N</kbd>
                </button>
                <button type="button" class="lb-button lb-button--ghost" disabled={current?.review !== "pending"} onClick={startFix}>
                  Fix <kbd class="lb-kbd">F</kbd>
                </button>
                <button type="button" class="lb-button lb-button--danger" disabled={current?.review !== "pending"} onClick={() => session.setMode("reject")}>
                  Reject… <kbd class="lb-kbd">R</kbd>
                </button>
                <button type="button" class="lb-button lb-button--primary" disabled={current?.review !== "pending" || busy} onClick={() => void decide("accept")}>
                  Accept <kbd class="lb-kbd lb-kbd--on-primary">A</kbd>
                </button>
              </div>
            )}
            {mode === "fix" && (
              <div class="lb-actions__right">
                <button type="button" class="lb-button lb-button--ghost" onClick={() => session.setMode("view")}>
                  Cancel
                </button>
                <button type="button" class="lb-button lb-button--primary" disabled={busy} onClick={() => void decide("fix")}>
                  Submit fix <kbd class="lb-kbd lb-kbd--on-primary">Ctrl+Enter</kbd>
                </button>
              </div>
            )}
          </footer>
          {mode === "reject" && (
            <div class="lb-overlay" role="presentation" onClick={() => session.setMode("view")}>
              <div class="lb-dialog" role="dialog" aria-modal="true" aria-labelledby="reject-title" onClick={(e) => e.stopPropagation()}>
                <form
                  class="rv-decide"
                  onSubmit={(e) => {
                    e.preventDefault();
                    void decide("reject");
                  }}
                >
                  <header class="lb-dialog__head">
                    <h2 id="reject-title">Reject {current?.annotator}'s annotation</h2>
                  </header>
                  <label class="lb-field">
                    <span>Reason</span>
                    <select class="lb-input" value={reason} onChange={(e) => session.setReason(e.currentTarget.value)}>
                      {config.rejectReasons.map((r) => (
                        <option key={r} value={r}>
                          {r.replace(/_/g, " ")}
                        </option>
                      ))}
                    </select>
                  </label>
                  <label class="lb-field">
                    <span>Comment for the annotator</span>
                    <textarea ref={commentRef} class="lb-textarea" rows={4} maxLength={5000} value={comment} onInput={(e) => session.setComment(e.currentTarget.value)} required />
                  </label>
                  <footer class="lb-dialog__foot">
                    <button type="button" class="lb-button lb-button--ghost" onClick={() => session.setMode("view")}>
                      Cancel
                    </button>
                    <button type="submit" class="lb-button lb-button--danger" disabled={busy || !comment.trim()}>
                      Reject and send back
                    </button>
                  </footer>
                </form>
              </div>
            </div>
          )}
        </>
      )}
      {help && <HelpOverlay map={buildMap()} onClose={() => session.setHelp(false)} />}
    </div>
  );
}

function ReviewBadge({ state }: { state: string }) {
  const tone = state === "accepted" || state === "fixed" ? "ok" : state === "rejected" ? "danger" : "warn";
  return <span class={`lb-badge lb-badge--${tone}`}>{state}</span>;
}
