"""The labeling workflow's models: assignments with leases, predictions, annotations with revisions,
review decisions and review leases (docs/WORKFLOW.md)."""

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Q

from .items import Item


class Assignment(models.Model):
    """One annotator's slot on one item: a lease while they work, then their submission.

    Created by annotation.workflow.services.claim.next_item_for_annotator under the item's row lock. An
    expired lease is deleted (the slot is free again); a skip is kept so the item is not served to
    the same person twice.
    """

    class Status(models.TextChoices):
        LEASED = "leased", "Leased"
        SUBMITTED = "submitted", "Submitted"
        SKIPPED = "skipped", "Skipped"
        CORRECTION = "correction", "Returned for correction"
        EXPIRED = "expired", "Lease expired"  # slot released; the draft stays for when they come back

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="assignments", db_index=False)
    annotator = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments", db_index=False
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.LEASED)
    is_gold = models.BooleanField(default=False)  # a gold item: holds no overlap slot
    leased_at = models.DateTimeField()
    lease_expires_at = models.DateTimeField(null=True, blank=True)  # set while leased or in correction
    submitted_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=500, blank=True)
    draft = models.JSONField(null=True, blank=True)  # autosaved work in progress; survives a closed tab
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    active_ms = models.BigIntegerField(default=0)  # time with the item in focus, reported by heartbeats

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "annotator"], name="assignment_once_per_annotator"),
            models.CheckConstraint(
                condition=Q(status__in=["leased", "submitted", "skipped", "correction", "expired"]),
                name="assignment_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="leased") | Q(lease_expires_at__isnull=False),
                name="assignment_lease_has_ttl",
            ),
        ]
        indexes = [
            models.Index(fields=["annotator", "project", "status"], name="assignment_annotator"),
            models.Index(
                fields=["lease_expires_at"], condition=Q(status="leased"), name="assignment_lease_ttl"
            ),
        ]

    def __str__(self) -> str:
        return f"assignment {self.pk}: item {self.item_id} to user {self.annotator_id} ({self.status})"


class Prediction(models.Model):
    """A model's pre-annotation of an item, in the project's schema format, offered as a starting point."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="model_predictions", db_index=False)
    model_name = models.CharField(max_length=200)
    model_version = models.CharField(max_length=200)
    score = models.FloatField(null=True, blank=True)  # the model's confidence in [0, 1]
    result = models.JSONField()  # {control name: answer}, validated against `schema_version`
    schema_version = models.ForeignKey(
        "projects.LabelSchemaVersion", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "model_name", "model_version"], name="prediction_once_per_model_version"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=1), name="prediction_score_unit"
            ),
        ]
        indexes = [models.Index(fields=["item"], name="prediction_item")]

    def __str__(self) -> str:
        return f"prediction {self.pk} by {self.model_name} {self.model_version}"


class Annotation(models.Model):
    """An annotator's answer for an item: the head of its revisions (AnnotationRevision).

    `result` and `revision` mirror the latest revision so reads need one row; nothing is overwritten
    without a new revision being appended first.
    """

    class Review(models.TextChoices):
        NOT_REQUIRED = "not_required", "Not sampled for review"
        PENDING = "pending", "Waiting for review"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        FIXED = "fixed", "Fixed by a reviewer"

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="annotations", db_index=False)
    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="annotation")
    annotator = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations", db_index=False
    )
    result = models.JSONField()
    revision = models.PositiveIntegerField(default=1)
    schema_version = models.ForeignKey(
        "projects.LabelSchemaVersion", on_delete=models.PROTECT, related_name="+"
    )
    guideline_version = models.ForeignKey(
        "projects.GuidelineVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_gold = models.BooleanField(default=False)
    review = models.CharField(max_length=20, choices=Review.choices, default=Review.NOT_REQUIRED)
    prediction = models.ForeignKey(
        Prediction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # the pre-annotation the annotator started from
    lead_ms = models.BigIntegerField(default=0)  # lease to first submission (server clock)
    active_ms = models.BigIntegerField(default=0)  # focused time reported by the browser
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "annotator"], name="annotation_once_per_annotator"),
            models.CheckConstraint(
                condition=Q(review__in=["not_required", "pending", "accepted", "rejected", "fixed"]),
                name="annotation_review_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "id"], name="annotation_project"),
            models.Index(fields=["annotator", "project"], name="annotation_annotator"),
            # the quality app's incremental recompute reads what changed since its last run
            models.Index(fields=["project", "updated_at"], name="annotation_changed"),
        ]

    def __str__(self) -> str:
        return f"annotation {self.pk} r{self.revision} of item {self.item_id}"


class AnnotationRevision(models.Model):
    """Append-only history of an annotation: every submission, correction, reviewer fix and migration.

    PostgreSQL and SQLite triggers refuse UPDATE and DELETE (migration 0006), like the audit log.
    """

    class Kind(models.TextChoices):
        SUBMIT = "submit", "Submitted"
        CORRECTION = "correction", "Corrected by the annotator"
        REVIEW_FIX = "review_fix", "Fixed by a reviewer"

    id = models.BigAutoField(primary_key=True)
    annotation = models.ForeignKey(
        Annotation, on_delete=models.CASCADE, related_name="revisions", db_index=False
    )
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    author = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    result = models.JSONField()
    schema_version = models.ForeignKey(
        "projects.LabelSchemaVersion", on_delete=models.PROTECT, related_name="+"
    )
    guideline_version = models.ForeignKey(
        "projects.GuidelineVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)  # of the request that made it
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["annotation_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["annotation", "number"], name="revision_number_unique"),
            models.UniqueConstraint(
                fields=["author", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="revision_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["submit", "correction", "review_fix"]), name="revision_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"revision {self.number} of annotation {self.annotation_id}"


class ReviewDecision(models.Model):
    """A reviewer's decision on one annotation revision. Append-only, like revisions."""

    class Decision(models.TextChoices):
        ACCEPT = "accept", "Accept"
        REJECT = "reject", "Reject"
        FIX = "fix", "Fix"

    id = models.BigAutoField(primary_key=True)
    annotation = models.ForeignKey(
        Annotation, on_delete=models.CASCADE, related_name="decisions", db_index=False
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+", db_index=False)
    reviewer = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    revision = models.PositiveIntegerField()  # the annotation revision that was reviewed
    reason = models.CharField(max_length=50, blank=True)  # a reason code from the project's list
    comment = models.TextField(blank=True, max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=["accept", "reject", "fix"]), name="decision_valid"
            ),
            models.CheckConstraint(condition=~Q(decision="reject") | ~Q(reason=""), name="reject_has_reason"),
        ]
        indexes = [models.Index(fields=["annotation", "id"], name="decision_annotation")]

    def __str__(self) -> str:
        return f"{self.decision} of annotation {self.annotation_id}"


class ReviewLease(models.Model):
    """A reviewer holds an item in review so two reviewers do not decide on it at once."""

    item = models.OneToOneField(Item, on_delete=models.CASCADE, primary_key=True, related_name="review_lease")
    reviewer = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"review lease on item {self.item_id}"
