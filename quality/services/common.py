"""Small helpers shared by the recompute modules."""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger("quality.services")


def safe(function, *args):
    """Adapters never see trusted input: a malformed stored answer counts as unanswered, never a crash."""
    try:
        return function(*args)
    except Exception:
        logger.debug("adapter %s failed", getattr(function, "__qualname__", function), exc_info=True)
        return None


def vocabulary_code(vocabulary: list[str], value: str) -> int:
    try:
        return vocabulary.index(value)
    except ValueError:
        vocabulary.append(value)
        return len(vocabulary) - 1


def numeric(labels: list[str]) -> np.ndarray | None:
    try:
        return np.array([float(v) for v in labels])
    except ValueError:
        return None


def nan_none(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else round(value, 6)
