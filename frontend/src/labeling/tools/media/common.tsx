/** Small pieces the media views and panels share: the media URL, reserved keys, the state hook, the label picker. */
import { useEffect, useState } from "preact/hooks";

import type { Control, LabelingContext, TaskItem } from "../../contract";
import { labelColor, labelsOf } from "./answers";
import { type MediaState, mediaState, subscribeMediaState } from "./state";

/**
 * The URL the view loads: the permission-checked `media_url` of the item, else a same-origin path
 * given in the data (never another origin: media is fetched through the server's checks).
 */
export function mediaUrlOf(item: TaskItem, value: unknown): string | null {
  if (typeof item.media_url === "string" && item.media_url) return item.media_url;
  if (typeof value === "string" && /^\/(?!\/)/.test(value)) return value;
  return null;
}

/** Every schema hotkey (labels and keypoints), lower-cased: the views never take these keys. */
export function reservedKeys(ctx: LabelingContext): Set<string> {
  const keys = new Set<string>();
  for (const control of ctx.definition.controls) {
    for (const list of [control.labels, control.keypoints]) {
      if (Array.isArray(list)) for (const l of list) if (typeof l?.hotkey === "string") keys.add(l.hotkey.toLowerCase());
    }
  }
  return keys;
}

export function useMediaState(): MediaState {
  const [, force] = useState(0);
  useEffect(() => subscribeMediaState(() => force((n) => n + 1)), []);
  return mediaState();
}

export const controlLabel = (control: Control): string => (typeof control.title === "string" && control.title) || control.name;

export function Kbd({ children }: { children: string }) {
  return <kbd class="lb-kbd">{children}</kbd>;
}

/** The label chips of a drawing control: the armed label is pressed; a click arms (or relabels). */
export function LabelPicker({ control, ctx, onPick }: { control: Control; ctx: LabelingContext; onPick(label: string): void }) {
  const armed = ctx.activeLabel[control.name] ?? labelsOf(control)[0]?.value;
  return (
    <div class="lb-chips md-chips" role="group" aria-label={`Labels for ${controlLabel(control)}`}>
      {labelsOf(control).map((label) => (
        <button
          type="button"
          key={label.value}
          class={`lb-chip md-chip${armed === label.value ? " lb-chip--on md-chip--on" : ""}`}
          style={{ "--chip": labelColor(control, label.value) }}
          aria-pressed={armed === label.value}
          disabled={ctx.readOnly}
          title={label.description}
          onClick={() => onPick(label.value)}
        >
          <span class="lb-chip__dot md-chip__dot" aria-hidden="true" />
          {label.value}
          {label.hotkey && <Kbd>{label.hotkey}</Kbd>}
        </button>
      ))}
    </div>
  );
}
