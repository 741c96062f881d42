/** candidates and json field views. Candidates are Markdown (shown through the allow-listed tree,
 * as text elements); JSON is text. */
import type { FieldViewProps } from "../../contract";
import { candidateIds, displayText } from "./common";
import { MarkdownText } from "./markdown-text";

export function CandidatesView({ value }: FieldViewProps) {
  const list = Array.isArray(value) ? value : [];
  const ids = candidateIds(value) ?? [];
  if (list.length === 0) return <p class="lb-muted">This item has no candidates.</p>;
  const pair = list.length === 2;
  return (
    <ol class={`cd${pair ? " cd--pair" : ""}`}>
      {list.map((candidate, i) => (
        <li class="cd-item" key={i}>
          <div class="cd-item__head">
            <span class="cd-item__badge">{pair ? (i === 0 ? "A" : "B") : i + 1}</span>
            {typeof ids[i] === "string" && <span class="lb-muted">{String(ids[i])}</span>}
          </div>
          <div class="cd-item__text">
            <MarkdownText source={displayText(candidate)} />
          </div>
        </li>
      ))}
    </ol>
  );
}

export function JsonView({ value }: FieldViewProps) {
  let text: string;
  try {
    text = JSON.stringify(value, null, 2) ?? "null";
  } catch {
    text = String(value);
  }
  return <pre class="js-view">{text}</pre>;
}
