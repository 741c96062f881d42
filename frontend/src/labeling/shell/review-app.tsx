/**
 * The review page: the next item in review with all its annotations, compared control by control
 * (differences highlighted), and a decision per annotation: accept, reject with a reason code and a
 * comment (the annotator gets it back as a correction), or fix (edit, then submit as a fix).
 * Keyboard: 1–9 pick an annotation, A accept, R reject, F fix, Ctrl+Enter confirm, N next item.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import type { LabelingContext, OtherAnnotation } from "../contract";
import { ApiError } from "../../api/http";
import { type AnnotationInfo, type ReviewTask, SessionClient } from "../core/api";
import { differs, summarise } from "../core/compare";
import { type Binding, HotkeyMap } from "../core/hotkeys";
import { resultForSubmit, visibleControls } from "../core/show-if";
import { AnswerStore } from "../core/store";
import { resetTextState } from "../tools/text/selection";
import { ANNOTATOR_COLORS, type PageConfig } from "./config";
import { HelpOverlay, deleteSelectedIn, toolBindings, useHotkeys } from "./keys";
import { Workspace, controlHeading } from "./workspace";

type Mode = "view" | "reject" | "fix";

export interface ReviewAppProps {
  config: PageConfig;
  client?: SessionClient;
  guidelinesPanel?: HTMLElement | null;
}

export function ReviewApp({ config, client: given, guidelinesPanel }: ReviewAppProps) {
  const client = useMemo(() => given ?? new SessionClient(config.projectId), [given, config.projectId]);
  const store = useMemo(() => new AnswerStore(), []);
  const [, setTick] = useState(0);
  const [task, setTask] = useState<ReviewTask | null>(null);
  const [phase, setPhase] = useState<"loading" | "working" | "empty" | "error">("loading");
  const [error, setError] = useState("");
  const [selected, setSelected] = useState(0);
  const [mode, setMode] = useState<Mode>("view");
  const [reason, setReason] = useState(config.rejectReasons[0] ?? "other");
  const [comment, setComment] = useState("");
  const [notice, setNotice] = useState<{ tone: "ok" | "error" | "info"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [help, setHelp] = useState(false);
  const [guidelinesOpen, setGuidelinesOpen] = useState(false);
  const [activeControl, setActiveControl] = useState<string | null>(null);
  const [activeLabel, setActiveLabel] = useState<Record<string, string | undefined>>({});
  const commentRef = useRef<HTMLTextAreaElement>(null);

  useEffect(() => store.subscribe(() => setTick((n) => n + 1)), []);
  useEffect(() => void loadNext(), []);
  useEffect(() => {
    if (guidelinesPanel) guidelinesPanel.hidden = !guidelinesOpen;
    const close = guidelinesPanel?.querySelector("[data-guidelines-close]");
    const onClose = () => setGuidelinesOpen(false);
    close?.addEventListener("click", onClose);
    return () => close?.removeEventListener("click", onClose);
  }, [guidelinesOpen, guidelinesPanel]);
  useEffect(() => {
    if (mode === "reject") commentRef.current?.focus();
  }, [mode]);

  async function loadNext() {
    setPhase("loading");
    setMode("view");
    resetTextState();
    try {
      const next = await client.reviewNext();
      setTask(next);
      setSelected(Math.max(0, next.annotations.findIndex((a) => a.review === "pending")));
      setPhase(next.item === null ? "empty" : "working");
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
      setPhase("error");
    }
  }

  const definition = config.schema?.definition ?? { version: 1, fields: [], controls: [] };
  const annotations = task?.annotations ?? [];
  const current: AnnotationInfo | undefined = annotations[selected];
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
    setAnswer: (control, answer, options) => mode === "fix" && store.set(control, answer, options),
    readOnly: mode !== "fix",
    activeControl,
    setActiveControl,
    activeLabel,
    setActiveLabel: (control, label) => setActiveLabel((c) => ({ ...c, [control]: c[control] === label ? undefined : label })),
    predicted: new Set(),
    others,
    visible: (name) => visible.has(name),
  };

  async function decide(decision: "accept" | "reject" | "fix") {
    if (!current || busy || current.review !== "pending") return;
    if (decision === "reject" && !comment.trim()) {
      setNotice({ tone: "error", text: "Write a comment: the annotator sees it with the item." });
      commentRef.current?.focus();
      return;
    }
    setBusy(true);
    try {
      await client.review(current.id, {
        decision,
        revision: current.revision,
        ...(decision === "reject" ? { reason, comment: comment.trim() } : {}),
        ...(decision === "fix" ? { result: resultForSubmit(definition, store.result) } : {}),
      });
      const status = decision === "accept" ? "accepted" : decision === "reject" ? "rejected" : "fixed";
      const updated = annotations.map((a) => (a.id === current.id ? { ...a, review: status } : a));
      setTask((t) => (t ? { ...t, annotations: updated } : t));
      setMode("view");
      setComment("");
      setNotice({ tone: "ok", text: `${current.annotator}'s annotation ${status}.` });
      const nextPending = updated.findIndex((a) => a.review === "pending");
      if (nextPending >= 0) setSelected(nextPending);
      else void loadNext();
    } catch (e) {
      setNotice({ tone: "error", text: e instanceof ApiError ? e.detail : String(e) });
    } finally {
      setBusy(false);
    }
  }

  function startFix() {
    if (current?.review !== "pending") return;
    store.reset(current.result);
    setMode("fix");
  }

  const buildMap = () => {
    const keys: Binding[] = [
      { key: "?", description: "Show or hide this help", run: () => setHelp((h) => !h), group: "Review" },
      { key: "n", description: "Next item", run: () => void loadNext(), group: "Review", when: () => mode === "view" },
      { key: "g", alt: true, description: "Show or hide the guidelines", run: () => setGuidelinesOpen((o) => !o), group: "Review" },
      { key: "Escape", description: "Cancel reject / fix", run: () => setMode("view"), inInputs: true, group: "Review" },
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
        { key: "r", description: "Reject with a reason…", run: () => current?.review === "pending" && setMode("reject"), group: "Review" },
        { key: "f", description: "Fix: edit and submit as a fix", run: startFix, group: "Review" },
        ...annotations.slice(0, 9).map((a, i) => ({ key: String(i + 1), description: `Show ${a.annotator}'s annotation`, run: () => setSelected(i), group: "Review" })),
      );
    }
    if (mode === "fix") {
      keys.push(
        { key: "z", ctrl: true, description: "Undo", run: () => store.undo(), group: "Fix" },
        { key: "z", ctrl: true, shift: true, description: "Redo", run: () => store.redo(), group: "Fix" },
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
                        <button type="button" class="rv-tab" aria-pressed={i === selected} onClick={() => setSelected(i)} disabled={mode !== "view"}>
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
                <button type="button" class="lb-button lb-button--danger" disabled={current?.review !== "pending"} onClick={() => setMode("reject")}>
                  Reject… <kbd class="lb-kbd">R</kbd>
                </button>
                <button type="button" class="lb-button lb-button--primary" disabled={current?.review !== "pending" || busy} onClick={() => void decide("accept")}>
                  Accept <kbd class="lb-kbd lb-kbd--on-primary">A</kbd>
                </button>
              </div>
            )}
            {mode === "fix" && (
              <div class="lb-actions__right">
                <button type="button" class="lb-button lb-button--ghost" onClick={() => setMode("view")}>
                  Cancel
                </button>
                <button type="button" class="lb-button lb-button--primary" disabled={busy} onClick={() => void decide("fix")}>
                  Submit fix <kbd class="lb-kbd lb-kbd--on-primary">Ctrl+Enter</kbd>
                </button>
              </div>
            )}
          </footer>
          {mode === "reject" && (
            <div class="lb-overlay" role="presentation" onClick={() => setMode("view")}>
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
                    <select class="lb-input" value={reason} onChange={(e) => setReason(e.currentTarget.value)}>
                      {config.rejectReasons.map((r) => (
                        <option key={r} value={r}>
                          {r.replace(/_/g, " ")}
                        </option>
                      ))}
                    </select>
                  </label>
                  <label class="lb-field">
                    <span>Comment for the annotator</span>
                    <textarea ref={commentRef} class="lb-textarea" rows={4} maxLength={5000} value={comment} onInput={(e) => setComment(e.currentTarget.value)} required />
                  </label>
                  <footer class="lb-dialog__foot">
                    <button type="button" class="lb-button lb-button--ghost" onClick={() => setMode("view")}>
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
      {help && <HelpOverlay map={buildMap()} onClose={() => setHelp(false)} />}
    </div>
  );
}

function ReviewBadge({ state }: { state: string }) {
  const tone = state === "accepted" || state === "fixed" ? "ok" : state === "rejected" ? "danger" : "warn";
  return <span class={`lb-badge lb-badge--${tone}`}>{state}</span>;
}
