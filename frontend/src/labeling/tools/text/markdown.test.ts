import { describe, expect, it } from "vitest";

import { parseMarkdown } from "./markdown";
import type { RichNode, TextRun } from "./sanitize";

function runsOf(nodes: RichNode[]): TextRun[] {
  return nodes.flatMap((n) => (n.kind === "text" ? n.runs : runsOf(n.children)));
}

/** A compact picture of the tree: tag(children) and the displayed text. */
function shape(nodes: RichNode[]): string {
  return nodes.map((n) => (n.kind === "text" ? n.runs.map((r) => r.text).join("") : `${n.tag}${n.attrs.href ? `[${n.attrs.href}]` : ""}(${shape(n.children)})`)).join("");
}

/** Every run maps to its source: linear runs show exactly the source code points, runs are in order. */
function checkOffsets(source: string): void {
  const cps = Array.from(source);
  let last = 0;
  for (const run of runsOf(parseMarkdown(source))) {
    expect(run.s).toBeGreaterThanOrEqual(last);
    expect(run.e).toBeGreaterThan(run.s);
    expect(run.e).toBeLessThanOrEqual(cps.length);
    if (run.linear) expect(run.text).toBe(cps.slice(run.s, run.e).join(""));
    last = run.e;
  }
}

const SAMPLES = [
  "# Title\n\nSome **bold** and *em* and `code`.",
  "- one\n- two with [a link](https://example.org)\n- three",
  "1. first\n2. second\n\n> quoted\n> more",
  "```python\nprint('hi')\n```\nafter",
  "Line one\nline two\r\nline three",
  "Emoji 😀 **Zoë** and \\*not em\\*",
  "***\n\n___",
  "[bad](javascript:alert(1)) and ![alt text](http://x/y.png)",
  "unclosed **bold and `code and [link(",
  "snake_case_words stay _em_ here",
  "  - indented item\n    continued\n- next",
  "",
  "#nospace is text",
];

describe("Markdown with source offsets", () => {
  it.each(SAMPLES)("maps every displayed run back to the source: %j", (source) => {
    checkOffsets(source);
  });

  it("renders the block structure", () => {
    expect(shape(parseMarkdown("# Title ##\n\nText\n\n- a\n- b\n\n1. x\n\n> q\n\n---\n\n```\ncode\n```"))).toBe(
      "h1(Title)p(Text)ul(li(a)li(b))ol(li(x))blockquote(p(q))hr()pre(code(code))",
    );
  });

  it("lets a bulleted list, or one numbered from 1, interrupt a paragraph; other numbers stay text", () => {
    expect(shape(parseMarkdown("Points:\n- a\n- b"))).toBe("p(Points:)ul(li(a)li(b))");
    expect(shape(parseMarkdown("Steps:\n1. a\n2. b"))).toBe("p(Steps:)ol(li(a)li(b))");
    expect(shape(parseMarkdown("In\n2019. was a year"))).toBe("p(In\n2019. was a year)");
  });

  it("renders GitHub tables with inline markup in cells, escaped pipes and ragged rows", () => {
    const source = "Results:\n\n| Model | Score |\n|:--|--:|\n| **A** | 0.9 |\n| B \\| C | 0.7 | extra |\n| D |\n\nafter";
    expect(shape(parseMarkdown(source))).toBe(
      "p(Results:)table(thead(tr(th(Model)th(Score)))tbody(tr(td(strong(A))td(0.9))tr(td(B | C)td(0.7))tr(td(D))))p(after)",
    );
    checkOffsets(source);
    expect(shape(parseMarkdown("a | b\nnot a delimiter"))).toBe("p(a | b\nnot a delimiter)");
  });

  it("renders inline markup and keeps line breaks inside a paragraph", () => {
    expect(shape(parseMarkdown("Some **bold**, *em*, __strong__, _em_ and `x*y`\nnext line"))).toBe(
      "p(Some strong(bold), em(em), strong(strong), em(em) and code(x*y)\nnext line)",
    );
  });

  it("keeps only safe links; images show their alt text; escapes show the character", () => {
    expect(shape(parseMarkdown("[ok](https://a.example/x) [no](javascript:alert(1)) ![cat](http://c/x.png) \\*"))).toBe(
      "p(a[https://a.example/x](ok) span(no) span(cat) *)",
    );
    const escaped = runsOf(parseMarkdown("a \\* b")).find((r) => r.text === "*")!;
    expect(escaped).toEqual({ s: 2, e: 4, text: "*", linear: false }); // "\*": one unit of two code points
  });

  it("does not treat snake_case or a lone star as emphasis, and shows raw HTML as text", () => {
    expect(shape(parseMarkdown("snake_case_name and 2 * 3 * 4"))).toBe("p(snake_case_name and 2 * 3 * 4)");
    expect(shape(parseMarkdown("a <script>x</script> b"))).toBe("p(a <script>x</script> b)");
  });

  it("offsets count code points, so an emoji before a span does not shift it", () => {
    const source = "😀 **Zoë** Adams";
    const bold = runsOf(parseMarkdown(source)).find((r) => r.text === "Zoë")!;
    expect([bold.s, bold.e]).toEqual([4, 7]);
    expect(Array.from(source).slice(4, 7).join("")).toBe("Zoë");
  });
});
