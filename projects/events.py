"""Events the projects app sends on a project's feed (core/events.py explains the contract)."""

from typing import TypedDict

from core.events import Event

FEED_READY = "feed.ready"
FEED_ERROR = "feed.error"
PROJECT_UPDATED = "project.updated"
PROJECT_ARCHIVED = "project.archived"
PROJECT_UNARCHIVED = "project.unarchived"
MEMBER_ADDED = "member.added"
MEMBER_REMOVED = "member.removed"
MEMBER_ROLE_CHANGED = "member.role_changed"
MEMBER_PAUSED = "member.paused"
MEMBER_RESUMED = "member.resumed"
SCHEMA_VERSION_CREATED = "schema.version_created"
GUIDELINE_VERSION_CREATED = "guideline.version_created"
PROJECT_STATS_UPDATED = "project.stats_updated"


class FeedReady(TypedDict):
    project_id: int


class FeedError(TypedDict):
    code: str  # binary_frame, invalid_json, unknown_type, too_many_sockets (docs/SECURITY.md)
    detail: str


class ProjectChange(TypedDict):
    project_id: int
    actor: str  # username, or "system"


class ProjectUpdated(ProjectChange):
    fields: list[str]


class MemberChange(ProjectChange):
    username: str


class MemberWithRole(MemberChange):
    role: str


class VersionCreated(ProjectChange):
    version: int


class ProjectStats(TypedDict):
    members: int
    managers: int
    reviewers: int
    annotators: int
    schema_versions: int
    guideline_versions: int


class ProjectStatsUpdated(TypedDict):
    project_id: int
    stats: ProjectStats


EVENTS = (
    Event(FEED_READY, FeedReady, "the socket joined the feed (first message)", sent="to the socket"),
    Event(FEED_ERROR, FeedError, "the socket sent a frame the feed refuses", sent="to the socket"),
    Event(PROJECT_UPDATED, ProjectUpdated, "project name, description, overlap or settings changed"),
    Event(PROJECT_ARCHIVED, ProjectChange, "project archived (read-only)"),
    Event(PROJECT_UNARCHIVED, ProjectChange, "project writable again"),
    Event(MEMBER_ADDED, MemberWithRole, "someone joined the project"),
    Event(MEMBER_REMOVED, MemberChange, "someone left the project"),
    Event(MEMBER_ROLE_CHANGED, MemberWithRole, "a member's role changed"),
    Event(MEMBER_PAUSED, MemberChange, "a member was paused (quality); their queue says so"),
    Event(MEMBER_RESUMED, MemberChange, "a paused member may take items again"),
    Event(SCHEMA_VERSION_CREATED, VersionCreated, "a label schema version was published"),
    Event(GUIDELINE_VERSION_CREATED, VersionCreated, "a guideline version was published"),
    Event(PROJECT_STATS_UPDATED, ProjectStatsUpdated, "the project's counters were recomputed"),
)
