"""The near-duplicate index: which items detection has seen, and their LSH buckets (annotation/neardup/).

Detection indexes an item once; later runs look new items up here instead of rescanning the project
(docs/NEAR_DUPLICATES.md). Both tables are keyed by item with on_delete=CASCADE, so deleting an item
deletes its entries; code that deletes items with raw SQL calls
annotation.neardup.services.near_duplicate_index_forget first.
"""

from django.db import models


class NearDuplicateIndexed(models.Model):
    """An item detection has seen: an item of the project without a row is "new". `kind` says how it
    was compared: text or image (its buckets are in NearDuplicateBucket), or "" (not compared: media
    other than text or images, or excluded when it was seen). Narrow on purpose: finding the new
    items is an anti-join of the project's items with this table on every run. Signatures are not
    stored: a candidate's MinHash is computed again from its text (deterministic, ~50 us a text)."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        IMAGE = "image", "Image"
        NONE = "", "Not compared"

    item = models.OneToOneField("Item", on_delete=models.CASCADE, primary_key=True, related_name="+")
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, blank=True)

    class Meta:
        indexes = [models.Index(fields=["project", "item"], name="neardup_indexed_project")]

    def __str__(self) -> str:
        return f"near-duplicate index entry of item {self.item_id}"


class NearDuplicateBucket(models.Model):
    """One LSH bucket an indexed item falls in: `bucket` packs (kind, band or table, 32-bit key)
    (annotation.neardup.index). Items sharing a bucket of a project are candidate pairs."""

    # No database constraints (as Item.import_job): a full build writes 16 rows per text, and the
    # deferred per-row foreign-key checks at commit cost more than the build itself (~45 s of 76 s
    # for 100,000 texts). Deleting an item or a project through the ORM still deletes its rows
    # (Django's on_delete); a row left by a raw delete is harmless: a candidate is only compared
    # when its item is still in the project, and a rescan clears the project's rows.
    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    bucket = models.BigIntegerField()
    item = models.ForeignKey("Item", on_delete=models.CASCADE, related_name="+", db_constraint=False)

    class Meta:
        indexes = [models.Index(fields=["project", "bucket"], name="neardup_bucket_lookup")]

    def __str__(self) -> str:
        return f"near-duplicate bucket {self.bucket} of item {self.item_id}"


class NearDuplicateState(models.Model):
    """Coalescing of detection runs (annotation.neardup.scheduling): `pending` while a run is queued
    and has not started; imports in that window enqueue nothing, the queued run covers them."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    pending = models.BooleanField(default=False)
    requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"near-duplicate detection state of project {self.project_id}"
