"""Releases: immutable, numbered snapshots of a project's labelled items (docs/RELEASES.md).

A Release row is created `building`; the build job writes every file under the row's
`storage_prefix` in default_storage and then publishes by flipping the row to `published` (with its
ReleaseFile rows and manifest) in one transaction. Files of a release that is not published are
never served. Published releases never change: no service updates them, and the check constraints
below hold the published state together.
"""

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Q

# Letters, digits and -_. ; starts with a letter or digit, so "." and ".." are impossible.
RELEASE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class Release(models.Model):
    class Status(models.TextChoices):
        BUILDING = "building", "Building"
        PUBLISHED = "published", "Published"
        FAILED = "failed", "Failed"

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="releases")
    number = models.PositiveIntegerField()  # 1, 2, ... per project
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BUILDING)
    filter = models.JSONField(default=dict, blank=True)  # normalised by exports.services.release_create
    formats = models.JSONField(default=list)  # names from exports.formats.FORMATS, sorted
    include_raw = models.BooleanField(default=False)
    include_media = models.BooleanField(default=True, db_default=True)  # copy stored media into the release
    # What the manifest, croissant.json and DATASHEET.md say of the release as a whole (set at creation).
    licence = models.CharField(max_length=200, blank=True)  # an SPDX licence expression; "" = not stated
    languages = models.JSONField(default=list, blank=True)  # BCP 47 tags, e.g. ["en", "pt-BR"]
    intended_uses = models.TextField(blank=True)
    limitations = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)  # of the current (last) build attempt
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)  # build attempts started
    records_total = models.BigIntegerField(default=0)  # items matching the filter (set when known)
    records_done = models.BigIntegerField(default=0)  # records written (final count once published)
    error = models.CharField(max_length=1000, blank=True)  # why the last attempt failed, for people
    manifest = models.JSONField(null=True, blank=True)  # the signed manifest.json, once published
    storage_prefix = models.CharField(max_length=300, blank=True)  # "releases/<project>/<number>/a<n>/"
    # Erasure (docs/GOVERNANCE.md#erasure). The ids of the items the release holds, written at publish
    # (exports.itemset: sorted, delta-coded, zlib; a million ids are a few kilobytes), so an erasure
    # finds the releases that hold an item without reading their files.
    item_ids = models.BinaryField(null=True, blank=True)
    # A published release that held erased items is withdrawn: its files are deleted, downloads answer
    # 410 `release_erased` naming its successor, and the row keeps the count (never which items).
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    erased_items = models.PositiveIntegerField(default=0, db_default=0)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A successor names what it supersedes and why: [{"number", "name", "reason", "erased_items"}];
    # carried into its manifest (no content, no external ids of the erased items).
    supersedes = models.JSONField(default=list, blank=True, db_default=[])

    class Meta:
        ordering = ["project_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="release_number_unique"),
            models.UniqueConstraint(fields=["project", "name"], name="release_name_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="release_number_positive"),
            models.CheckConstraint(condition=Q(name__regex=RELEASE_NAME_PATTERN), name="release_name_safe"),
            models.CheckConstraint(
                condition=Q(status__in=["building", "published", "failed"]), name="release_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="published")
                | (Q(published_at__isnull=False) & Q(manifest__isnull=False) & ~Q(storage_prefix="")),
                name="release_published_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"release {self.number} ({self.name}) of project {self.project_id}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class ReleaseFile(models.Model):
    """One file of a published release (manifest.json included), as hashed when it was written."""

    id = models.BigAutoField(primary_key=True)
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=500)  # relative POSIX path inside the release
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()

    class Meta:
        ordering = ["release_id", "path"]
        constraints = [
            models.UniqueConstraint(fields=["release", "path"], name="release_file_unique"),
            models.CheckConstraint(condition=Q(size__gte=0), name="release_file_size"),
            models.CheckConstraint(
                condition=~Q(path__startswith="/") & ~Q(path__contains="..") & ~Q(path__contains="\\"),
                name="release_file_path_relative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.path} of release {self.release_id}"


class ReleaseReproduction(models.Model):
    """One rebuild of a published release from the database, compared file by file with what was
    published (exports.services.release_reproduce_request / release_reproduce_run)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.BigAutoField(primary_key=True)
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="reproductions")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    identical = models.BooleanField(null=True)  # once done: every file byte-identical
    # once done: [{"path", "expected": {"sha256", "size"} | null, "actual": {...} | null}], by path
    differences = models.JSONField(default=list, blank=True)
    files = models.PositiveIntegerField(default=0)  # files compared (manifest.json included)
    error = models.CharField(max_length=1000, blank=True)
    requested_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["release_id", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]),
                name="release_reproduction_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(identical__isnull=False), name="release_reproduction_done"
            ),
        ]

    def __str__(self) -> str:
        return f"reproduction {self.id} of release {self.release_id}"


class ErasureGeneration(models.Model):
    """How many erasures a project has seen (bumped by exports.services.erasure in each erasure's
    transaction). A build remembers the value its snapshot read; if it is unchanged at publish time no
    item can have been erased meanwhile, and the build publishes without checking its items one by one."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    generation = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"erasure generation {self.generation} of project {self.project_id}"
