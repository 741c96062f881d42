"""Events the exports app sends on a project's feed (core/events.py explains the contract)."""

from typing import TypedDict

from core.events import Event

RELEASE_CREATED = "release.created"
RELEASE_PROGRESS = "release.progress"
RELEASE_PUBLISHED = "release.published"
RELEASE_FAILED = "release.failed"
RELEASE_REPRODUCED = "release.reproduced"


class ReleaseSummary(TypedDict):
    project_id: int
    release_id: int
    number: int
    name: str
    status: str
    records_done: int
    records_total: int


class ReleaseFailed(ReleaseSummary):
    error: str


class ReproductionProgress(TypedDict):
    records_done: int
    records_total: int


class ReleaseReproduced(TypedDict):
    id: int
    release_id: int
    number: int
    status: str
    identical: bool | None
    files: int  # files compared
    differences: list
    error: str
    created_at: str  # ISO 8601
    finished_at: str | None
    progress: ReproductionProgress


EVENTS = (
    Event(RELEASE_CREATED, ReleaseSummary, "a release was requested; its build is queued"),
    Event(RELEASE_PROGRESS, ReleaseSummary, "a build wrote records (at most 4 a second)", sent="now"),
    Event(RELEASE_PUBLISHED, ReleaseSummary, "a release was built, signed and published"),
    Event(RELEASE_FAILED, ReleaseFailed, "a build failed; nothing was published"),
    Event(RELEASE_REPRODUCED, ReleaseReproduced, "a reproduction (rebuild and compare) finished"),
)
