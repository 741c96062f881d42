"""Guideline documents: Markdown rendered to safe HTML, and a line diff between two versions. Pure.

Rendering is two independent layers, so a bug in one is caught by the other:

1. markdown-it-py (CommonMark, plus tables and strikethrough) with raw HTML **off**: `<script>` in the
   source is text, and link targets such as `javascript:` are refused by its link validator.
2. nh3 (the ammonia sanitiser) with an allow-list of tags and attributes: only `http`, `https` and
   `mailto` URLs survive, and every link gets `rel="noopener noreferrer nofollow"`.

Headings are shifted down two levels (`#` becomes `<h3>`), because the page already has its `<h1>`
(the project) and `<h2>` (the card); a document can never outrank the page it is shown on.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from typing import Literal

import nh3
from markdown_it import MarkdownIt

HEADING_SHIFT = 2
DIFF_CONTEXT_LINES = 3
ALIGN_LIMIT_LINES = 2000  # lines on each side of the changed region that difflib aligns

ALLOWED_TAGS = frozenset(
    {
        "a", "blockquote", "br", "code", "del", "em", "h3", "h4", "h5", "h6", "hr", "img", "li",
        "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


@cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
        filter_style_properties={"text-align"},  # table column alignment is all the style we keep
    )


def render_markdown(source: str) -> str:
    """Markdown source -> sanitised HTML, safe to insert into a page as it is."""
    parser = _parser()
    tokens = parser.parse(source)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + HEADING_SHIFT, 6)
            token.tag = f"h{level}"
    html = parser.renderer.render(tokens, parser.options, {})
    return _cleaner().clean(html)


# --- Diff ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One row of a unified line diff. `kind` is "same", "added", "removed" or "skip" (a run of
    unchanged lines left out; `text` then says how many)."""

    kind: Literal["same", "added", "removed", "skip"]
    old_number: int | None
    new_number: int | None
    text: str


@dataclass(frozen=True, slots=True)
class TextDiff:
    lines: list[DiffLine]
    added: int
    removed: int
    aligned: bool  # False: the changed region was too large to align line by line

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def diff_lines(old: str, new: str, *, context: int = DIFF_CONTEXT_LINES) -> TextDiff:
    """A line diff of two texts with `context` unchanged lines around each change; longer unchanged
    runs become one "skip" row. Lines are compared without their line endings.

    Line alignment (difflib) is quadratic in the worst case, so only the region between the common
    first and last lines is aligned, and only when it is at most ALIGN_LIMIT_LINES long on both
    sides; a larger changed region is shown as removed-then-added as a whole (`aligned` is False).
    """
    a, b = old.splitlines(), new.splitlines()
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(a), len(b)) - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    a_end, b_end = len(a) - suffix, len(b) - suffix
    aligned = max(a_end - prefix, b_end - prefix) <= ALIGN_LIMIT_LINES
    if aligned:
        matcher = difflib.SequenceMatcher(a=a[prefix:a_end], b=b[prefix:b_end], autojunk=False)
        middle = [
            (tag, i1 + prefix, i2 + prefix, j1 + prefix, j2 + prefix)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        ]
    else:
        middle = [("replace", prefix, a_end, prefix, b_end)]
    opcodes = [("equal", 0, prefix, 0, prefix), *middle, ("equal", a_end, len(a), b_end, len(b))]
    opcodes = [op for op in opcodes if op[1] != op[2] or op[3] != op[4]]

    lines: list[DiffLine] = []
    added = removed = 0
    if not any(tag != "equal" for tag, *_ in opcodes):
        return TextDiff(lines=[], added=0, removed=0, aligned=True)
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag != "equal":
            lines += [DiffLine("removed", i + 1, None, a[i]) for i in range(i1, i2)]
            lines += [DiffLine("added", None, j + 1, b[j]) for j in range(j1, j2)]
            removed += i2 - i1
            added += j2 - j1
            continue
        keep_head = context if index > 0 else 0  # lines after the previous change
        keep_tail = context if index < len(opcodes) - 1 else 0  # lines before the next change
        if i2 - i1 <= keep_head + keep_tail:
            lines += [DiffLine("same", i + 1, j1 + i - i1 + 1, a[i]) for i in range(i1, i2)]
            continue
        lines += [DiffLine("same", i + 1, j1 + i - i1 + 1, a[i]) for i in range(i1, i1 + keep_head)]
        lines.append(_skip(i2 - i1 - keep_head - keep_tail))
        lines += [DiffLine("same", i + 1, j1 + i - i1 + 1, a[i]) for i in range(i2 - keep_tail, i2)]
    return TextDiff(lines=lines, added=added, removed=removed, aligned=aligned)


def _skip(count: int) -> DiffLine:
    return DiffLine("skip", None, None, f"{count} unchanged line{'' if count == 1 else 's'}")
