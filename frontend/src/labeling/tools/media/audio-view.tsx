/**
 * The audio field view: a wavesurfer.js waveform (loaded on demand) with the audio_segments of the
 * hosted controls as regions. Drag on the waveform to create a segment with the armed label; drag
 * or resize a region to change it; click one to select it (a label key relabels it, Delete removes
 * it). Keys while the waveform has focus: Space play/pause, ←/→ seek 1 s (Shift: 5 s), [ marks a
 * start at the playhead and ] ends a segment there, + / - zoom. Times are seconds, 3 decimals.
 *
 * The answers are the truth: after every change the regions are rebuilt from them, so undo, drafts
 * and refused edits (overlap) always show what is stored.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import type { Control, FieldViewProps, LabelingContext } from "../../contract";
import { labelColor, labelsOf, armedLabel, segmentsOf } from "./answers";
import { controlLabel, mediaUrlOf, reservedKeys, useMediaState } from "./common";
import { addSegment, updateSegment } from "./segments";
import { mediaState, registerPlayer, resetMediaState, updateMediaState } from "./state";
import { formatTime } from "./timeline";

type WaveSurferT = import("wavesurfer.js").default;
type RegionsT = ReturnType<typeof import("wavesurfer.js/dist/plugins/regions.esm.js").default.create>;

let wavesurferModule: Promise<[typeof import("wavesurfer.js"), typeof import("wavesurfer.js/dist/plugins/regions.esm.js")]> | null = null;
export const loadWavesurfer = () => (wavesurferModule ??= Promise.all([import("wavesurfer.js"), import("wavesurfer.js/dist/plugins/regions.esm.js")]));

export function AudioFieldView({ field, value, controls, ctx }: FieldViewProps) {
  const host = useRef<HTMLDivElement>(null);
  const ctxRef = useRef<LabelingContext>(ctx);
  ctxRef.current = ctx;
  const segControls = controls.filter((c) => c.type === "audio_segments");
  const controlsRef = useRef<readonly Control[]>(segControls);
  controlsRef.current = segControls;
  const ws = useRef<{ wave: WaveSurferT; regions: RegionsT } | null>(null);
  const syncing = useRef(false);
  const mark = useRef<number | null>(null);
  /** The playhead while paused: set by our own seeks and clicks, never by a late media event (a
   * `timeupdate` of an earlier seek can arrive after the next key press). */
  const head = useRef(0);
  const [status, setStatus] = useState<"loading" | "ready" | "error">("loading");
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [markAt, setMarkAt] = useState<number | null>(null);
  const state = useMediaState();
  const url = mediaUrlOf(ctx.item, value);
  // a new item: no selection, draft or mark carried over from the previous one
  useEffect(() => resetMediaState(), [ctx.item.id]);

  const active = (): Control | null => controlsRef.current.find((c) => c.name === ctxRef.current.activeControl) ?? controlsRef.current[0] ?? null;

  const player = useMemo(
    () => ({
      toggle: () => void ws.current?.wave.playPause(),
      seek: (t: number) => {
        ws.current?.wave.setTime(t);
        head.current = t;
        setTime(t);
      },
      playRange: (start: number, end: number) => void ws.current?.wave.play(start, end),
      time: () => ws.current?.wave.getCurrentTime() ?? 0,
    }),
    [],
  );
  useEffect(() => registerPlayer(field.name, player), [field.name]);

  /** Rebuild the regions from the answers (and the others', read-only). */
  const sync = () => {
    const w = ws.current;
    if (!w?.wave.getDuration()) return;
    const c = ctxRef.current;
    const sel = mediaState().selected;
    syncing.current = true;
    w.regions.clearRegions();
    for (const other of c.others) {
      for (const control of controlsRef.current) {
        for (const s of segmentsOf(other.result[control.name])) {
          w.regions.addRegion({ start: s.start, end: s.end, color: `${other.color}22`, drag: false, resize: false, content: `${other.annotator}: ${s.label}` });
        }
      }
    }
    for (const control of controlsRef.current) {
      segmentsOf(c.result[control.name]).forEach((s, i) => {
        const selected = sel?.control === control.name && sel.index === i;
        const region = w.regions.addRegion({
          id: `${control.name}:${i}`,
          start: s.start,
          end: s.end,
          color: `${labelColor(control, s.label)}${selected ? "66" : "33"}`,
          drag: !c.readOnly,
          resize: !c.readOnly,
          content: s.label,
        });
        region.element?.setAttribute("data-segment", `${control.name}:${i}`);
        if (selected) region.element?.classList.add("md-region--selected");
      });
    }
    syncing.current = false;
  };
  const syncRef = useRef(sync);
  syncRef.current = sync;

  useEffect(() => {
    const el = host.current?.querySelector<HTMLDivElement>(".md-wave__canvas");
    if (!el || !url) {
      setStatus(url ? "loading" : "error");
      return;
    }
    let disposed = false;
    loadWavesurfer()
      .then(([{ default: WaveSurfer }, { default: RegionsPlugin }]) => {
        if (disposed) return;
        const regions = RegionsPlugin.create();
        const wave = WaveSurfer.create({
          container: el,
          url,
          height: 112,
          waveColor: "#a5b4fc",
          progressColor: "#4f46e5",
          cursorColor: "#111827",
          cursorWidth: 2,
          barWidth: 2,
          barGap: 1,
          barRadius: 2,
          normalize: true,
          dragToSeek: false,
          plugins: [regions],
        });
        ws.current = { wave, regions };
        wave.on("ready", (d) => {
          setDuration(d);
          setStatus("ready");
          if (!ctxRef.current.readOnly) regions.enableDragSelection({ color: "rgba(79, 70, 229, 0.25)" }, 4);
          syncRef.current();
        });
        wave.on("error", () => !disposed && setStatus("error"));
        const moved = (t: number) => {
          head.current = t;
          setTime(t);
          updateMediaState({ time: { ...mediaState().time, [field.name]: t } });
        };
        wave.on("timeupdate", (t) => wave.isPlaying() && moved(t));
        wave.on("interaction", (t) => moved(t));
        wave.on("pause", () => moved(wave.getCurrentTime()));
        wave.on("play", () => setPlaying(true));
        wave.on("pause", () => setPlaying(false));
        regions.on("region-created", (region) => {
          if (syncing.current) return;
          // a drag on the waveform: becomes a segment of the active control, or nothing
          const control = active();
          const label = control ? armedLabel(control, ctxRef.current.activeLabel[control.name]) : null;
          syncing.current = true;
          region.remove();
          syncing.current = false;
          if (control && label !== null) addSegment(ctxRef.current, control, region.start, region.end, label, wave.getDuration());
          syncRef.current();
        });
        regions.on("region-updated", (region) => {
          const [name, index] = region.id.split(":");
          const control = controlsRef.current.find((c) => c.name === name);
          if (control && index !== undefined) updateSegment(ctxRef.current, control, Number(index), region.start, region.end, wave.getDuration());
          syncRef.current();
        });
        regions.on("region-clicked", (region, event) => {
          event.stopPropagation();
          const [name, index] = region.id.split(":");
          if (!controlsRef.current.some((c) => c.name === name) || index === undefined) return;
          updateMediaState({ selected: { control: name!, index: Number(index) } });
          ctxRef.current.setActiveControl(name!);
          wave.setTime(region.start);
          head.current = region.start;
          host.current?.focus({ preventScroll: true });
        });
      })
      .catch(() => !disposed && setStatus("error"));
    return () => {
      disposed = true;
      ws.current?.wave.destroy();
      ws.current = null;
    };
  }, [url]);

  // answers, selection or others changed: rebuild the regions (cheap: a few DOM nodes per segment)
  useEffect(() => sync());

  const onKey = (event: KeyboardEvent) => {
    const w = ws.current;
    if (!w || event.ctrlKey || event.metaKey || event.altKey) return;
    if (reservedKeys(ctx).has(event.key.toLowerCase())) return;
    const t = w.wave.isPlaying() ? w.wave.getCurrentTime() : head.current;
    const step = event.shiftKey ? 5 : 1;
    let used = true;
    switch (event.key) {
      case " ":
        void w.wave.playPause();
        break;
      case "ArrowLeft":
      case "ArrowRight": {
        const to = Math.max(0, Math.min(w.wave.getDuration(), t + (event.key === "ArrowLeft" ? -step : step)));
        w.wave.setTime(to);
        head.current = to;
        setTime(to);
        break;
      }
      case "[":
        mark.current = t;
        setMarkAt(t);
        break;
      case "]": {
        const control = active();
        const label = control ? armedLabel(control, ctx.activeLabel[control.name]) : null;
        if (mark.current !== null && control && label !== null && !ctx.readOnly) {
          addSegment(ctx, control, mark.current, t, label, w.wave.getDuration());
          mark.current = null;
          setMarkAt(null);
        }
        break;
      }
      case "+":
      case "=":
        w.wave.zoom(Math.min(2000, (w.wave.options.minPxPerSec || 20) * 1.5));
        break;
      case "-":
        w.wave.zoom(Math.max(1, (w.wave.options.minPxPerSec || 20) / 1.5));
        break;
      case "Escape":
        if (mediaState().selected) updateMediaState({ selected: null });
        else used = false;
        break;
      default:
        used = false;
    }
    if (used) event.preventDefault();
  };

  const control = active();
  const armed = control ? armedLabel(control, ctx.activeLabel[control.name]) : null;
  const message = state.message && segControls.some((c) => c.name === state.message!.control) ? state.message.text : null;
  return (
    <div class="md-audio" ref={host}>
      <div
        class="md-wave"
        data-field={field.name}
        data-status={status}
        tabIndex={0}
        role="application"
        aria-roledescription="waveform"
        aria-label={`${field.title || field.name}: Space plays, arrows seek, drag to mark a segment, [ and ] mark one at the playhead`}
        onKeyDown={onKey}
      >
        <div class="md-wave__canvas" />
        {status === "loading" && <p class="md-stage__note">Loading audio…</p>}
        {status === "error" && <p class="md-stage__note md-stage__note--error">{url ? "The audio could not be loaded." : "This item has no audio."}</p>}
      </div>
      <div class="md-transport">
        <button type="button" class="lb-button lb-button--small md-play" aria-label={playing ? "Pause" : "Play"} onClick={() => void ws.current?.wave.playPause()} disabled={status !== "ready"}>
          {playing ? "❚❚ Pause" : "▶ Play"}
        </button>
        <span class="md-clock" aria-label="Position">
          {formatTime(time)} / {formatTime(duration)}
        </span>
        {markAt !== null && <span class="lb-badge">start marked at {formatTime(markAt)}: press ] to end</span>}
        <span class="md-toolbar__spacer" />
        {segControls.length > 1 &&
          segControls.map((c) => (
            <button type="button" key={c.name} class={`md-tool${control?.name === c.name ? " md-tool--on" : ""}`} aria-pressed={control?.name === c.name} onClick={() => ctx.setActiveControl(c.name)}>
              {controlLabel(c)}
            </button>
          ))}
        {control && labelsOf(control).length > 0 && !ctx.readOnly && (
          <span class="lb-muted">
            New segments: <strong style={{ color: labelColor(control, armed ?? undefined) }}>{armed}</strong>
          </span>
        )}
      </div>
      {message && (
        <p class="lb-hint">
          <span class="lb-error">{message}</span>
        </p>
      )}
    </div>
  );
}
