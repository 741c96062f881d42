"""Personal data found in items (annotation/pii/): one row per span, reviewed by managers."""

from django.conf import settings as django_settings
from django.db import models
from django.db.models import F, Q


class PiiFinding(models.Model):
    """A span of an item's data that looks like personal data: `field` is the key path of the string
    in `item.data` (`text`, `turns.0.content`), `start`/`end` are character offsets in it.

    Detection writes `open` findings and never touches reviewed ones; a manager confirms (it is
    personal data) or dismisses (it is not: never masked, never flagged, never found again)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CONFIRMED = "confirmed", "Confirmed"
        DISMISSED = "dismissed", "Dismissed"

    class Confidence(models.TextChoices):
        HIGH = "high", "High (checksum)"
        MEDIUM = "medium", "Medium (format)"
        LOW = "low", "Low (project pattern)"

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    item = models.ForeignKey("annotation.Item", on_delete=models.CASCADE, related_name="pii_findings")
    field = models.CharField(max_length=300)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    type = models.CharField(max_length=32)
    confidence = models.CharField(max_length=10, choices=Confidence.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    reviewed_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item_id", "field", "start"]
        constraints = [
            models.UniqueConstraint(fields=["item", "field", "start", "end"], name="pii_finding_span_unique"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="pii_finding_span_nonempty"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "confirmed", "dismissed"]), name="pii_finding_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(confidence__in=["high", "medium", "low"]), name="pii_finding_confidence_valid"
            ),
        ]
        indexes = [models.Index(fields=["project", "type", "status"], name="pii_finding_project_type")]

    def __str__(self) -> str:
        return f"{self.type} in item {self.item_id} {self.field}[{self.start}:{self.end}] ({self.status})"
