/**
 * Gold-authoring mode of the labeling widget (/projects/<id>/items/<item>/gold/): the same Workspace
 * and tools as the labeling page, on one chosen item; saving stores the answer as the item's gold
 * reference (PUT /api/projects/<id>/gold/<item>/) instead of an annotation. Ctrl+Enter saves.
 */
import { useLayoutEffect, useMemo, useState } from "preact/hooks";

import { ApiError, put } from "../api/http";
import type { Definition, LabelingContext, Result, TaskItem } from "../labeling/contract";
import { type Binding, HotkeyMap } from "../labeling/core/hotkeys";
import { resultForSubmit, visibleControls } from "../labeling/core/show-if";
import { AnswerStore } from "../labeling/core/store";
import type { PageConfig } from "../labeling/shell/config";
import { toolBindings, useHotkeys } from "../labeling/shell/keys";
import { Workspace } from "../labeling/shell/workspace";

export interface GoldConfig {
  item: TaskItem;
  key: string;
  result: Result;
  itemUrl: string;
}

export type GoldPageConfig = PageConfig & { gold: GoldConfig };

/** The gold reference to send: the visible controls' answers (show_if applied), like a submission. */
export function goldBody(definition: Definition, result: Result): { result: Result } {
  return { result: resultForSubmit(definition, result) };
}

export function GoldApp({ config, save = put }: { config: GoldPageConfig; save?: typeof put }) {
  const definition = config.schema?.definition ?? { version: 1, fields: [], controls: [] };
  const store = useMemo(() => new AnswerStore(config.gold.result), []);
  const [, setTick] = useState(0);
  const [activeControl, setActiveControl] = useState<string | null>(definition.controls[0]?.name ?? null);
  const [activeLabel, setActiveLabel] = useState<Record<string, string | undefined>>({});
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ tone: "ok" | "error"; text: string } | null>(null);
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  // Subscribed on commit, with the hotkeys: an answer given by key before the first paint re-renders.
  useLayoutEffect(() => store.subscribe(() => setTick((n) => n + 1)), []);

  const visible = visibleControls(definition, store.result);
  const ctx: LabelingContext = {
    definition,
    item: config.gold.item,
    result: store.result,
    setAnswer: (control, answer, options) => store.set(control, answer, options),
    readOnly: false,
    activeControl,
    setActiveControl,
    activeLabel,
    setActiveLabel: (control, label) => setActiveLabel((c) => ({ ...c, [control]: c[control] === label ? undefined : label })),
    predicted: new Set(),
    others: [],
    visible: (name) => visible.has(name),
  };

  async function submit() {
    if (busy) return;
    setBusy(true);
    setProblems({});
    try {
      await save(`/api/projects/${config.projectId}/gold/${config.gold.item.id}/`, goldBody(definition, store.result));
      setNotice({ tone: "ok", text: "Saved as the gold answer of this item." });
      window.location.assign(config.gold.itemUrl);
    } catch (e) {
      if (e instanceof ApiError) {
        const byControl: Record<string, string[]> = {};
        for (const [name, messages] of Object.entries(e.errors)) byControl[name.replace(/^result\.?/, "") || name] = [...messages];
        setProblems(byControl);
        setNotice({ tone: "error", text: e.detail });
      } else {
        setNotice({ tone: "error", text: String(e) });
      }
    } finally {
      setBusy(false);
    }
  }

  useHotkeys(() => {
    const shell: Binding[] = [
      { key: "Enter", ctrl: true, description: "Save as gold", run: () => void submit(), inInputs: true, group: "General" },
      { key: "z", ctrl: true, description: "Undo", run: () => store.undo(), group: "General" },
    ];
    return new HotkeyMap([...shell, ...toolBindings(ctx)]);
  });

  return (
    <div class="lb-app" data-phase="working">
      <header class="lb-bar">
        <div class="lb-bar__item">
          <span class="lb-bar__title">Gold answer · {config.gold.key}</span>
          <span class="lb-badge">gold</span>
        </div>
      </header>
      {notice && (
        <div class={`lb-notice lb-notice--${notice.tone === "ok" ? "ok" : "error"}`} role={notice.tone === "error" ? "alert" : "status"}>
          <span>{notice.text}</span>
        </div>
      )}
      <Workspace ctx={ctx} problems={problems} />
      <footer class="lb-actions">
        <div class="lb-actions__left">
          <button type="button" class="lb-button lb-button--ghost" onClick={() => store.undo()} disabled={!store.canUndo}>
            Undo
          </button>
          <a class="lb-button lb-button--ghost" href={config.gold.itemUrl}>
            Cancel
          </a>
        </div>
        <div class="lb-actions__right">
          <button type="button" class="lb-button lb-button--primary" onClick={() => void submit()} disabled={busy}>
            {busy ? "Saving…" : "Save as gold"} <kbd class="lb-kbd lb-kbd--on-primary">Ctrl+Enter</kbd>
          </button>
        </div>
      </footer>
    </div>
  );
}
