"""Provenance sources (#18): where a project's items came from, with a kind and the terms checked for
that kind (annotation/provenance/terms.py). Items, import jobs and bucket sources point at one."""

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Q

from core.models import TimestampedModel


class ProvenanceSource(TimestampedModel):
    class Kind(models.TextChoices):
        PUBLIC = "public", "Public dataset"
        LICENSED = "licensed", "Licensed from a third party"
        SCRAPED = "scraped", "Crawled or scraped"
        USER = "user", "User data"
        SYNTHETIC = "synthetic", "Synthetic"
        INTERNAL = "internal", "Internal"

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="provenance_sources"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    terms = models.JSONField(default=dict, blank=True)  # per kind: annotation/provenance/terms.py
    description = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="provenance_source_name_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=["public", "licensed", "scraped", "user", "synthetic", "internal"]),
                name="provenance_source_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"
