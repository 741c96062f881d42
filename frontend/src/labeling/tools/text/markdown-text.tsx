/** Markdown shown read-only (conversation turns, candidates): the allow-listed tree of
 * `parseMarkdown`, rendered through JSX (escaped text, attributes set one by one). */
import { type ComponentChildren, h } from "preact";
import { useMemo } from "preact/hooks";

import { parseMarkdown } from "./markdown";
import type { RichNode } from "./sanitize";

function render(nodes: RichNode[]): ComponentChildren {
  return nodes.map((node, i) => {
    if (node.kind === "text") return node.runs.map((run) => run.text).join("");
    const children = node.tag === "hr" ? undefined : render(node.children);
    if (node.tag === "a") {
      // hrefs are http(s) or mailto only (safeHref in the parser)
      return h("a", { key: i, href: node.attrs.href, rel: "noopener noreferrer nofollow", target: "_blank" }, children);
    }
    return h(node.tag, { key: i }, children);
  });
}

export function MarkdownText({ source }: { source: string }) {
  const nodes = useMemo(() => parseMarkdown(source), [source]);
  return <div class="md-text">{render(nodes)}</div>;
}
