"""A bulk action of the data manager over items matching a filter: recorded, run set-based by a worker,
with progress (annotation.items.manager_services). Small explicit selections run inline and are
recorded the same way, so the history of bulk changes is one table."""

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Q


class ItemBulkAction(models.Model):
    class Action(models.TextChoices):
        GOLD = "gold", "Mark gold from consensus"
        PRIORITY = "priority", "Set priority"
        POOL = "pool", "Set pool"
        SPLIT = "split", "Set split"
        EXCLUDE = "exclude", "Exclude from labeling"
        REQUEUE = "requeue", "Include again (re-queue)"
        ESCALATE = "escalate", "Escalate to one more annotator"
        CONSENT = "consent", "Set consent"
        LICENCE = "licence", "Set licence"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    value = models.JSONField(null=True, blank=True)  # the priority, pool or split name; null otherwise
    filters = models.JSONField(default=dict, blank=True)  # item_list params, when "all matching"
    item_ids = models.JSONField(default=list, blank=True)  # an explicit selection
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    matched = models.BigIntegerField(default=0)  # items the selection covered
    changed = models.BigIntegerField(default=0)  # items the action changed
    skipped = models.BigIntegerField(default=0)  # items it could not apply to (no consensus, limit)
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "annotation"
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    action__in=[
                        "gold",
                        "priority",
                        "pool",
                        "split",
                        "exclude",
                        "requeue",
                        "escalate",
                        "consent",
                        "licence",
                    ]
                ),
                name="bulk_action_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "succeeded", "failed"]),
                name="bulk_action_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"bulk {self.action} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}
