/**
 * Markdown for rich_text fields (LLM answers, notes), parsed here into the same allow-listed tree
 * as the HTML sanitiser (`sanitize.ts`), with every displayed run knowing its source code points,
 * so spans on a Markdown field index the stored string exactly like on HTML or plain text.
 *
 * A practical subset of CommonMark: ATX headings, paragraphs (line breaks kept), fenced code,
 * thematic breaks, block quotes, bulleted and numbered lists (one level), GitHub tables, and inline code spans,
 * strong (`**`/`__`), emphasis (`*`/`_`), links `[text](url)` (http, https and mailto only; others
 * are shown as their text) and backslash escapes. Raw HTML inside Markdown is shown as text; images
 * are shown as their alt text. Markup characters are not displayed and have no run: a selection
 * maps to the characters a person sees.
 */
import { type RichElement, type RichNode, type TextRun, safeHref } from "./sanitize";

type Cps = readonly string[];

const el = (tag: string, children: RichNode[], attrs: Record<string, string> = {}): RichElement => ({ kind: "element", tag, attrs, children });

/** Literal runs of cps[a, b), one per call (linear). */
function literal(cps: Cps, a: number, b: number): RichNode[] {
  return b > a ? [{ kind: "text", runs: [{ s: a, e: b, text: cps.slice(a, b).join(""), linear: true }] }] : [];
}

const ESCAPABLE = new Set(Array.from("\\`*_{}[]()#+-.!|>~<"));

/** Inline Markdown in cps[a, b). */
export function parseInline(cps: Cps, a: number, b: number): RichNode[] {
  const out: RichNode[] = [];
  let runs: TextRun[] = [];
  let from = a; // start of the pending literal text
  const flush = (to: number) => {
    if (to > from) runs.push({ s: from, e: to, text: cps.slice(from, to).join(""), linear: true });
    if (runs.length > 0) out.push({ kind: "text", runs });
    runs = [];
  };
  const find = (marker: string, start: number): number => {
    const m = Array.from(marker);
    for (let i = start; i + m.length <= b; i += 1) {
      if (cps[i] === "\\") {
        i += 1;
        continue;
      }
      if (m.every((c, k) => cps[i + k] === c)) return i;
    }
    return -1;
  };
  let i = a;
  while (i < b) {
    const c = cps[i]!;
    if (c === "\\" && i + 1 < b && ESCAPABLE.has(cps[i + 1]!)) {
      if (i > from) runs.push({ s: from, e: i, text: cps.slice(from, i).join(""), linear: true });
      runs.push({ s: i, e: i + 2, text: cps[i + 1]!, linear: false }); // "\*" shows "*": one unit
      i += 2;
      from = i;
      continue;
    }
    if (c === "`") {
      const close = cps.indexOf("`", i + 1);
      if (close > i + 1 && close < b) {
        flush(i);
        out.push(el("code", literal(cps, i + 1, close)));
        i = close + 1;
        from = i;
        continue;
      }
    }
    if ((c === "*" || c === "_") && cps[i + 1] === c) {
      const close = find(c + c, i + 2);
      if (close > i + 2) {
        flush(i);
        out.push(el("strong", parseInline(cps, i + 2, close)));
        i = close + 2;
        from = i;
        continue;
      }
    }
    if ((c === "*" || c === "_") && i + 1 < b && cps[i + 1] !== " " && (c === "*" || i === a || !/\w/.test(cps[i - 1]!))) {
      const close = find(c, i + 1);
      if (close > i + 1 && cps[close - 1] !== " ") {
        flush(i);
        out.push(el("em", parseInline(cps, i + 1, close)));
        i = close + 1;
        from = i;
        continue;
      }
    }
    if (c === "[" || (c === "!" && cps[i + 1] === "[")) {
      const open = c === "!" ? i + 1 : i;
      const close = find("]", open + 1);
      if (close > open && cps[close + 1] === "(") {
        const end = destinationEnd(cps, close + 2, b);
        if (end > close + 1) {
          flush(i);
          const label = parseInline(cps, open + 1, close);
          const href = c === "!" ? null : safeHref(cps.slice(close + 2, end).join(""));
          out.push(href ? el("a", label, { href }) : el("span", label)); // images: their alt text only
          i = end + 1;
          from = i;
          continue;
        }
      }
    }
    i += 1;
  }
  flush(b);
  return out;
}

/** The ")" closing a link destination that starts at `start`, balanced parentheses inside
 * (CommonMark), or -1. */
function destinationEnd(cps: Cps, start: number, b: number): number {
  let depth = 0;
  for (let i = start; i < b; i += 1) {
    const c = cps[i]!;
    if (c === "\\") i += 1;
    else if (c === "(") depth += 1;
    else if (c === ")") {
      if (depth === 0) return i;
      depth -= 1;
    } else if (c === " " || c === "\n") return -1;
  }
  return -1;
}

interface Line {
  s: number; // code point offset of the line's first character
  e: number; // end, without the newline
}

function lines(cps: Cps): Line[] {
  const out: Line[] = [];
  let s = 0;
  for (let i = 0; i <= cps.length; i += 1) {
    if (i === cps.length || cps[i] === "\n") {
      out.push({ s, e: i > s && cps[i - 1] === "\r" ? i - 1 : i });
      s = i + 1;
    }
  }
  return out;
}

const text = (cps: Cps, line: Line) => cps.slice(line.s, line.e).join("");
const HEADING = /^(#{1,6})[ \t]+/;
const FENCE = /^(```+|~~~+)/;
const RULE = /^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$/;
const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])[ \t]+/;
const QUOTE = /^ {0,3}> ?/;
const TABLE_DELIMITER = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

/** The cells of a table row: code-point ranges between unescaped pipes, trimmed, without the
 * optional outer pipes. */
function cells(cps: Cps, line: Line): { s: number; e: number }[] {
  const bounds: number[] = [line.s - 1];
  for (let i = line.s; i < line.e; i += 1) {
    if (cps[i] === "\\") i += 1;
    else if (cps[i] === "|") bounds.push(i);
  }
  bounds.push(line.e);
  const out: { s: number; e: number }[] = [];
  for (let k = 0; k + 1 < bounds.length; k += 1) {
    let s = bounds[k]! + 1;
    let e = bounds[k + 1]!;
    while (s < e && /\s/.test(cps[s]!)) s += 1;
    while (e > s && /\s/.test(cps[e - 1]!)) e -= 1;
    out.push({ s, e });
  }
  // a leading or trailing pipe leaves an empty first or last cell: not a column
  const raw = cps.slice(line.s, line.e).join("").trim();
  if (raw.startsWith("|")) out.shift();
  if (raw.endsWith("|") && out.length > 0) out.pop();
  return out;
}

/** Inline content of several lines, the newlines between them kept as text (shown as line breaks). */
function inlineLines(cps: Cps, parts: { s: number; e: number }[]): RichNode[] {
  const out: RichNode[] = [];
  parts.forEach((part, k) => {
    if (k > 0) {
      // the line break between two lines: shown as a break, one unit (the markers after it are not shown)
      const at = parts[k - 1]!.e;
      out.push({ kind: "text", runs: [{ s: at, e: cps[at] === "\r" ? at + 2 : at + 1, text: "\n", linear: false }] });
    }
    out.push(...parseInline(cps, part.s, part.e));
  });
  return out;
}

/** Parses Markdown `source` into allow-listed nodes with source offsets. Pure: no DOM. */
export function parseMarkdown(source: string): RichNode[] {
  const cps = Array.from(source);
  const all = lines(cps);
  const out: RichNode[] = [];
  let paragraph: Line[] = [];
  let list: { tag: "ul" | "ol"; items: RichNode[] } | null = null;
  const endParagraph = () => {
    if (paragraph.length) out.push(el("p", inlineLines(cps, paragraph)));
    paragraph = [];
  };
  const endList = () => {
    if (list) out.push(el(list.tag, list.items));
    list = null;
  };
  for (let n = 0; n < all.length; n += 1) {
    const line = all[n]!;
    const raw = text(cps, line);
    const cp = (prefix: string) => line.s + Array.from(prefix).length; // offset after a matched prefix
    if (raw.trim() === "") {
      endParagraph();
      endList();
      continue;
    }
    const fence = FENCE.exec(raw);
    if (fence) {
      endParagraph();
      endList();
      let close = n + 1;
      while (close < all.length && !text(cps, all[close]!).startsWith(fence[1]!)) close += 1;
      const body = close > n + 1 ? literal(cps, all[n + 1]!.s, all[close - 1]!.e) : [];
      out.push(el("pre", [el("code", body)]));
      n = close; // past the closing fence (or the end)
      continue;
    }
    if (raw.includes("|") && n + 1 < all.length && TABLE_DELIMITER.test(text(cps, all[n + 1]!)) && text(cps, all[n + 1]!).includes("-")) {
      endParagraph();
      endList();
      const head = cells(cps, line);
      const row = (r: Line, tag: "th" | "td") =>
        el("tr", cells(cps, r).slice(0, head.length).map((c) => el(tag, parseInline(cps, c.s, c.e))));
      const body: RichNode[] = [];
      n += 1; // the delimiter row
      while (n + 1 < all.length && text(cps, all[n + 1]!).includes("|") && text(cps, all[n + 1]!).trim() !== "") {
        n += 1;
        body.push(row(all[n]!, "td"));
      }
      out.push(el("table", [el("thead", [row(line, "th")]), ...(body.length ? [el("tbody", body)] : [])]));
      continue;
    }
    const heading = HEADING.exec(raw);
    if (heading) {
      endParagraph();
      endList();
      let end = line.e;
      while (end > cp(heading[0]) && /[#\s]/.test(cps[end - 1]!)) end -= 1; // closing #s
      out.push(el(`h${heading[1]!.length}`, parseInline(cps, cp(heading[0]), end)));
      continue;
    }
    if (RULE.test(raw)) {
      endParagraph();
      endList();
      out.push(el("hr", []));
      continue;
    }
    const quote = QUOTE.exec(raw);
    if (quote) {
      endParagraph();
      endList();
      const parts = [{ s: cp(quote[0]), e: line.e }];
      while (n + 1 < all.length && QUOTE.test(text(cps, all[n + 1]!))) {
        n += 1;
        const next = all[n]!;
        parts.push({ s: next.s + Array.from(QUOTE.exec(text(cps, next))![0]).length, e: next.e });
      }
      out.push(el("blockquote", [el("p", inlineLines(cps, parts))]));
      continue;
    }
    const item = ITEM.exec(raw);
    // A list may interrupt a paragraph (CommonMark): any bullet, or a numbered list starting at 1.
    if (item && (paragraph.length === 0 || list !== null || !/\d/.test(item[2]!) || /^1\D/.test(item[2]!))) {
      endParagraph();
      const tag = /\d/.test(item[2]!) ? "ol" : "ul";
      if (list && (list as { tag: string }).tag !== tag) endList();
      list ??= { tag, items: [] };
      const parts = [{ s: cp(item[0]), e: line.e }];
      // continuation lines (indented, not a new item) belong to the item
      while (n + 1 < all.length && /^[ \t]{2,}\S/.test(text(cps, all[n + 1]!)) && !ITEM.test(text(cps, all[n + 1]!))) {
        n += 1;
        const next = all[n]!;
        parts.push({ s: next.s + (text(cps, next).length - text(cps, next).trimStart().length), e: next.e });
      }
      list.items.push(el("li", inlineLines(cps, parts)));
      continue;
    }
    endList();
    paragraph.push(line);
  }
  endParagraph();
  endList();
  return out;
}
