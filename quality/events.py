"""Events the quality app sends on a project's feed (core/events.py explains the contract)."""

from typing import TypedDict

from core.events import Event

QUALITY_UPDATED = "quality.updated"


class QualityUpdated(TypedDict):
    project_id: int
    run_id: int
    kind: str
    finished_at: str  # ISO 8601


EVENTS = (Event(QUALITY_UPDATED, QualityUpdated, "a quality run finished; dashboards refetch"),)
