/**
 * A small allow-list HTML sanitiser for rich_text fields that keeps source offsets.
 *
 * It never hands markup to the browser's parser: the source is tokenised here and turned into a
 * tree of allow-listed elements and text runs, which the view renders through JSX (escaped text,
 * attributes set one by one). Scripts, styles, event handlers, `style`, images, frames, forms and
 * unknown tags cannot come through; links keep only http(s) and mailto targets.
 *
 * Spans on a rich_text field count Unicode code points of the *stored source string*
 * (docs/SCHEMA.md), so every text run records where it came from: a literal run maps linearly
 * (`linear`), a character reference (`&amp;`) is one unit mapping to its whole source range.
 */

export interface TextRun {
  /** Source code point offsets [s, e). */
  s: number;
  e: number;
  /** What is displayed. */
  text: string;
  /** true: one displayed code point per source code point. */
  linear: boolean;
}

export interface RichElement {
  kind: "element";
  tag: string;
  attrs: Record<string, string>;
  children: RichNode[];
}

export interface RichText {
  kind: "text";
  runs: TextRun[];
}

export type RichNode = RichElement | RichText;

export const ALLOWED_TAGS: ReadonlySet<string> = new Set([
  "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2",
  "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small",
  "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
]);
const VOID_TAGS: ReadonlySet<string> = new Set([
  "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
]);
/** Elements whose content is never shown (it is code, or a nested document). */
const DROP_CONTENT: ReadonlySet<string> = new Set([
  "script", "style", "template", "textarea", "title", "xmp", "iframe", "noscript", "noembed",
  "noframes", "plaintext", "object", "svg", "math", "select", "head",
]);
const SAFE_URL = /^(https?:|mailto:)/i;
const ENTITIES: Record<string, string> = {
  amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", copy: "©", reg: "®",
  hellip: "…", mdash: "—", ndash: "–", lsquo: "‘", rsquo: "’", ldquo: "“", rdquo: "”", euro: "€",
};

/** Whether a value looks like HTML (a tag); otherwise it is shown as plain text. */
export const looksLikeHtml = (source: string) => /<\/?[a-zA-Z][^>]*>/.test(source);

export function safeHref(raw: string): string | null {
  // Browsers ignore control characters and whitespace inside a scheme ("java\tscript:").
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips control characters a URL may hide behind
  const cleaned = raw.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
  return SAFE_URL.test(cleaned) ? raw.trim() : null;
}

function safeAttrs(tag: string, attrs: [string, string][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of attrs) {
    if (name === "title" && (tag === "abbr" || tag === "a")) out.title = value;
    else if (name === "href" && tag === "a") {
      const href = safeHref(value);
      if (href !== null) out.href = href;
    } else if ((name === "colspan" || name === "rowspan") && (tag === "td" || tag === "th") && /^\d{1,3}$/.test(value)) {
      out[name] = value;
    }
  }
  return out;
}

/** Parses `source` into allow-listed nodes. Pure: no DOM, no innerHTML. */
export function parseRichText(source: string): RichNode[] {
  const chars = Array.from(source); // code points: indices are the offsets spans use
  const root: RichElement = { kind: "element", tag: "#root", attrs: {}, children: [] };
  // Open elements; dropped (not allowed) tags are kept as transparent entries so end tags match.
  const stack: { tag: string; node: RichElement }[] = [{ tag: "#root", node: root }];
  const top = () => stack[stack.length - 1]!.node;
  let runs: TextRun[] = [];

  const flushText = () => {
    if (runs.length > 0) top().children.push({ kind: "text", runs });
    runs = [];
  };
  const addLiteral = (s: number, e: number) => {
    if (e <= s) return;
    const last = runs[runs.length - 1];
    const text = chars.slice(s, e).join("");
    if (last?.linear && last.e === s) {
      last.e = e;
      last.text += text;
    } else runs.push({ s, e, text, linear: true });
  };
  const isLetter = (c: string | undefined) => c !== undefined && /[A-Za-z]/.test(c);
  const indexOfSeq = (from: number, seq: string) => {
    const needle = Array.from(seq);
    outer: for (let i = from; i <= chars.length - needle.length; i++) {
      for (let j = 0; j < needle.length; j++) if (chars[i + j]!.toLowerCase() !== needle[j]) continue outer;
      return i;
    }
    return -1;
  };

  let i = 0;
  let textStart = 0;
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === "&") {
      const match = /^&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/.exec(chars.slice(i, i + 40).join(""));
      const decoded = match ? decodeEntity(match[1]!) : null;
      if (match && decoded !== null) {
        addLiteral(textStart, i);
        const length = Array.from(match[0]).length;
        runs.push({ s: i, e: i + length, text: decoded, linear: false });
        i += length;
        textStart = i;
        continue;
      }
      i += 1;
      continue;
    }
    if (c !== "<") {
      i += 1;
      continue;
    }
    const next = chars[i + 1];
    if (next === "!" || next === "?") {
      addLiteral(textStart, i);
      let end: number;
      if (chars.slice(i, i + 4).join("") === "<!--") {
        const close = indexOfSeq(i + 4, "-->");
        end = close === -1 ? chars.length : close + 3;
      } else {
        const close = chars.indexOf(">", i);
        end = close === -1 ? chars.length : close + 1;
      }
      i = end;
      textStart = i;
      continue;
    }
    const closing = next === "/";
    if (!isLetter(closing ? chars[i + 2] : next)) {
      i += 1; // a literal "<"
      continue;
    }
    addLiteral(textStart, i);
    const tag = readTag(chars, i);
    i = tag.end;
    textStart = i;
    const name = tag.name;
    if (closing) {
      const at = stack.map((entry) => entry.tag).lastIndexOf(name);
      if (at > 0) {
        flushText();
        stack.length = at;
      }
      continue;
    }
    if (DROP_CONTENT.has(name)) {
      const close = indexOfSeq(i, `</${name}`);
      if (close === -1) i = chars.length;
      else {
        const gt = chars.indexOf(">", close);
        i = gt === -1 ? chars.length : gt + 1;
      }
      textStart = i;
      continue;
    }
    flushText();
    if (ALLOWED_TAGS.has(name)) {
      const node: RichElement = { kind: "element", tag: name, attrs: safeAttrs(name, tag.attrs), children: [] };
      top().children.push(node);
      if (!VOID_TAGS.has(name) && !tag.selfClosing) stack.push({ tag: name, node });
    } else if (!VOID_TAGS.has(name) && !tag.selfClosing) {
      stack.push({ tag: name, node: top() }); // transparent: children go to the parent
    }
  }
  addLiteral(textStart, chars.length);
  flushText();
  return root.children;
}

function readTag(chars: string[], start: number): { name: string; attrs: [string, string][]; selfClosing: boolean; end: number } {
  let i = start + 1;
  if (chars[i] === "/") i += 1;
  let name = "";
  while (i < chars.length && /[A-Za-z0-9:-]/.test(chars[i]!)) name += chars[i++]!.toLowerCase();
  const attrs: [string, string][] = [];
  let selfClosing = false;
  while (i < chars.length && chars[i] !== ">") {
    const c = chars[i]!;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === "/") {
      selfClosing = chars[i + 1] === ">";
      i += 1;
      continue;
    }
    let attr = "";
    while (i < chars.length && !/[\s=>/]/.test(chars[i]!)) attr += chars[i++]!.toLowerCase();
    if (attr === "") {
      i += 1;
      continue;
    }
    while (i < chars.length && /\s/.test(chars[i]!)) i += 1;
    let value = "";
    if (chars[i] === "=") {
      i += 1;
      while (i < chars.length && /\s/.test(chars[i]!)) i += 1;
      const quote = chars[i];
      if (quote === '"' || quote === "'") {
        i += 1;
        while (i < chars.length && chars[i] !== quote) value += chars[i++]!;
        i += 1;
      } else {
        while (i < chars.length && !/[\s>]/.test(chars[i]!)) value += chars[i++]!;
      }
    }
    attrs.push([attr, decodeAll(value)]);
  }
  return { name, attrs, selfClosing, end: Math.min(chars.length, i + 1) };
}

function decodeEntity(body: string): string | null {
  if (body.startsWith("#")) {
    const code = body[1] === "x" || body[1] === "X" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return "\ufffd";
    return String.fromCodePoint(code);
  }
  return Object.hasOwn(ENTITIES, body) ? ENTITIES[body]! : null;
}

function decodeAll(value: string): string {
  return value.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/g, (all, body: string) => decodeEntity(body) ?? all);
}

/** Plain text as one linear run (text fields, and rich_text without markup). */
export function plainRuns(source: string): TextRun[] {
  return source === "" ? [] : [{ s: 0, e: Array.from(source).length, text: source, linear: true }];
}
