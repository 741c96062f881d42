"""Canonical JSON lives in core.canonical (pure; annotation's answer texts use it too). Re-exported
here so exports keeps its import path."""

from core.canonical import (  # noqa: F401
    canonical_bytes,
    canonical_dumps,
    canonical_line,
    canonical_line_checked,
    check_finite,
)
