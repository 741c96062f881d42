/**
 * The text and rich_text field views. They render the item's string as runs of text that know
 * their source offsets (Unicode code points), draw the spans of the hosted spans controls over them,
 * and turn a mouse selection into code-point offsets of the stored string.
 */
import { type ComponentChildren, h } from "preact";
import { useMemo, useRef } from "preact/hooks";

import type { Control, FieldViewProps, LabelingContext } from "../../contract";
import { colorOf, tint, useTextState } from "./common";
import { type RichNode, type TextRun, looksLikeHtml, parseRichText, plainRuns } from "./sanitize";
import { parseMarkdown } from "./markdown";
import { RelationArrows, relationControlsFor } from "./relation-arrows";
import { relationsOf } from "./relations";
import { cpSlice, updateTextState } from "./selection";
import { type Span, createSpan, spansOf } from "./spans";

interface Mark {
  span: Span;
  control: Control;
}

/** Cuts the runs at every span boundary inside linear runs. */
function segment(runs: TextRun[], cuts: number[]): TextRun[] {
  const out: TextRun[] = [];
  for (const run of runs) {
    if (!run.linear) {
      out.push(run);
      continue;
    }
    const chars = Array.from(run.text);
    let from = run.s;
    for (const cut of cuts) {
      if (cut > from && cut < run.e) {
        out.push({ s: from, e: cut, text: chars.slice(from - run.s, cut - run.s).join(""), linear: true });
        from = cut;
      }
    }
    out.push({ s: from, e: run.e, text: chars.slice(from - run.s).join(""), linear: true });
  }
  return out;
}

/** Other annotators' spans (review page): drawn as dashed underlines in their colour. */
interface OtherMark {
  span: Span;
  color: string;
  who: string;
}

function othersStyle(others: OtherMark[], run: TextRun): { style: Record<string, string>; title: string } | null {
  const theirs = others.filter((m) => m.span.start < run.e && m.span.end > run.s);
  if (theirs.length === 0) return null;
  return {
    style: { textDecoration: `underline dashed ${theirs[0]!.color}`, textDecorationThickness: "2px", textUnderlineOffset: "0.35em" },
    title: theirs.map((m) => `${m.who}: ${m.span.label}`).join(", "),
  };
}

function Runs({ runs, marks, others, cuts, selectedId, pending }: {
  runs: TextRun[];
  marks: Mark[];
  others: OtherMark[];
  cuts: number[];
  selectedId: string | null;
  pending: { start: number; end: number } | null;
}) {
  return (
    <>
      {segment(runs, cuts).map((run) => {
        const covering = marks.filter((m) => m.span.start < run.e && m.span.end > run.s);
        const inPending = pending !== null && pending.start < run.e && pending.end > run.s;
        const theirs = othersStyle(others, run);
        if (covering.length === 0) {
          return (
            <span
              key={run.s}
              data-s={run.s}
              data-e={run.e}
              data-lin={run.linear ? "1" : "0"}
              class={inPending ? "tx-pending" : theirs ? "tx-other" : undefined}
              style={theirs?.style}
              title={theirs?.title}
            >
              {run.text}
            </span>
          );
        }
        // innermost (shortest) span on top
        const sorted = [...covering].sort((a, b) => a.span.end - a.span.start - (b.span.end - b.span.start));
        const inner = sorted[0]!;
        const color = colorOf(inner.control, inner.span.label);
        const ending = covering.filter((m) => m.span.end === run.e);
        const style: Record<string, string> = {
          ...theirs?.style,
          background: tint(color, "2e"),
          boxShadow: sorted.map((m, i) => `inset 0 -${2 + i * 2}px 0 ${colorOf(m.control, m.span.label)}`).join(", "),
        };
        const selected = covering.some((m) => m.span.id === selectedId);
        return (
          <span
            key={run.s}
            data-s={run.s}
            data-e={run.e}
            data-lin={run.linear ? "1" : "0"}
            data-span={inner.span.id}
            data-control={inner.control.name}
            data-label={ending.length > 0 ? ending.map((m) => m.span.label).join(" · ") : undefined}
            class={`tx-mark${selected ? " tx-mark--selected" : ""}${ending.length > 0 ? " tx-mark--end" : ""}${inPending ? " tx-pending" : ""}`}
            style={style}
            title={[covering.map((m) => m.span.label).join(", "), theirs?.title].filter(Boolean).join(" · ")}
          >
            {run.text}
          </span>
        );
      })}
    </>
  );
}

function renderRich(nodes: RichNode[], props: Omit<Parameters<typeof Runs>[0], "runs">): ComponentChildren {
  return nodes.map((node, i) => {
    if (node.kind === "text") return <Runs key={i} runs={node.runs} {...props} />;
    const extra: Record<string, string> = {};
    if (node.tag === "a") {
      extra.rel = "noopener noreferrer nofollow";
      extra.target = "_blank";
    }
    // attrs are allow-listed by the sanitiser (href checked, title, colspan/rowspan only)
    const children = node.tag === "br" || node.tag === "hr" ? undefined : renderRich(node.children, props);
    // a link whose target was refused is plain text, not something that looks clickable
    if (node.tag === "a" && !node.attrs.href) return h("span", { key: i }, children);
    return h(node.tag, { key: i, ...node.attrs, ...extra }, children);
  });
}

/** The code point offset of a DOM point inside a text view, or null when it is outside any run. */
export function pointToOffset(container: Node, offset: number, root: Element): number | null {
  if (container.nodeType === Node.TEXT_NODE) {
    const parent = container.parentElement?.closest<HTMLElement>("[data-s]");
    if (!parent || !root.contains(parent)) return null;
    const s = Number(parent.dataset.s);
    const e = Number(parent.dataset.e);
    if (parent.dataset.lin !== "1") return offset === 0 ? s : e;
    const text = (container as Text).data.slice(0, offset);
    return Math.min(e, s + Array.from(text).length);
  }
  const element = container as Element;
  const children = element.childNodes;
  if (offset < children.length) {
    const child = children[offset]!;
    const first = child instanceof Element ? (child.matches("[data-s]") ? child : child.querySelector("[data-s]")) : child.parentElement?.closest("[data-s]");
    if (first instanceof HTMLElement) return Number(first.dataset.s);
  }
  const all = element.querySelectorAll<HTMLElement>("[data-s]");
  const last = all[all.length - 1];
  if (last) return Number(last.dataset.e);
  const own = element.closest<HTMLElement>("[data-s]");
  return own ? Number(own.dataset.e) : null;
}

function TextBody({ field, source, rich, controls, ctx }: {
  field: string;
  source: string;
  rich: boolean;
  controls: readonly Control[];
  ctx: LabelingContext;
}) {
  const state = useTextState();
  const root = useRef<HTMLDivElement>(null);
  // The click that ends a drag-selection must not clear the selection it just made.
  const selecting = useRef(false);
  const spanControls = controls.filter((c) => c.type === "spans");
  const html = rich && looksLikeHtml(source);
  const markdown = rich && !html;
  const nodes = useMemo<RichNode[]>(
    () => (html ? parseRichText(source) : markdown ? parseMarkdown(source) : [{ kind: "text", runs: plainRuns(source) }]),
    [source, html, markdown],
  );
  const marks: Mark[] = [];
  for (const control of spanControls) for (const span of spansOf(ctx.result[control.name])) marks.push({ span, control });
  const others: OtherMark[] = [];
  for (const other of ctx.others) {
    for (const control of spanControls) {
      for (const span of spansOf(other.result[control.name])) others.push({ span, color: other.color, who: other.annotator });
    }
  }
  const pending = state.pending?.field === field ? state.pending : null;
  const bounds = [...marks, ...others].flatMap((m) => [m.span.start, m.span.end]);
  const cuts = [...new Set(bounds.concat(pending ? [pending.start, pending.end] : []))].sort((a, b) => a - b);
  const selectedId = state.selectedSpan && spanControls.some((c) => c.name === state.selectedSpan!.control) ? state.selectedSpan.id : null;

  const onMouseUp = () => {
    selecting.current = false;
    if (root.current === null || spanControls.length === 0 || ctx.readOnly) return;
    const selection = window.getSelection();
    if (selection === null || selection.rangeCount === 0 || selection.isCollapsed) return;
    const range = selection.getRangeAt(0);
    if (!root.current.contains(range.commonAncestorContainer)) return;
    const a = pointToOffset(range.startContainer, range.startOffset, root.current);
    const b = pointToOffset(range.endContainer, range.endOffset, root.current);
    if (a === null || b === null || b <= a) return;
    let start = Math.min(a, b);
    let end = Math.max(a, b);
    // trim whitespace at the edges (double-click selects a trailing space)
    while (start < end && /\s/.test(cpSlice(source, start, start + 1))) start += 1;
    while (end > start && /\s/.test(cpSlice(source, end - 1, end))) end -= 1;
    if (end <= start) return;
    selecting.current = true;
    const active = spanControls.find((c) => c.name === ctx.activeControl) ?? spanControls[0]!;
    const label = ctx.activeLabel[active.name];
    if (label !== undefined) {
      // label-first: a label is armed, the selection becomes a span at once
      createSpan(active, ctx, source, start, end, label);
      selection.removeAllRanges();
      return;
    }
    ctx.setActiveControl(active.name);
    updateTextState({ pending: { field, start, end, text: cpSlice(source, start, end) }, selectedSpan: null });
  };

  const onClick = (event: MouseEvent) => {
    if (selecting.current) {
      selecting.current = false;
      return;
    }
    const target = (event.target as HTMLElement).closest<HTMLElement>("[data-span]");
    const selection = window.getSelection();
    if (selection !== null && !selection.isCollapsed) return;
    if (target?.dataset.span && target.dataset.control) {
      updateTextState({ selectedSpan: { control: target.dataset.control, id: target.dataset.span }, pending: null });
      ctx.setActiveControl(target.dataset.control);
    } else if (state.selectedSpan || state.pending) updateTextState({ selectedSpan: null, pending: null });
  };

  const props = { marks, others, cuts, selectedId, pending };
  const relationControls = relationControlsFor(ctx, spanControls);
  const related = relationControls.some((c) => relationsOf(ctx.result[c.name]).length > 0);
  return (
    <div class="tx-frame">
      <div
        ref={root}
        class={`tx-body${rich ? " tx-body--rich" : ""}${markdown ? " tx-body--md" : ""}${spanControls.length > 0 ? " tx-body--selectable" : ""}${related ? " tx-body--related" : ""}`}
        onMouseUp={onMouseUp}
        onClick={onClick}
        data-field={field}
      >
        {renderRich(nodes, props)}
      </div>
      {relationControls.length > 0 && <RelationArrows root={root} controls={relationControls} ctx={ctx} />}
    </div>
  );
}

export function TextFieldView({ field, value, controls, ctx }: FieldViewProps) {
  const source = typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value);
  return <TextBody field={field.name} source={source} rich={field.type === "rich_text"} controls={controls} ctx={ctx} />;
}
