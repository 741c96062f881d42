/**
 * The video field view: an HTML5 <video> with its own transport (play, frame step, time and frame
 * number), a canvas over the picture for the video_bbox tracks of the frame shown, and a timeline
 * with one lane per hosted control (video_segments: drag to create, drag an edge to resize; video_bbox:
 * each track from its first to its last frame, keyframes marked).
 *
 * Frame accuracy: frame i covers [i/fps, (i+1)/fps); the fps comes from the media facts
 * (frame_count / duration) or, without them, 25. Stepping seeks to the middle of a frame, and
 * requestVideoFrameCallback (where the browser has it) reports the frame actually presented.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import type { Control, ControlProps, ControlTool, FieldViewProps, LabelingContext } from "../../contract";
import { armedLabel, labelColor, labelsOf, segmentsOf, tracksOf } from "./answers";
import { LabelPicker, controlLabel, mediaUrlOf, reservedKeys, useMediaState } from "./common";
import type { DrawItem } from "./image-editor";
import { HANDLES, type Point, handlePoint } from "./geometry";
import { drawHandles, drawItems } from "./render";
import { addSegment, updateSegment } from "./segments";
import { mediaState, registerPlayer, resetMediaState, updateMediaState } from "./state";
import { boxAt, fpsOf, formatTime, frameAt, frameCountOf, keyframesOf, timeOfFrame } from "./timeline";
import { VideoBoxEditor } from "./video-editor";

const editors = new Map<string, VideoBoxEditor>();

export function VideoFieldView({ field, value, controls, ctx }: FieldViewProps) {
  const video = useRef<HTMLVideoElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const ctxRef = useRef<LabelingContext>(ctx);
  ctxRef.current = ctx;
  const boxControls = controls.filter((c) => c.type === "video_bbox");
  const segControls = controls.filter((c) => c.type === "video_segments");
  const lanes = [...segControls, ...boxControls];
  const lanesRef = useRef<readonly Control[]>(lanes);
  lanesRef.current = lanes;
  const [status, setStatus] = useState<"loading" | "ready" | "error">("loading");
  const [duration, setDuration] = useState(0);
  const [time, setTime] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [size, setSize] = useState({ width: 0, height: 0 });
  const [mark, setMark] = useState<number | null>(null);
  const [segDrag, setSegDrag] = useState<{ control: string; from: number; to: number; index: number; edge: "start" | "end" | "new" } | null>(null);
  useMediaState();
  const url = mediaUrlOf(ctx.item, value);
  // a new item: no selection, draft or mark carried over from the previous one
  useEffect(() => resetMediaState(), [ctx.item.id]);
  const fps = fpsOf(ctx.item.media);
  const frames = frameCountOf(duration, fps, ctx.item.media?.frame_count);
  // A frame stepped to stays the frame shown (frame i is [i/fps, (i+1)/fps) by definition, whatever
  // timestamps the file's own frames carry); playing derives it from the time again.
  const [pinned, setPinned] = useState<number | null>(null);
  const frame = Math.min(pinned ?? frameAt(time, fps), frames - 1);

  const activeBox = (): Control | null => {
    const list = lanesRef.current.filter((c) => c.type === "video_bbox");
    return list.find((c) => c.name === ctxRef.current.activeControl) ?? list[0] ?? null;
  };
  const activeLane = (): Control | null => lanesRef.current.find((c) => c.name === ctxRef.current.activeControl) ?? lanesRef.current[0] ?? null;

  const editor = useMemo(() => new VideoBoxEditor(() => ctxRef.current, activeBox), []);
  editor.frame = frame;
  editor.size = size;
  useEffect(() => {
    editors.set(field.name, editor);
    return () => void editors.delete(field.name);
  }, [field.name]);

  const seekFrame = (f: number) => {
    const v = video.current;
    if (!v) return;
    v.pause();
    const target = Math.max(0, Math.min(frames - 1, f));
    v.currentTime = timeOfFrame(target, fps);
    setPinned(target);
    setTime(v.currentTime);
  };
  const player = useMemo(
    () => ({
      toggle: () => {
        const v = video.current;
        if (v) v.paused ? void v.play() : v.pause();
      },
      seek: (t: number) => {
        if (video.current) video.current.currentTime = t;
      },
      playRange: (start: number, end: number) => {
        const v = video.current;
        if (!v) return;
        v.currentTime = start;
        const stop = () => {
          if (v.currentTime >= end) {
            v.pause();
            v.removeEventListener("timeupdate", stop);
          }
        };
        v.addEventListener("timeupdate", stop);
        void v.play();
      },
      time: () => video.current?.currentTime ?? 0,
    }),
    [],
  );
  useEffect(() => registerPlayer(field.name, player), [field.name]);

  // media events; a MediaRecorder WebM has no duration until the end was seen: seek far, then back
  useEffect(() => {
    const v = video.current;
    if (!v || !url) {
      setStatus(url ? "loading" : "error");
      return;
    }
    let fixing = false;
    const onMeta = () => {
      setSize({ width: v.videoWidth, height: v.videoHeight });
      if (!Number.isFinite(v.duration)) {
        fixing = true;
        v.currentTime = 1e7;
        return;
      }
      setDuration(v.duration);
      setStatus("ready");
    };
    const onDuration = () => {
      if (fixing && Number.isFinite(v.duration)) {
        fixing = false;
        setDuration(v.duration);
        v.currentTime = timeOfFrame(0, fps);
        setStatus("ready");
      }
    };
    const onTime = () => !fixing && setTime(v.currentTime);
    const onPlay = () => {
      setPinned(null);
      setPlaying(true);
    };
    const onPause = () => setPlaying(false);
    const onError = () => setStatus("error");
    v.addEventListener("loadedmetadata", onMeta);
    v.addEventListener("durationchange", onDuration);
    v.addEventListener("timeupdate", onTime);
    v.addEventListener("seeked", onTime);
    v.addEventListener("play", onPlay);
    v.addEventListener("pause", onPause);
    v.addEventListener("error", onError);
    let handle = 0;
    const rvfc = (v as HTMLVideoElement & { requestVideoFrameCallback?: (cb: (now: number, meta: { mediaTime: number }) => void) => number }).requestVideoFrameCallback;
    const onFrame = (_now: number, meta: { mediaTime: number }) => {
      if (!fixing) setTime(meta.mediaTime);
      handle = rvfc!.call(v, onFrame);
    };
    if (rvfc) handle = rvfc.call(v, onFrame);
    return () => {
      v.removeEventListener("loadedmetadata", onMeta);
      v.removeEventListener("durationchange", onDuration);
      v.removeEventListener("timeupdate", onTime);
      v.removeEventListener("seeked", onTime);
      v.removeEventListener("play", onPlay);
      v.removeEventListener("pause", onPause);
      v.removeEventListener("error", onError);
      (v as HTMLVideoElement & { cancelVideoFrameCallback?: (h: number) => void }).cancelVideoFrameCallback?.(handle);
    };
  }, [url]);

  // draw the boxes of this frame (after every render: answers, frame or selection changed)
  const draw = () => {
    const c = canvas.current;
    const v = video.current;
    if (!c || !v || !size.width) return;
    const rect = v.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    if (c.width !== Math.round(rect.width * ratio)) c.width = Math.round(rect.width * ratio);
    if (c.height !== Math.round(rect.height * ratio)) c.height = Math.round(rect.height * ratio);
    const scale = rect.width / size.width;
    editor.scale = scale;
    const g = c.getContext("2d");
    if (!g) return;
    g.setTransform(ratio * scale, 0, 0, ratio * scale, 0, 0);
    g.clearRect(0, 0, size.width, size.height);
    const items: DrawItem[] = [];
    const sel = mediaState().selected;
    for (const other of ctx.others) {
      for (const control of boxControls) {
        for (const t of tracksOf(other.result[control.name])) {
          const b = boxAt(t, frame);
          if (b) items.push({ kind: "box", rect: b, label: t.label, color: other.color, selected: false, dashed: true, faded: true });
        }
      }
    }
    const handles: Point[] = [];
    for (const control of boxControls) {
      tracksOf(ctx.result[control.name]).forEach((t, i) => {
        const preview = editor.preview && control.name === activeBox()?.name && editor.preview.index === i ? editor.preview.box : null;
        const isActive = control.name === activeBox()?.name;
        const shown = isActive ? editor.boxShown(t, i) : (() => { const b = boxAt(t, frame); return b ? { box: b, ghost: false } : null; })();
        const b = preview ?? shown?.box;
        if (!b) return;
        const selected = sel?.control === control.name && sel.index === i;
        const key = keyframesOf(t.frames).some((k) => k.frame === frame);
        const ghost = !preview && shown?.ghost === true;
        items.push({ kind: "box", rect: b, label: `${t.label} ${t.id}${key ? " ◆" : ghost ? " (outside its frames)" : ""}`, color: labelColor(control, t.label), selected, dashed: ghost || ctx.predicted.has(control.name), faded: false });
        if (selected && !ctx.readOnly) handles.push(...HANDLES.map((h) => handlePoint(b, h)));
      });
    }
    if (editor.preview && editor.preview.index === -1) {
      const c2 = activeBox();
      const label = c2 ? armedLabel(c2, ctx.activeLabel[c2.name]) ?? "" : "";
      items.push({ kind: "box", rect: editor.preview.box, label, color: c2 ? labelColor(c2, label) : "#1e88e5", selected: true, dashed: false, faded: false });
    }
    drawItems(g, items, scale);
    drawHandles(g, handles, null, scale);
  };
  const drawRef = useRef(draw);
  drawRef.current = draw;
  useEffect(() => draw());
  useEffect(() => {
    const v = video.current;
    if (!v) return;
    const observer = new ResizeObserver(() => drawRef.current());
    observer.observe(v);
    return () => observer.disconnect();
  }, []);

  const local = (event: PointerEvent) => {
    const r = canvas.current!.getBoundingClientRect();
    return { x: event.clientX - r.left, y: event.clientY - r.top };
  };

  const onKey = (event: KeyboardEvent) => {
    if (event.ctrlKey || event.metaKey || event.altKey || reservedKeys(ctx).has(event.key.toLowerCase())) return;
    const sel = mediaState().selected;
    const box = activeBox();
    const boxSelected = !!box && sel?.control === box.name;
    const step = event.shiftKey ? Math.max(1, Math.round(fps)) : 1;
    let used = true;
    switch (event.key) {
      case " ":
        player.toggle();
        break;
      case "ArrowLeft":
        seekFrame(frame - step);
        break;
      case "ArrowRight":
        seekFrame(frame + step);
        break;
      case "ArrowUp":
      case "ArrowDown":
        used = boxSelected && editor.nudge(0, (event.key === "ArrowUp" ? -1 : 1) * (event.shiftKey ? 10 : 1));
        break;
      case "Home":
        seekFrame(0);
        break;
      case "End":
        seekFrame(frames - 1);
        break;
      case "[":
        setMark(video.current?.currentTime ?? 0);
        break;
      case "]": {
        const lane = lanesRef.current.find((c) => c.type === "video_segments" && c.name === ctx.activeControl) ?? segControls[0];
        const label = lane ? armedLabel(lane, ctx.activeLabel[lane.name]) : null;
        if (mark !== null && lane && label !== null) addSegment(ctx, lane, mark, video.current?.currentTime ?? 0, label, duration);
        setMark(null);
        break;
      }
      case "Escape":
        if (sel) updateMediaState({ selected: null });
        else used = false;
        break;
      default:
        used = false;
    }
    if (used) event.preventDefault();
  };

  const pct = (t: number) => `${duration > 0 ? Math.min(100, (t / duration) * 100) : 0}%`;
  const timeAtX = (event: PointerEvent, el: HTMLElement) => {
    const r = el.getBoundingClientRect();
    return Math.max(0, Math.min(duration, ((event.clientX - r.left) / r.width) * duration));
  };
  const sel = mediaState().selected;

  return (
    <div class="md-video" data-field={field.name} data-status={status} data-frame={frame} data-fps={fps}>
      <div class="md-video__screen" tabIndex={0} role="application" aria-roledescription="video" aria-label={`${field.title || field.name}: Space plays, arrows step one frame, drag on the picture to draw a box`} onKeyDown={onKey}>
        <video ref={video} class="md-video__media" src={url ?? undefined} preload="auto" playsInline muted={false} />
        <canvas
          ref={canvas}
          class="md-video__overlay"
          style={{ cursor: boxControls.length && !ctx.readOnly ? "crosshair" : "default", display: boxControls.length ? "block" : "none" }}
          onPointerDown={(event) => {
            event.preventDefault();
            (event.currentTarget as HTMLElement).parentElement?.focus({ preventScroll: true });
            (event.currentTarget as HTMLElement).setPointerCapture?.(event.pointerId);
            video.current?.pause();
            editor.pointerDown(local(event));
            draw();
          }}
          onPointerMove={(event) => editor.pointerMove(local(event)) && draw()}
          onPointerUp={() => {
            editor.pointerUp();
            draw();
          }}
        />
        {status === "loading" && url && <p class="md-stage__note">Loading video…</p>}
        {status === "error" && <p class="md-stage__note md-stage__note--error">{url ? "The video could not be loaded." : "This item has no video."}</p>}
      </div>
      <div class="md-transport">
        <button type="button" class="lb-button lb-button--small" aria-label="Previous frame" onClick={() => seekFrame(frame - 1)} disabled={status !== "ready"}>
          ◀︎|
        </button>
        <button type="button" class="lb-button lb-button--small md-play" aria-label={playing ? "Pause" : "Play"} onClick={player.toggle} disabled={status !== "ready"}>
          {playing ? "❚❚ Pause" : "▶ Play"}
        </button>
        <button type="button" class="lb-button lb-button--small" aria-label="Next frame" onClick={() => seekFrame(frame + 1)} disabled={status !== "ready"}>
          |▶︎
        </button>
        <span class="md-clock">
          {formatTime(time)} / {formatTime(duration)}
        </span>
        <span class="md-clock" aria-label="Frame">
          frame <strong>{frame}</strong> / {frames - 1} · {Math.round(fps * 100) / 100} fps
        </span>
        {mark !== null && <span class="lb-badge">start marked at {formatTime(mark)}: press ] to end</span>}
      </div>
      <div class="md-timeline" aria-label="Timeline">
        {lanes.map((control) => {
          const isBox = control.type === "video_bbox";
          const on = activeLane()?.name === control.name;
          return (
            <div key={control.name} class={`md-lane${on ? " md-lane--on" : ""}`}>
              <button type="button" class="md-lane__name" aria-pressed={on} onClick={() => ctx.setActiveControl(control.name)}>
                {controlLabel(control)}
              </button>
              <div
                class="md-lane__track"
                data-lane={control.name}
                onPointerDown={(event) => {
                  const el = event.currentTarget as HTMLElement;
                  const t = timeAtX(event, el);
                  ctx.setActiveControl(control.name);
                  if (isBox || ctx.readOnly) {
                    seekFrame(frameAt(t, fps));
                    return;
                  }
                  el.setPointerCapture?.(event.pointerId);
                  setSegDrag({ control: control.name, from: t, to: t, index: -1, edge: "new" });
                }}
                onPointerMove={(event) => segDrag && segDrag.control === control.name && setSegDrag({ ...segDrag, to: timeAtX(event, event.currentTarget as HTMLElement) })}
                onPointerUp={() => {
                  if (!segDrag || segDrag.control !== control.name) return;
                  setSegDrag(null);
                  const span = Math.abs(segDrag.to - segDrag.from);
                  if (segDrag.edge === "new") {
                    if (span * 600 < duration) seekFrame(frameAt(segDrag.to, fps)); // a click: seek
                    else {
                      const label = armedLabel(control, ctx.activeLabel[control.name]);
                      if (label !== null) addSegment(ctx, control, segDrag.from, segDrag.to, label, duration);
                    }
                  } else {
                    const s = segmentsOf(ctx.result[control.name])[segDrag.index];
                    if (s) updateSegment(ctx, control, segDrag.index, segDrag.edge === "start" ? segDrag.to : s.start, segDrag.edge === "end" ? segDrag.to : s.end, duration);
                  }
                }}
              >
                {isBox
                  ? tracksOf(ctx.result[control.name]).map((t, i) => {
                      const first = t.frames[0]!.frame;
                      const last = t.frames[t.frames.length - 1]!.frame;
                      const selected = sel?.control === control.name && sel.index === i;
                      return (
                        <button
                          type="button"
                          key={t.id}
                          class={`md-bar${selected ? " md-bar--selected" : ""}`}
                          style={{ left: pct(first / fps), width: `calc(${pct((last + 1 - first) / fps)} + 2px)`, "--bar": labelColor(control, t.label) }}
                          aria-label={`Track ${t.id} ${t.label}, frames ${first} to ${last}`}
                          aria-pressed={selected}
                          onPointerDown={(e) => {
                            e.stopPropagation();
                            updateMediaState({ selected: { control: control.name, index: i } });
                            ctx.setActiveControl(control.name);
                            if (frame < first || frame > last) seekFrame(first);
                          }}
                        >
                          {keyframesOf(t.frames).map((k) => (
                            <span key={k.frame} class="md-key" style={{ left: `${((k.frame - first) / Math.max(1, last + 1 - first)) * 100}%` }} aria-hidden="true" />
                          ))}
                        </button>
                      );
                    })
                  : segmentsOf(ctx.result[control.name]).map((s, i) => {
                      const selected = sel?.control === control.name && sel.index === i;
                      const live = segDrag?.control === control.name && segDrag.index === i ? segDrag : null;
                      const start = live?.edge === "start" ? live.to : s.start;
                      const end = live?.edge === "end" ? live.to : s.end;
                      return (
                        <div
                          key={i}
                          class={`md-bar md-bar--segment${selected ? " md-bar--selected" : ""}`}
                          style={{ left: pct(Math.min(start, end)), width: pct(Math.abs(end - start)), "--bar": labelColor(control, s.label) }}
                          data-segment={`${control.name}:${i}`}
                          onPointerDown={(e) => {
                            e.stopPropagation();
                            updateMediaState({ selected: selected ? null : { control: control.name, index: i } });
                            ctx.setActiveControl(control.name);
                          }}
                        >
                          {!ctx.readOnly &&
                            (["start", "end"] as const).map((edge) => (
                              <span
                                key={edge}
                                class={`md-bar__edge md-bar__edge--${edge}`}
                                onPointerDown={(e) => {
                                  e.stopPropagation();
                                  const track = (e.currentTarget as HTMLElement).closest(".md-lane__track") as HTMLElement;
                                  track.setPointerCapture?.(e.pointerId);
                                  setSegDrag({ control: control.name, from: edge === "start" ? s.start : s.end, to: edge === "start" ? s.start : s.end, index: i, edge });
                                }}
                              />
                            ))}
                          <span class="md-bar__label">{s.label}</span>
                        </div>
                      );
                    })}
                {segDrag?.control === control.name && segDrag.edge === "new" && (
                  <div class="md-bar md-bar--draft" style={{ left: pct(Math.min(segDrag.from, segDrag.to)), width: pct(Math.abs(segDrag.to - segDrag.from)) }} />
                )}
                <div class="md-playhead" style={{ left: pct(time) }} aria-hidden="true" />
              </div>
            </div>
          );
        })}
      </div>
    </div>
  );
}

function VideoBBoxPanel({ control, ctx }: ControlProps) {
  const state = useMediaState();
  const tracks = tracksOf(ctx.result[control.name]);
  const editor = editors.get(control.field);
  const sel = state.selected?.control === control.name ? state.selected.index : -1;
  const frame = editor?.frame ?? 0;
  const selected = tracks[sel];
  const keyHere = selected ? keyframesOf(selected.frames).some((k) => k.frame === frame) : false;
  return (
    <div class="md-panel">
      <LabelPicker
        control={control}
        ctx={ctx}
        onPick={(label) => {
          if (selected && selected.label !== label && !ctx.readOnly) ctx.setAnswer(control.name, tracks.map((t, i) => (i === sel ? { ...t, label } : t)));
          ctx.setActiveControl(control.name);
          ctx.setActiveLabel(control.name, label);
        }}
      />
      {selected && !ctx.readOnly && (
        <div class="md-row">
          <button type="button" class="lb-button lb-button--small" onClick={() => editor?.addKeyframeHere()} disabled={keyHere}>
            Keyframe here
          </button>
          <button type="button" class="lb-button lb-button--small" onClick={() => editor?.removeKeyframeHere()} disabled={!keyHere}>
            Remove keyframe
          </button>
          <button type="button" class="lb-button lb-button--small lb-button--danger" onClick={() => editor?.deleteTrack()}>
            Delete track
          </button>
        </div>
      )}
      {tracks.length > 0 && (
        <ul class="lb-list md-list" aria-label={`Tracks of ${controlLabel(control)}`}>
          {tracks.map((t, i) => (
            <li key={t.id} class={`lb-list__item${i === sel ? " lb-list__item--selected" : ""}`}>
              <button type="button" class="lb-list__main" aria-pressed={i === sel} onClick={() => updateMediaState({ selected: i === sel ? null : { control: control.name, index: i } })}>
                <span class="lb-tag md-tag" style={{ background: `${labelColor(control, t.label)}26`, color: labelColor(control, t.label) }}>
                  {t.label}
                </span>
                <span class="lb-muted">
                  {t.id} · frames {t.frames[0]!.frame}–{t.frames[t.frames.length - 1]!.frame} · {keyframesOf(t.frames).length} keyframes
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <p class="lb-hint">Draw a box on the video for a new track; move to another frame and adjust it: the frames between are interpolated.</p>
    </div>
  );
}

export const videoBBoxTool: ControlTool = {
  type: "video_bbox",
  Panel: VideoBBoxPanel,
  hotkeys: (control, ctx) =>
    labelsOf(control)
      .filter((l) => typeof l.hotkey === "string" && l.hotkey !== "")
      .map((l) => ({
        key: l.hotkey!,
        description: `${controlLabel(control)}: ${l.value}`,
        run: () => {
          ctx.setActiveControl(control.name);
          ctx.setActiveLabel(control.name, l.value);
        },
      })),
  deleteSelected: (control) => {
    const editor = editors.get(control.field);
    return mediaState().selected?.control === control.name && !!editor && editor.deleteTrack();
  },
};
