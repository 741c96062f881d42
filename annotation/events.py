"""Events the annotation app sends on a project's feed (core/events.py explains the contract).

Call sites still pass the literal strings; they switch to these constants once annotation's feature
packages land (issue #15), and the contract check already fails on a type sent but not listed here.
"""

from typing import Any, TypedDict

from core.events import Event

IMPORT_PROGRESS = "import.progress"
IMPORT_FINISHED = "import.finished"
SPLIT_ASSIGNED = "split.assigned"
SPLIT_FAILED = "split.failed"
NEAR_DUPLICATES_DETECTED = "near_duplicates.detected"
NEAR_DUPLICATES_RESOLVED = "near_duplicates.resolved"
BUCKET_SOURCE_SYNC_PROGRESS = "bucket_source.sync_progress"
BUCKET_SOURCE_SYNCED = "bucket_source.synced"  # also the audit action of a finished sync
BUCKET_SOURCE_SYNC_FAILED = "bucket_source.sync_failed"
ITEM_LEASED = "item.leased"
LEASE_EXPIRED = "lease.expired"
ITEM_SKIPPED = "item.skipped"
ITEM_STATE_CHANGED = "item.state_changed"
ITEMS_WORKFLOW_CHANGED = "items.workflow_changed"
ITEMS_SENT_TO_REVIEW = "items.sent_to_review"
ANNOTATION_SUBMITTED = "annotation.submitted"
REVIEW_LEASED = "review.leased"
REVIEW_DECIDED = "review.decided"


class ImportProgress(TypedDict):
    job_id: int
    phase: str
    received: int
    bytes_read: int
    size_bytes: int | None


class ImportFinished(TypedDict):
    project_id: int
    job_id: int
    status: str
    received: int
    created: int
    duplicates: int
    rejected: int
    label_counts: dict[str, Any]
    detail: str


class SplitAssigned(TypedDict):
    project_id: int
    actor: str
    operation_id: int
    counts: dict[str, int]


class SplitFailed(TypedDict):
    project_id: int
    operation_id: int
    detail: str


class NearDuplicatesDetected(TypedDict):
    project_id: int
    groups: int
    items: int


class NearDuplicatesResolved(TypedDict):
    project_id: int
    group_id: int
    resolution: str
    kept_item_id: int | None
    excluded_item_ids: list[int]


class BucketSourceSyncProgress(TypedDict):
    project_id: int
    source_id: int
    phase: str
    listed: int
    created: int


class BucketSourceSynced(TypedDict):
    project_id: int
    name: str
    source_id: int
    status: str  # "succeeded" or "failed"
    listed: int
    created: int
    existing: int
    skipped: dict[str, int]
    code: str
    detail: str


class ItemEvent(TypedDict):
    project_id: int
    item_id: int


class ItemLeased(ItemEvent):
    assignment_id: int


class LeaseExpired(TypedDict):
    project_id: int
    items: list[int]


class ItemStateChanged(ItemEvent):
    state: str
    previous: str
    why: str


class ItemsWorkflowChanged(TypedDict):
    project_id: int
    items: int
    fields: list[str]


class ItemsSentToReview(TypedDict):
    project_id: int
    items: int
    why: str


class AnnotationSubmitted(ItemEvent):
    annotation_id: int
    revision: int
    item_state: str


class ReviewDecided(ItemEvent):
    annotation_id: int
    decision: str
    annotator_id: int


EVENTS = (
    Event(IMPORT_PROGRESS, ImportProgress, "an import read more of its file", sent="now"),
    Event(IMPORT_FINISHED, ImportFinished, "an import succeeded or failed"),
    Event(SPLIT_ASSIGNED, SplitAssigned, "items were assigned to train/validation/test splits"),
    Event(SPLIT_FAILED, SplitFailed, "a queued split operation failed"),
    Event(NEAR_DUPLICATES_DETECTED, NearDuplicatesDetected, "near-duplicate detection flagged groups"),
    Event(NEAR_DUPLICATES_RESOLVED, NearDuplicatesResolved, "someone resolved a near-duplicate group"),
    Event(BUCKET_SOURCE_SYNC_PROGRESS, BucketSourceSyncProgress, "a bucket sync listed objects", sent="now"),
    Event(BUCKET_SOURCE_SYNCED, BucketSourceSynced, "a bucket sync finished"),
    Event(BUCKET_SOURCE_SYNC_FAILED, BucketSourceSynced, "a bucket sync failed (what it created stays)"),
    Event(ITEM_LEASED, ItemLeased, "an annotator took an item (labeling page notices a lost lease)"),
    Event(LEASE_EXPIRED, LeaseExpired, "leases ran out; the items are free again"),
    Event(ITEM_SKIPPED, ItemEvent, "an annotator skipped an item"),
    Event(ITEM_STATE_CHANGED, ItemStateChanged, "an item moved in the workflow state machine"),
    Event(ITEMS_WORKFLOW_CHANGED, ItemsWorkflowChanged, "a bulk action changed items' workflow fields"),
    Event(ITEMS_SENT_TO_REVIEW, ItemsSentToReview, "items were sent back to review (label migration)"),
    Event(ANNOTATION_SUBMITTED, AnnotationSubmitted, "an annotation was submitted"),
    Event(REVIEW_LEASED, ItemEvent, "a reviewer took an item"),
    Event(REVIEW_DECIDED, ReviewDecided, "a reviewer accepted or rejected an annotation"),
)
