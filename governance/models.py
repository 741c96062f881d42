"""Governance models (erasure tombstones, retention runs). See docs/GOVERNANCE.md."""

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Q


class Erasure(models.Model):
    """One erasure: what was asked (scope), why, by whom, and what went, by count. Never content: a
    data subject's metadata value is kept only as a keyed hash."""

    class Scope(models.TextChoices):
        ITEM = "item", "Items"
        SUBJECT = "subject", "A data subject (metadata key = value)"
        SOURCE = "source", "A source (import job or bucket source)"
        RETENTION = "retention", "A retention rule"

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=20, choices=Scope.choices)
    # {"key": "customer_id", "value_hash": "..."} | {"import_job": 3} | {"bucket_source": 2} | {"items": n}
    detail = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=1000)
    actor = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    items = models.PositiveIntegerField(default=0)  # items erased by this request
    already_erased = models.PositiveIntegerField(default=0)  # asked for, but erased before
    deleted = models.JSONField(default=dict, blank=True)  # what went, by kind: {"annotations": n, ...}
    releases = models.JSONField(default=list, blank=True)  # [{"number", "erased_items", "successor"}]
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=["item", "subject", "source", "retention"]), name="erasure_scope_valid"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="erasure_reason_required"),
        ]

    def __str__(self) -> str:
        return f"erasure {self.pk} ({self.scope}) of project {self.project_id}"


class ErasureTombstone(models.Model):
    """An erased item: the audit trail without its content. `content_key` (a keyed hash of the item's
    content hash) blocks importing the same content again; `external_id_hash` lets a person check
    that a given external id was erased without the server keeping it."""

    id = models.BigAutoField(primary_key=True)
    erasure = models.ForeignKey(Erasure, on_delete=models.PROTECT, related_name="tombstones")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    item_id = models.BigIntegerField()  # the erased item's id (the row is gone)
    external_id_hash = models.CharField(max_length=64, blank=True)
    content_key = models.CharField(max_length=64)
    deleted = models.JSONField(default=dict, blank=True)  # what went with this item, by kind
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "item_id"], name="tombstone_once_per_item"),
        ]
        indexes = [models.Index(fields=["project", "content_key"], name="tombstone_content")]

    def __str__(self) -> str:
        return f"tombstone of item {self.item_id} (project {self.project_id})"


class RetentionRun(models.Model):
    """One run of a project's retention rules (governance.retention.services.retention_run): the rules
    as they were, what went (or would go, in a dry run) by rule, and what could not, with a reason."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    rules = models.JSONField(default=dict)  # settings.retention as the run read it
    # {"raw_media": n, "unreleased_items": n, "drafts": n}: deleted (or that a dry run would delete)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)  # [{"rule", "code", "detail"}]
    actor = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )  # None: the daily schedule
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["running", "done", "failed"]), name="retention_run_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["project", "-started_at"], name="retention_run_project")]

    def __str__(self) -> str:
        return f"retention run {self.pk} of project {self.project_id}"
