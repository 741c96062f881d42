/**
 * Panels and hotkeys of the time controls: audio_segments and video_segments (label picker, the
 * segments with their times, play one, relabel, delete) and transcription (a text box that can
 * start and stop the audio without leaving it: Ctrl+Space).
 */
import type { Control, ControlProps, ControlTool, Hotkey, LabelingContext } from "../../contract";
import { labelColor, labelsOf, segmentsOf } from "./answers";
import { LabelPicker, controlLabel, useMediaState } from "./common";
import { LIST_LIMIT } from "./image-tools";
import { mediaState, playerFor, updateMediaState } from "./state";
import { formatTime } from "./timeline";

export function applySegmentLabel(control: Control, ctx: LabelingContext, label: string): void {
  if (ctx.readOnly) return;
  const sel = mediaState().selected;
  if (sel?.control === control.name) {
    const segments = segmentsOf(ctx.result[control.name]);
    if (segments[sel.index] && segments[sel.index]!.label !== label) ctx.setAnswer(control.name, segments.map((s, i) => (i === sel.index ? { ...s, label } : s)));
    return;
  }
  ctx.setActiveControl(control.name);
  ctx.setActiveLabel(control.name, label);
}

export function deleteSelectedSegment(control: Control, ctx: LabelingContext): boolean {
  const sel = mediaState().selected;
  if (ctx.readOnly || sel?.control !== control.name) return false;
  const segments = segmentsOf(ctx.result[control.name]);
  if (!segments[sel.index]) return false;
  ctx.setAnswer(control.name, segments.filter((_, i) => i !== sel.index));
  updateMediaState({ selected: null });
  return true;
}

function SegmentsPanel({ control, ctx }: ControlProps) {
  const state = useMediaState();
  const segments = segmentsOf(ctx.result[control.name]);
  const sel = state.selected?.control === control.name ? state.selected.index : -1;
  const shown = segments.map((s, i) => ({ ...s, i })).filter((s) => s.i < LIST_LIMIT || s.i === sel);
  const player = playerFor(control.field);
  const message = state.message?.control === control.name ? state.message.text : null;
  return (
    <div class="md-panel">
      <LabelPicker control={control} ctx={ctx} onPick={(l) => applySegmentLabel(control, ctx, l)} />
      {message && <p class="lb-hint"><span class="lb-error">{message}</span></p>}
      {segments.length > 0 && (
        <ul class="lb-list md-list" aria-label={`Segments of ${controlLabel(control)}`}>
          {shown.map((s) => (
            <li key={s.i} class={`lb-list__item${s.i === sel ? " lb-list__item--selected" : ""}`}>
              <button
                type="button"
                class="lb-list__main"
                aria-pressed={s.i === sel}
                onClick={() => {
                  updateMediaState({ selected: s.i === sel ? null : { control: control.name, index: s.i } });
                  player?.seek(s.start);
                }}
              >
                <span class="lb-tag md-tag" style={{ background: `${labelColor(control, s.label)}26`, color: labelColor(control, s.label) }}>
                  {s.label}
                </span>
                <span class="md-times">
                  {formatTime(s.start)} – {formatTime(s.end)}
                </span>
              </button>
              <button type="button" class="lb-icon" aria-label={`Play ${s.label} ${formatTime(s.start)}`} title="Play this segment" onClick={() => player?.playRange(s.start, s.end)}>
                ▶
              </button>
              {!ctx.readOnly && (
                <button
                  type="button"
                  class="lb-icon"
                  aria-label={`Delete ${s.label} ${formatTime(s.start)}`}
                  onClick={() => {
                    updateMediaState({ selected: { control: control.name, index: s.i } });
                    deleteSelectedSegment(control, ctx);
                  }}
                >
                  ×
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {segments.length > shown.length && <p class="lb-hint">and {segments.length - shown.length} more</p>}
    </div>
  );
}

const segmentsTool = (type: string): ControlTool => ({
  type,
  Panel: SegmentsPanel,
  hotkeys: (control, ctx): Hotkey[] =>
    labelsOf(control)
      .filter((l) => typeof l.hotkey === "string" && l.hotkey !== "")
      .map((l) => ({ key: l.hotkey!, description: `${controlLabel(control)}: ${l.value}`, run: () => applySegmentLabel(control, ctx, l.value) })),
  deleteSelected: deleteSelectedSegment,
});

export const audioSegmentsTool = segmentsTool("audio_segments");
export const videoSegmentsTool = segmentsTool("video_segments");

/** `{"no_speech": true}`: the clip was listened to and nothing is said (docs/SCHEMA.md). */
export function isNoSpeech(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as { no_speech?: unknown }).no_speech === true;
}

function TranscriptionPanel({ control, ctx }: ControlProps) {
  const value = ctx.result[control.name];
  const noSpeech = isNoSpeech(value);
  const text = typeof value === "string" ? value : "";
  const max = typeof control.max_length === "number" ? control.max_length : 100000;
  const min = typeof control.min_length === "number" ? control.min_length : 0;
  const id = `md-transcript-${control.name}`;
  return (
    <div class="md-panel">
      <label class="sr-only" for={id}>
        {controlLabel(control)}
      </label>
      <textarea
        id={id}
        class="md-transcript"
        rows={5}
        value={text}
        maxLength={max}
        placeholder={typeof control.placeholder === "string" ? control.placeholder : "Type what you hear…"}
        readOnly={ctx.readOnly || noSpeech}
        onInput={(e) => ctx.setAnswer(control.name, (e.target as HTMLTextAreaElement).value, { coalesce: `type:${control.name}` })}
        onKeyDown={(e) => {
          if (e.key === " " && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            playerFor(control.field)?.toggle();
          }
        }}
        onFocus={() => ctx.setActiveControl(control.name)}
      />
      <label class="md-row">
        <input
          type="checkbox"
          checked={noSpeech}
          disabled={ctx.readOnly}
          onChange={(e) => ctx.setAnswer(control.name, (e.target as HTMLInputElement).checked ? { no_speech: true } : "")}
        />{" "}
        No speech in this clip
      </label>
      <p class="lb-hint md-row">
        <span>
          <kbd class="lb-kbd">Ctrl</kbd>+<kbd class="lb-kbd">Space</kbd> plays or pauses the audio while you type.
        </span>
        <span class={text.length < min ? "lb-error" : ""}>
          {text.length}
          {max < 100000 ? ` / ${max}` : ""} characters{min > 0 && text.length < min ? ` (at least ${min})` : ""}
        </span>
      </p>
    </div>
  );
}

export const transcriptionTool: ControlTool = { type: "transcription", Panel: TranscriptionPanel };
