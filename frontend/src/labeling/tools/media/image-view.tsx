/**
 * The image field view: the picture on a Konva stage with the regions of the hosted controls
 * (bbox, polygon, keypoints) and the others' answers (review), zoom (wheel, + / -, 0 fits, 1 is
 * 100 %), pan (drag the background, hold Space, or arrow keys with nothing selected) and editing
 * through `ImageEditor`.
 *
 * Konva is loaded on demand (a separate chunk: pages without images never fetch it). The stage has
 * two layers and no listening nodes: the base layer draws the image and every stored region with
 * one custom shape each; the edit layer draws what is being dragged and the handles. Pointer events
 * go to the container and the editor hit-tests in plain code, so 1,000 boxes are 1,000 rectangles
 * drawn in one pass, not 1,000 nodes.
 */
import type { Layer } from "konva/lib/Layer";
import type { Stage } from "konva/lib/Stage";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import type { Control, FieldViewProps, LabelingContext } from "../../contract";
import { keypointInstancesOf } from "./answers";
import { DRAWING_TYPES, ImageEditor, keypointPlacement } from "./image-editor";
import { drawHandles, drawItems } from "./render";
import { controlLabel, mediaUrlOf, reservedKeys, useMediaState } from "./common";
import { mediaState, resetMediaState } from "./state";

/** Loaded once, on the first image. */
let konvaModule: Promise<typeof import("konva/lib/Core")> | null = null;
export const loadKonva = () => (konvaModule ??= import("konva/lib/Core"));

const TOOL_NAMES: Record<string, string> = { bbox: "Box", polygon: "Polygon", keypoints: "Points" };

export function ImageFieldView({ field, value, controls, ctx }: FieldViewProps) {
  const host = useRef<HTMLDivElement>(null);
  const ctxRef = useRef<LabelingContext>(ctx);
  ctxRef.current = ctx;
  const drawing = controls.filter((c) => (DRAWING_TYPES as readonly string[]).includes(c.type));
  const controlsRef = useRef<readonly Control[]>(drawing);
  controlsRef.current = drawing;
  const layers = useRef<{ stage: Stage; base: Layer; edit: Layer } | null>(null);
  const [status, setStatus] = useState<"loading" | "ready" | "error">("loading");
  const [zoom, setZoom] = useState(1);
  const state = useMediaState();
  const url = mediaUrlOf(ctx.item, value);
  // a new item: no selection, draft or mark carried over from the previous one
  useEffect(() => resetMediaState(), [ctx.item.id]);

  const editor = useMemo(
    () =>
      new ImageEditor({
        ctx: () => ctxRef.current,
        controls: () => controlsRef.current,
        redraw(what) {
          const l = layers.current;
          if (!l) return;
          if (what === "view") {
            const v = editor.viewport;
            l.stage.position({ x: v.x, y: v.y });
            l.stage.scale({ x: v.scale, y: v.scale });
            l.stage.batchDraw();
            setZoom(v.scale);
            // where the image is on screen, for tests and benchmarks (screen = image * scale + offset)
            host.current?.setAttribute("data-viewport", `${v.scale} ${v.x} ${v.y}`);
          } else if (what === "regions") {
            l.base.batchDraw();
            l.edit.batchDraw();
          } else l.edit.batchDraw();
          if (host.current) host.current.style.cursor = editor.cursor();
        },
      }),
    [],
  );

  useEffect(() => {
    const el = host.current;
    if (!el || !url) {
      setStatus(url ? "loading" : "error");
      return;
    }
    let disposed = false;
    const image = new Image();
    image.decoding = "async";
    const ready = new Promise<void>((resolve, reject) => {
      image.onload = () => resolve();
      image.onerror = () => reject(new Error("image"));
    });
    image.src = url;
    let observer: ResizeObserver | null = null;
    loadKonva()
      .then(async ({ default: Konva }) => {
        await ready;
        if (disposed) return;
        const canvasHost = el.querySelector<HTMLDivElement>(".md-stage__canvas")!;
        const stage = new Konva.Stage({ container: canvasHost, width: el.clientWidth, height: el.clientHeight, listening: false });
        const base = new Konva.Layer({ listening: false });
        const edit = new Konva.Layer({ listening: false });
        base.add(
          new Konva.Shape({
            listening: false,
            sceneFunc(kctx) {
              const g = kctx._context;
              g.imageSmoothingEnabled = editor.viewport.scale < 3;
              g.drawImage(image, 0, 0);
              drawItems(g, editor.regions(), editor.viewport.scale);
            },
          }),
        );
        edit.add(
          new Konva.Shape({
            listening: false,
            sceneFunc(kctx) {
              const g = kctx._context;
              const o = editor.overlay();
              drawItems(g, o.items, editor.viewport.scale);
              drawHandles(g, o.handles, o.rubber, editor.viewport.scale, o.midpoints);
            },
          }),
        );
        stage.add(base, edit);
        layers.current = { stage, base, edit };
        editor.view = { width: el.clientWidth, height: el.clientHeight };
        editor.setImageSize({ width: image.naturalWidth, height: image.naturalHeight });
        el.dataset.imageWidth = String(image.naturalWidth);
        el.dataset.imageHeight = String(image.naturalHeight);
        setStatus("ready");
        observer = new ResizeObserver(() => {
          stage.size({ width: el.clientWidth, height: el.clientHeight });
          editor.setViewSize({ width: el.clientWidth, height: el.clientHeight });
        });
        observer.observe(el);
      })
      .catch(() => !disposed && setStatus("error"));
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const r = el.getBoundingClientRect();
      editor.wheel(event.deltaMode === 1 ? event.deltaY * 40 : event.deltaY, { x: event.clientX - r.left, y: event.clientY - r.top }, event.ctrlKey);
    };
    el.addEventListener("wheel", onWheel, { passive: false });
    return () => {
      disposed = true;
      observer?.disconnect();
      el.removeEventListener("wheel", onWheel);
      layers.current?.stage.destroy();
      layers.current = null;
    };
  }, [url]);

  // every render may carry new answers (or a new selection): redraw both layers once
  useEffect(() => {
    layers.current?.base.batchDraw();
    layers.current?.edit.batchDraw();
  });

  const local = (event: PointerEvent) => {
    const r = host.current!.getBoundingClientRect();
    return { x: event.clientX - r.left, y: event.clientY - r.top, button: event.button, shift: event.shiftKey, alt: event.altKey };
  };
  const active = editor.drawingControl();
  const draft = state.draft;
  const hint = ctx.readOnly
    ? "Read only: drag to pan, wheel to zoom."
    : draft
      ? "Click to add points; click the first point or press Enter to close; Backspace removes the last; Esc cancels."
      : active?.type === "bbox"
        ? "Drag to draw a box. Click a box to select it: drag to move, handles to resize, arrows to nudge, Delete removes."
        : active?.type === "polygon"
          ? "Click to start a polygon. Select one to drag its vertices, click an edge to add one (Shift+click removes a vertex)."
          : active?.type === "keypoints"
            ? `Click to place “${nextPointName(active, ctx)}”. Drag a point to move it.`
            : "Drag to pan, wheel to zoom.";

  return (
    <div class="md-image">
      <div class="md-toolbar" role="toolbar" aria-label={`${field.title || field.name} tools`}>
        {drawing.length > 1 &&
          drawing.map((c) => (
            <button
              type="button"
              key={c.name}
              class={`md-tool${active?.name === c.name ? " md-tool--on" : ""}`}
              aria-pressed={active?.name === c.name}
              onClick={() => ctx.setActiveControl(c.name)}
            >
              {TOOL_NAMES[c.type] ?? c.type}: {controlLabel(c)}
            </button>
          ))}
        <span class="md-toolbar__spacer" />
        <button type="button" class="md-tool" aria-label="Zoom out" title="Zoom out (-)" onClick={() => editor.zoom(0.8)}>
          −
        </button>
        <output class="md-zoom" aria-label="Zoom">{Math.round(zoom * 100)}%</output>
        <button type="button" class="md-tool" aria-label="Zoom in" title="Zoom in (+)" onClick={() => editor.zoom(1.25)}>
          +
        </button>
        <button type="button" class="md-tool" title="Fit to screen (0)" onClick={() => editor.fit()}>
          Fit
        </button>
        <button type="button" class="md-tool" title="Actual size (1)" onClick={() => editor.actualSize()}>
          1:1
        </button>
      </div>
      <div
        ref={host}
        class="md-stage"
        data-field={field.name}
        data-status={status}
        tabIndex={0}
        role="application"
        aria-roledescription="image canvas"
        aria-label={`${field.title || field.name}: ${hint}`}
        onPointerDown={(event) => {
          event.preventDefault(); // no text selection or native image drag while drawing
          host.current?.focus({ preventScroll: true });
          host.current?.setPointerCapture?.(event.pointerId);
          editor.pointerDown(local(event));
          if (host.current) host.current.style.cursor = editor.cursor();
        }}
        onPointerMove={(event) => editor.pointerMove(local(event))}
        onPointerUp={(event) => {
          editor.pointerUp(local(event));
          if (host.current) host.current.style.cursor = editor.cursor();
        }}
        onPointerCancel={() => editor.pointerUp()}
        onDblClick={() => mediaState().draft && editor.closePolygon()}
        onContextMenu={(event) => event.preventDefault()}
        onKeyDown={(event) => {
          if (event.key === " ") {
            event.preventDefault();
            editor.spaceHeld = true;
            if (host.current) host.current.style.cursor = editor.cursor();
            return;
          }
          if (editor.key(event.key, { shift: event.shiftKey, ctrl: event.ctrlKey || event.metaKey, alt: event.altKey }, reservedKeys(ctx))) {
            event.preventDefault();
          }
        }}
        onKeyUp={(event) => {
          if (event.key === " ") {
            editor.spaceHeld = false;
            if (host.current) host.current.style.cursor = editor.cursor();
          }
        }}
      >
        <div class="md-stage__canvas" />
        {status === "loading" && <p class="md-stage__note">Loading image…</p>}
        {status === "error" && <p class="md-stage__note md-stage__note--error">{url ? "The image could not be loaded." : "This item has no image."}</p>}
      </div>
      <p class="lb-hint md-hint" aria-live="polite">
        {state.message && drawing.some((c) => c.name === state.message!.control) ? <span class="lb-error">{state.message.text}</span> : hint}
      </p>
    </div>
  );
}

function nextPointName(control: Control, ctx: LabelingContext): string {
  return keypointPlacement(control, keypointInstancesOf(ctx.result[control.name]), mediaState().keypointTarget).name ?? "point";
}
