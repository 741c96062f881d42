/** Page-wide hotkeys (one keydown listener) and the `?` help overlay listing every shortcut. */
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";

import type { Control, Hotkey, LabelingContext } from "../contract";
import { type Binding, type HotkeyMap, describeCombo } from "../core/hotkeys";
import { controlToolFor } from "../registry";
import { controlHeading } from "./workspace";

/** Tool hotkeys of the visible controls; keys that are schema label hotkeys are registered first. */
export function toolBindings(ctx: LabelingContext): Binding[] {
  const schemaKeys = new Set<string>();
  for (const control of ctx.definition.controls) {
    for (const list of [control.labels, control.keypoints]) {
      if (Array.isArray(list)) for (const l of list) if (typeof l?.hotkey === "string") schemaKeys.add(l.hotkey.toLowerCase());
    }
  }
  const first: Binding[] = [];
  const later: Binding[] = [];
  for (const control of ctx.definition.controls) {
    if (!ctx.visible(control.name)) continue;
    const tool = controlToolFor(control.type);
    const keys: Hotkey[] = ctx.readOnly ? [] : (tool?.hotkeys?.(control, ctx) ?? []);
    for (const key of keys) {
      const binding: Binding = { ...key, group: controlHeading(control) };
      (schemaKeys.has(key.key.toLowerCase()) ? first : later).push(binding);
    }
  }
  return [...first, ...later];
}

export function deleteSelectedIn(ctx: LabelingContext): boolean {
  const order: Control[] = [...ctx.definition.controls].sort((a, b) => (a.name === ctx.activeControl ? -1 : b.name === ctx.activeControl ? 1 : 0));
  for (const control of order) {
    if (!ctx.visible(control.name)) continue;
    if (controlToolFor(control.type)?.deleteSelected?.(control, ctx)) return true;
  }
  return false;
}

/**
 * Installs the map on the document; the latest bindings are used on every key. Installed when the
 * page is committed (a layout effect), not after the first paint: a page that is ready on its first
 * paint (the gold-authoring page) must not drop the keys of someone who starts typing at once.
 */
export function useHotkeys(build: () => HotkeyMap): void {
  const latest = useRef(build);
  latest.current = build;
  useLayoutEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented) return;
      if (latest.current().dispatch(event)) event.preventDefault();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
}

export function HelpOverlay({ map, onClose }: { map: HotkeyMap; onClose(): void }) {
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    dialog.current?.focus();
    return () => previous?.focus?.();
  }, []);
  const groups = new Map<string, Binding[]>();
  for (const b of map.bindings) {
    const group = b.group ?? "General";
    groups.set(group, [...(groups.get(group) ?? []), b]);
  }
  return (
    <div class="lb-overlay" role="presentation" onClick={onClose}>
      <div
        class="lb-dialog lb-help"
        role="dialog"
        aria-modal="true"
        aria-labelledby="help-title"
        tabIndex={-1}
        ref={dialog}
        onClick={(e) => e.stopPropagation()}
        onKeyDown={(e) => e.key === "Escape" && onClose()}
      >
        <header class="lb-dialog__head">
          <h2 id="help-title">Keyboard shortcuts</h2>
          <button type="button" class="lb-icon" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </header>
        <div class="lb-help__groups">
          {[...groups].map(([group, bindings]) => (
            <section key={group}>
              <h3>{group}</h3>
              <table class="lb-help__table">
                <tbody>
                  {bindings.map((b, i) => (
                    <tr key={i}>
                      <td>
                        <kbd class="lb-kbd">{describeCombo(b)}</kbd>
                      </td>
                      <td>{b.description}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          ))}
          <section>
            <h3>Everywhere</h3>
            <table class="lb-help__table">
              <tbody>
                <tr>
                  <td>
                    <kbd class="lb-kbd">Tab</kbd> / <kbd class="lb-kbd">Shift+Tab</kbd>
                  </td>
                  <td>Next / previous button or box in form order (the item, then the controls top to bottom); a rating scale is one stop; the focused control is the active one</td>
                </tr>
                <tr>
                  <td>
                    <kbd class="lb-kbd">←</kbd> / <kbd class="lb-kbd">→</kbd>
                  </td>
                  <td>Previous / next value of a focused rating scale</td>
                </tr>
                <tr>
                  <td>
                    <kbd class="lb-kbd">1</kbd>–<kbd class="lb-kbd">9</kbd>
                  </td>
                  <td>On a focused rating scale: rate that value (0 too when the scale starts at 0)</td>
                </tr>
              </tbody>
            </table>
          </section>
          {map.conflicts.length > 0 && (
            <section>
              <h3>Unavailable (key already used)</h3>
              <ul>
                {map.conflicts.map((c, i) => (
                  <li key={i}>
                    <kbd class="lb-kbd">{describeCombo(c.binding)}</kbd> {c.binding.description} — used by “{c.existing.description}”
                  </li>
                ))}
              </ul>
            </section>
          )}
        </div>
      </div>
    </div>
  );
}
