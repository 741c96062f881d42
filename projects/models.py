"""Organisations, projects, memberships and the versioned label schemas and guidelines."""

import json

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Q

from core.models import TimestampedModel


class Organisation(TimestampedModel):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganisationMembership(TimestampedModel):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="org_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="org_member_unique"),
            models.CheckConstraint(condition=Q(role__in=["admin", "member"]), name="org_member_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation} ({self.role})"


class Project(TimestampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    overlap = models.PositiveSmallIntegerField(default=1)  # annotators per item (issue "Labeling workflow")
    settings = models.JSONField(default=dict, blank=True)  # knobs later issues read; validated by services
    archived_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="project_name_unique_in_org"),
            models.CheckConstraint(condition=Q(overlap__gte=1), name="project_overlap_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class ProjectMembership(TimestampedModel):
    class Role(models.TextChoices):
        MANAGER = "manager", "Manager"
        REVIEWER = "reviewer", "Reviewer"
        ANNOTATOR = "annotator", "Annotator"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    # Labeling workflow knobs per person (projects.services.project_member_workflow_update):
    quota = models.PositiveIntegerField(
        null=True, blank=True
    )  # most items this person annotates; None: no cap
    groups = models.JSONField(default=list, blank=True)  # named groups, for items assigned to a group
    gold_rate = models.FloatField(null=True, blank=True)  # overrides the project's gold rate for this person
    paused_at = models.DateTimeField(null=True, blank=True)  # paused annotators get no new items
    paused_reason = models.CharField(max_length=500, blank=True)
    # Set by the quality app (projects.services.project_member_quality_update): new and low-scoring
    # annotators get gold items more often; gold answers before `qualified_at` (the last re-qualification)
    # no longer count toward pausing.
    gold_boost = models.FloatField(default=1.0, db_default=1.0)
    qualified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project_id", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="project_member_unique"),
            models.CheckConstraint(
                condition=Q(role__in=["manager", "reviewer", "annotator"]), name="project_member_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(gold_rate__isnull=True) | Q(gold_rate__gte=0, gold_rate__lte=1),
                name="project_member_gold_rate_unit",
            ),
            models.CheckConstraint(
                condition=Q(gold_boost__gte=1, gold_boost__lte=10), name="project_member_gold_boost_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.role})"


class LabelSchemaVersion(models.Model):
    """One immutable version of a project's label schema. An edit is a new row with version + 1."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="schema_versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    note = models.CharField(max_length=500, blank=True)  # what changed, in the author's words
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="schema_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="schema_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.project} schema v{self.version}"

    @property
    def definition_json(self) -> str:
        """The definition as indented JSON, the format the schema form accepts (for display and copying)."""
        return json.dumps(self.definition, indent=2, ensure_ascii=False)


class GuidelineVersion(models.Model):
    """One immutable version of a project's annotation guidelines (Markdown)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="guideline_versions")
    version = models.PositiveIntegerField()
    body = models.TextField()
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="guideline_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="guideline_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.project} guidelines v{self.version}"


class GuidelineAcknowledgement(models.Model):
    """A person confirmed they read a guideline version. Annotators acknowledge the newest version
    before their next item (annotation.workflow.services.labeling)."""

    guideline_version = models.ForeignKey(GuidelineVersion, on_delete=models.CASCADE, related_name="acks")
    user = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["guideline_version", "user"], name="guideline_ack_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.guideline_version}"


class LabelMigration(models.Model):
    """Label operations (rename, merge, split, delete) that made schema version `to_version` from
    `from_version`. Annotations keep the version they were made under; affected ones go to re-review."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="label_migrations")
    from_version = models.ForeignKey(LabelSchemaVersion, on_delete=models.PROTECT, related_name="+")
    to_version = models.OneToOneField(LabelSchemaVersion, on_delete=models.PROTECT, related_name="migration")
    operations = (
        models.JSONField()
    )  # [{"op": "rename", "control": "sentiment", "from": "pos", "to": "positive"}]
    re_review = models.BigIntegerField(
        default=0
    )  # items sent back to review, filled in by the annotation app
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"label migration to {self.to_version}"


class ProjectStats(models.Model):
    """Counters recomputed in the background (projects.services.project_stats_refresh).

    Later issues add item, annotation and quality counters here; pages read one row per project
    instead of counting on every request.
    """

    project = models.OneToOneField(Project, on_delete=models.CASCADE, primary_key=True, related_name="stats")
    members = models.PositiveIntegerField(default=0)
    managers = models.PositiveIntegerField(default=0)
    reviewers = models.PositiveIntegerField(default=0)
    annotators = models.PositiveIntegerField(default=0)
    schema_versions = models.PositiveIntegerField(default=0)
    guideline_versions = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"stats of {self.project_id}"

    def as_dict(self) -> dict[str, int]:
        return {
            "members": self.members,
            "managers": self.managers,
            "reviewers": self.reviewers,
            "annotators": self.annotators,
            "schema_versions": self.schema_versions,
            "guideline_versions": self.guideline_versions,
        }
