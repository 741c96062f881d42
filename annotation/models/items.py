"""Items (the unit of labeling), how they arrived (import jobs, bucket sources), their typed metadata,
near-duplicate groups and splits. The labeling workflow's models are in workflow.py."""

from django.conf import settings as django_settings
from django.db import models
from django.db.models import F, Q

from core.models import TimestampedModel


class ImportJob(TimestampedModel):
    """One upload being turned into items. All or nothing unless `mode` says otherwise."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", "All or nothing"
        VALID_ROWS = "valid_rows", "Import valid rows, report the rest"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    format = models.CharField(max_length=20)  # jsonl, json, csv, tsv, text, labelstudio, media, zip
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=300)
    original_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)  # of the uploaded file
    defaults = models.JSONField(default=dict, blank=True)  # licence, consent, synthetic, generator
    # Provenance (#18): the source its items are attributed to (annotation/provenance/).
    provenance_source = models.ForeignKey(
        "annotation.ProvenanceSource", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received = models.BigIntegerField(default=0)  # records read from the file
    created = models.BigIntegerField(default=0)
    duplicates = models.BigIntegerField(default=0)  # skipped: same content or external_id
    rejected = models.BigIntegerField(default=0)  # records with errors
    error_count = models.BigIntegerField(default=0)
    error_sample = models.JSONField(default=list, blank=True)  # the first errors, for the page and API
    error_report = models.FileField(upload_to="import-errors/%Y/%m/", max_length=300, blank=True)
    detail = models.CharField(max_length=500, blank=True)  # why it failed, for people
    # Label Studio tasks: {"annotations": {"imported", "cancelled", "rejected", "duplicates"},
    # "predictions": {"imported", "rejected", "duplicates"}, "annotators": n}; {} for other formats.
    label_counts = models.JSONField(default=dict, blank=True, db_default={})
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "succeeded", "failed"]),
                name="import_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(mode__in=["all_or_nothing", "valid_rows"]), name="import_mode_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"import #{self.pk} {self.original_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}


class NearDuplicateGroup(models.Model):
    """Items that are almost the same (MinHash/LSH for text, perceptual hash for images).

    Flagged, never deleted: a manager reviews the group and keeps all of them (not duplicates) or
    keeps one and excludes the others from labeling and releases.
    """

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        IMAGE = "image", "Image"

    class Resolution(models.TextChoices):
        OPEN = "", "Open"
        KEPT_ALL = "kept_all", "Not duplicates: keep all"
        KEPT_ONE = "kept_one", "Keep one, exclude the rest"

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="near_duplicate_groups"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    similarity = models.FloatField()  # the lowest estimated similarity between two members (0..1)
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True, default="")
    kept_item = models.ForeignKey("Item", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "resolution"], name="neardup_project_open")]

    def __str__(self) -> str:
        return f"near-duplicate group {self.pk} ({self.kind})"


class BucketSource(TimestampedModel):
    """An S3 (or S3-compatible) bucket prefix whose new objects become items on each sync."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="bucket_sources")
    name = models.CharField(max_length=100)
    bucket = models.CharField(max_length=255)
    prefix = models.CharField(max_length=1024, blank=True)
    endpoint_url = models.CharField(max_length=500, blank=True)  # empty: AWS; checked by the egress guard
    region = models.CharField(max_length=50, blank=True)
    access_key_id = models.CharField(max_length=200, blank=True)
    secret_access_key = models.CharField(max_length=500, blank=True)  # never returned by the API
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_created = models.BigIntegerField(default=0)
    # Provenance (#18): the source its items are attributed to (annotation/provenance/).
    provenance_source = models.ForeignKey(
        "annotation.ProvenanceSource", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="bucket_source_name_unique")]

    def __str__(self) -> str:
        return f"{self.name} (s3://{self.bucket}/{self.prefix})"


class ImportedAnnotator(models.Model):
    """A person who annotated elsewhere (a Label Studio `completed_by`), brought in with their annotations.

    Pseudonymous: the account has an unusable password and is inactive (nobody signs in as it), its
    username says it was imported, and the Label Studio email is never stored.
    """

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    user = models.OneToOneField(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="imported_annotator"
    )
    source = models.CharField(max_length=20, default="labelstudio")
    external_ref = models.CharField(max_length=100)  # the Label Studio user id
    import_job = models.ForeignKey(ImportJob, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "source", "external_ref"], name="imported_annotator_unique"
            )
        ]

    def __str__(self) -> str:
        return f"imported annotator {self.source}:{self.external_ref} of project {self.project_id}"


class Item(models.Model):
    """One thing to label: its data, its metadata and where it came from. Content never changes."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "Upload"
        URL = "url", "URL"
        BUCKET = "bucket", "Bucket"
        API = "api", "API"

    class Consent(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        GRANTED = "granted", "Granted"
        NOT_REQUIRED = "not_required", "Not required"
        WITHDRAWN = "withdrawn", "Withdrawn"

    id = models.BigAutoField(primary_key=True)
    # Indexes are few on purpose: every index costs time on million-row imports. (project, id) serves
    # the keyset-paged list; the two unique constraints serve deduplication. See docs/DATA.md.
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="items", db_index=False
    )
    external_id = models.CharField(max_length=255, null=True, blank=True)
    data = models.JSONField()  # {"text": ...}, several fields, a conversation, a prompt with candidates, ...
    meta = models.JSONField(default=dict, blank=True)  # typed by MetadataField
    content_hash = models.CharField(max_length=64)  # SHA-256 of the normalised data: the exact-dedup key
    checksum = models.CharField(max_length=64)  # SHA-256 of the data as received (canonical JSON)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.UPLOAD)
    source_ref = models.CharField(max_length=500, blank=True)  # "file.jsonl:12", a URL, s3://bucket/key
    # No database constraint: import jobs are never deleted (only with their project), and a per-row
    # foreign-key check costs seconds on a million-row import.
    import_job = models.ForeignKey(
        ImportJob,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="items",
        db_constraint=False,
        db_index=False,
    )
    # Provenance (#18): like import_job, no database constraint and no index (a per-row check costs
    # on million-row imports; the loader writes one constant per import). Sources are never deleted
    # while items point at them (annotation/provenance/services.py).
    provenance_source = models.ForeignKey(
        "annotation.ProvenanceSource",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="items",
        db_constraint=False,
        db_index=False,
    )
    licence = models.CharField(max_length=100, blank=True)
    consent = models.CharField(max_length=20, choices=Consent.choices, default=Consent.UNKNOWN)
    synthetic = models.BooleanField(default=False)
    generator = models.CharField(max_length=200, blank=True)  # which model or tool made a synthetic item
    split = models.CharField(max_length=50, blank=True)
    search_text = models.TextField(blank=True)  # the item's text, lower-cased, for search
    predictions = models.JSONField(default=list, blank=True)  # Label Studio predictions as received (raw)
    # Media: a stored file (uploads, ZIP members) or a reference (http(s) URL, s3://bucket/key).
    # db_default: the bulk loader's INSERT ... SELECT names only the columns it fills.
    media = models.FileField(upload_to="media/%Y/%m/", blank=True, max_length=500, db_default="")
    media_url = models.CharField(max_length=2000, blank=True, db_default="")
    media_type = models.CharField(max_length=20, blank=True, db_default="")  # image, audio, video, text
    media_bytes = models.BigIntegerField(null=True, blank=True)
    # Set when a retention rule deleted the stored media file (governance.retention): the item and its
    # labels stay; the item page and releases say the media was removed instead of failing to read it.
    media_removed_at = models.DateTimeField(null=True, blank=True)
    image_hash = models.BigIntegerField(null=True, blank=True)  # 64-bit dHash, for near-duplicate images
    near_duplicate_group = models.ForeignKey(
        NearDuplicateGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
        db_constraint=False,
        db_index=False,
    )
    excluded = models.BooleanField(default=False, db_default=False)  # a resolved near-duplicate: not labeled
    created_at = models.DateTimeField(auto_now_add=True)

    # --- Labeling workflow (workflow.services.labeling). Counters are changed only under the item's
    # row lock; the check constraints below make over-annotation impossible even for a buggy caller.
    class State(models.TextChoices):
        OPEN = "open", "Open"  # slots left to annotate
        IN_REVIEW = "in_review", "In review"
        CORRECTION = "correction", "In correction"
        COMPLETED = "completed", "Completed"

    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN, db_default="open")
    target = models.PositiveSmallIntegerField(
        default=1, db_default=1
    )  # annotations wanted: overlap + escalation
    leased = models.PositiveSmallIntegerField(default=0, db_default=0)  # live leases holding a slot
    done = models.PositiveSmallIntegerField(default=0, db_default=0)  # submitted annotations
    extra = models.PositiveSmallIntegerField(default=0, db_default=0)  # annotators added by escalation
    priority = models.IntegerField(default=0, db_default=0)  # higher first
    rank = models.FloatField(default=0.0, db_default=0.0)  # order within a priority (project ordering mode)
    pool = models.CharField(
        max_length=100, blank=True, default="", db_default=""
    )  # "" everyone, a group, @user
    is_gold = models.BooleanField(default=False, db_default=False)  # a gold item: served at the gold rate
    state_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "content_hash"], name="item_content_unique"),
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=Q(external_id__isnull=False),
                name="item_external_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(consent__in=["unknown", "granted", "not_required", "withdrawn"]),
                name="item_consent_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["upload", "url", "bucket", "api"]), name="item_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "in_review", "correction", "completed"]),
                name="item_state_valid",
            ),
            models.CheckConstraint(condition=Q(target__gte=1), name="item_target_positive"),
            # The overlap rule itself: leases plus submissions never exceed the target.
            models.CheckConstraint(
                condition=Q(leased__lte=F("target") - F("done")), name="item_slots_within_target"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "id"], name="item_project_id"),
            # The annotator queue: open items with a free slot, in serving order (see docs/WORKFLOW.md).
            models.Index(
                F("project"),
                F("priority").desc(),
                F("rank"),
                F("id"),
                condition=Q(state="open", excluded=False, is_gold=False, leased__lt=F("target") - F("done")),
                name="item_queue",
            ),
            models.Index(
                F("project"),
                F("priority").desc(),
                F("id"),
                condition=Q(state="in_review"),
                name="item_review_queue",
            ),
            models.Index(fields=["project", "id"], condition=Q(is_gold=True), name="item_gold"),
            models.Index(
                fields=["near_duplicate_group"],
                condition=Q(near_duplicate_group__isnull=False),
                name="item_near_duplicate_group",
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.pk} of project {self.project_id}"


class MetadataField(models.Model):
    """The type of one metadata key in a project: inferred at import, editable by managers."""

    class Type(models.TextChoices):
        STRING = "string", "Text"
        NUMBER = "number", "Number"
        BOOLEAN = "boolean", "Yes/no"
        DATE = "date", "Date"
        CATEGORY = "category", "Category"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="metadata_fields")
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=20, choices=Type.choices)
    inferred = models.BooleanField(default=True)  # False once a manager set the type
    categories = models.JSONField(default=list, blank=True)  # the values seen, for category fields

    class Meta:
        ordering = ["project_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="metadata_field_unique"),
            models.CheckConstraint(
                condition=Q(type__in=["string", "number", "boolean", "date", "category"]),
                name="metadata_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"


class SplitOperation(models.Model):
    """A recorded assignment of a project's items to named splits (train/validation/test, ...)."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="split_operations")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    ratios = models.JSONField()  # {"train": 0.8, "validation": 0.1, "test": 0.1}
    stratify_by = models.CharField(max_length=100, blank=True)  # a metadata field
    group_by = models.CharField(max_length=100, blank=True)  # a metadata field; a group never spans splits
    seed = models.BigIntegerField()
    only_unassigned = models.BooleanField(default=False)

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    counts = models.JSONField(default=dict)  # {"train": 800, ...}, as assigned
    # Large projects are split by a worker: queued until it ran (annotation.splits.services).
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUCCEEDED)
    detail = models.CharField(max_length=500, blank=True)  # why a queued split failed
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"split #{self.pk} of project {self.project_id}"
