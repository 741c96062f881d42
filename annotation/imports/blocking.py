"""Content an import must not bring back, such as erased items (docs/GOVERNANCE.md#erasure).

A hook, because the rule lives above annotation in the layers: governance registers a blocker in its
AppConfig.ready(). An import asks `blocked_lines` for its staged rows; each blocked row is dropped and
reported in the error report with the blocker's reason code (the import itself still succeeds)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ContentBlocker:
    code: str  # the reason code rows are reported with, e.g. "erased_content"
    reason: str  # a sentence for people
    active: Callable[[int], bool]  # project id -> may this blocker block anything there (cheap)
    blocked: Callable[[int, list[str]], set[str]]  # project id, content hashes -> the blocked ones


_BLOCKERS: dict[str, ContentBlocker] = {}


def register_content_blocker(blocker: ContentBlocker) -> None:
    _BLOCKERS[blocker.code] = blocker


def any_active(project_id: int) -> bool:
    return any(blocker.active(project_id) for blocker in _BLOCKERS.values())


def blocked_lines(
    project_id: int, rows: Iterable[tuple[int, str]], *, chunk: int = 5000
) -> list[tuple[int, ContentBlocker]]:
    """(line, blocker) for each staged (line, content hash) a registered blocker refuses."""
    active = [b for b in _BLOCKERS.values() if b.active(project_id)]
    if not active:
        return []
    found: list[tuple[int, ContentBlocker]] = []
    batch: list[tuple[int, str]] = []

    def check() -> None:
        hashes = [content_hash for _, content_hash in batch]
        for blocker in active:
            refused = blocker.blocked(project_id, hashes)
            found.extend((line, blocker) for line, content_hash in batch if content_hash in refused)
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            check()
    if batch:
        check()
    return sorted(found, key=lambda pair: pair[0])
