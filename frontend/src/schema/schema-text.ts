/**
 * A label schema definition as text: parse and print it as JSON or YAML, with the place of a syntax
 * problem (line and column) so the editor can point at it. No UI framework imports.
 */
import { parseDocument, stringify } from "yaml";

export type Format = "json" | "yaml";

export interface SyntaxProblem {
  message: string;
  line: number | null;
  column: number | null;
}

export type ParseResult = { ok: true; value: unknown } | { ok: false; error: SyntaxProblem };

const MAX_YAML_ALIASES = 100; // "billion laughs": an alias bomb is refused instead of expanded

// --- Text <-> value ----------------------------------------------------------------------------------

/** Line and column (1-based) of a character offset. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split("\n");
  return { line: lines.length, column: (lines[lines.length - 1] ?? "").length + 1 };
}

function jsonProblem(text: string, error: unknown): SyntaxProblem {
  const raw = error instanceof Error ? error.message : String(error);
  // Engines word this differently and some quote the whole text; keep the reason, find the place ourselves.
  const message = raw
    .replace(/\s*\(line \d+ column \d+\)$/, "")
    .replace(/ in JSON at position \d+.*$/, "")
    .replace(/ at position \d+.*$/, "")
    .replace(/, ".*" is not valid JSON$/s, "");
  const offset = jsonErrorOffset(text);
  return offset === null ? { message, line: null, column: null } : { message, ...positionOf(text, offset) };
}

const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const JSON_WHITESPACE = /[ \t\n\r]*/y;

/** Where JSON.parse stops: the offset of the first character that is not valid JSON (iterative, so
 * deep nesting cannot overflow the stack), or `null` if the text is valid. */
export function jsonErrorOffset(text: string): number | null {
  let i = 0;
  const stack: string[] = [];
  const ws = () => {
    JSON_WHITESPACE.lastIndex = i;
    JSON_WHITESPACE.exec(text);
    i = JSON_WHITESPACE.lastIndex;
  };
  const string = (): boolean => {
    if (text[i] !== '"') return false;
    for (let j = i + 1; j < text.length; j += 1) {
      const c = text.charCodeAt(j);
      if (c === 34) {
        i = j + 1;
        return true;
      }
      if (c < 32) {
        i = j;
        return false;
      }
      if (c === 92) {
        const next = text[j + 1] ?? "";
        if ('"\\/bfnrt'.includes(next) && next !== "") j += 1;
        else if (next === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) j += 5;
        else {
          i = j;
          return false;
        }
      }
    }
    i = text.length;
    return false;
  };
  const key = (): boolean => {
    ws();
    if (!string()) return false;
    ws();
    if (text[i] !== ":") return false;
    i += 1;
    return true;
  };
  for (;;) {
    // A value.
    ws();
    const c = text[i];
    if (c === "{" || c === "[") {
      i += 1;
      ws();
      if (text[i] === (c === "{" ? "}" : "]")) i += 1;
      else {
        stack.push(c);
        if (c === "{" && !key()) return i;
        continue;
      }
    } else if (c === '"') {
      if (!string()) return i;
    } else if (c !== undefined && /[-0-9]/.test(c)) {
      JSON_NUMBER.lastIndex = i;
      if (JSON_NUMBER.exec(text) === null) return i;
      i = JSON_NUMBER.lastIndex;
    } else {
      const literal = ["true", "false", "null"].find((word) => text.startsWith(word, i));
      if (literal === undefined) return i;
      i += literal.length;
    }
    // After a value: close containers or go on to the next element.
    for (;;) {
      ws();
      const open = stack[stack.length - 1];
      if (open === undefined) return i < text.length ? i : null;
      if (text[i] === (open === "{" ? "}" : "]")) {
        stack.pop();
        i += 1;
        continue;
      }
      if (text[i] !== ",") return i;
      i += 1;
      if (open === "{" && !key()) return i;
      break;
    }
  }
}

/** Parses `text` as JSON or YAML. An empty text is a syntax problem, not `null`. */
export function parseText(text: string, format: Format): ParseResult {
  if (text.trim() === "")
    return { ok: false, error: { message: "The definition is empty.", line: null, column: null } };
  if (format === "json") {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (error) {
      return { ok: false, error: jsonProblem(text, error) };
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, merge: false });
  const first = doc.errors[0];
  if (first !== undefined) {
    const position = first.linePos?.[0];
    // prettyErrors adds the position and a code excerpt to the message; we show the position ourselves.
    const message = (first.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
    return { ok: false, error: { message, line: position?.line ?? null, column: position?.col ?? null } };
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) };
  } catch (error) {
    return {
      ok: false,
      error: { message: error instanceof Error ? error.message : String(error), line: null, column: null },
    };
  }
}

/** Prints a value as indented JSON or block-style YAML (no line folding, so labels stay on one line). */
export function printValue(value: unknown, format: Format): string {
  if (format === "json") return `${JSON.stringify(value, null, 2)}\n`;
  return stringify(value, { lineWidth: 0, indent: 2, aliasDuplicateObjects: false });
}

/** The same definition in the other format, or the problem that stops the conversion. */
export function convertText(
  text: string,
  from: Format,
  to: Format,
): { ok: true; text: string } | { ok: false; error: SyntaxProblem } {
  if (from === to) return { ok: true, text };
  const parsed = parseText(text, from);
  return parsed.ok ? { ok: true, text: printValue(parsed.value, to) } : parsed;
}

