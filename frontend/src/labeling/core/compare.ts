/**
 * Comparing annotations on the review page: a short text summary of each answer, and whether the
 * annotators agree on a control. Span ids differ between people, so spans compare by
 * (start, end, label) and relations by the spans they join.
 */
import type { Control, Result } from "../contract";
import { isEmpty } from "./show-if";
import { canonicalJson } from "./store";

type Rec = Record<string, unknown>;
const rec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

function spanKey(span: Rec): string {
  return `${span.start}-${span.end}:${span.label}`;
}

/** A form of the answer in which equal meanings are equal strings. */
export function comparable(control: Control, answer: unknown, result: Result = {}): string {
  if (isEmpty(answer)) return "";
  if (control.type === "spans" && Array.isArray(answer)) {
    return canonicalJson(answer.filter(rec).map(spanKey).sort());
  }
  if (control.type === "relations" && Array.isArray(answer)) {
    const spans = Array.isArray(result[String(control.spans)]) ? (result[String(control.spans)] as unknown[]).filter(rec) : [];
    const byId = new Map(spans.map((s) => [s.id, spanKey(s)]));
    return canonicalJson(answer.filter(rec).map((r) => `${byId.get(r.from) ?? r.from}>${r.label}>${byId.get(r.to) ?? r.to}`).sort());
  }
  if ((control.type === "multiple_choice" || (control.type === "taxonomy" && control.multiple)) && Array.isArray(answer)) {
    return canonicalJson([...answer].map(canonicalJson).sort());
  }
  return canonicalJson(answer);
}

/** Whether the given results disagree on `control` (at least two results, not all equal). */
export function differs(control: Control, results: readonly Result[]): boolean {
  if (results.length < 2) return false;
  const forms = new Set(results.map((r) => comparable(control, r[control.name], r)));
  return forms.size > 1;
}

/** One line of text describing an answer (rendered as text, never markup). */
export function summarise(control: Control, answer: unknown): string {
  if (isEmpty(answer)) return "—";
  switch (control.type) {
    case "spans":
      return Array.isArray(answer)
        ? answer.filter(rec).map((s) => `${s.label}: ${typeof s.text === "string" ? s.text : `${s.start}–${s.end}`}`).join("; ")
        : String(answer);
    case "relations":
      return Array.isArray(answer) ? answer.filter(rec).map((r) => `${r.from} ${r.label} ${r.to}`).join("; ") : String(answer);
    case "taxonomy": {
      const paths = Array.isArray(answer) && answer.every(Array.isArray) ? (answer as unknown[][]) : [answer as unknown[]];
      return paths.map((p) => (Array.isArray(p) ? p.join(" › ") : String(p))).join("; ");
    }
    case "pairwise":
      return rec(answer) ? `${answer.choice}${answer.strength ? ` (strength ${answer.strength})` : ""}` : String(answer);
    case "chat_turn_labels":
      return rec(answer)
        ? Object.entries(answer).map(([turn, l]) => `#${turn}: ${Array.isArray(l) ? l.join(", ") : String(l)}`).join("; ")
        : String(answer);
    case "ranking":
      return Array.isArray(answer) ? answer.map(String).join(" > ") : String(answer);
    default:
      if (typeof answer === "string" || typeof answer === "number") return String(answer);
      if (Array.isArray(answer) && answer.every((a) => typeof a === "string" || typeof a === "number")) return answer.join(", ");
      if (Array.isArray(answer)) return `${answer.length} item${answer.length === 1 ? "" : "s"}`;
      return canonicalJson(answer);
  }
}
