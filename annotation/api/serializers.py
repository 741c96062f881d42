from django.core.cache import cache
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import StrictInputSerializer

from ..imports.formats import FORMATS
from ..imports.media import MEDIA_FORMATS
from ..models import ImportJob, Item, MetadataField


class ImportProgressSerializer(serializers.Serializer):
    phase = serializers.CharField()
    received = serializers.IntegerField()
    bytes_read = serializers.IntegerField()
    size_bytes = serializers.IntegerField()


class ImportJobOutputSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)
    progress = serializers.SerializerMethodField()
    error_report_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "status", "mode", "format", "original_name", "size_bytes", "sha256", "defaults",
            "received", "created", "duplicates", "rejected", "error_count", "error_sample",
            "error_report_url", "label_counts",
            "detail", "progress", "created_by", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ImportProgressSerializer(allow_null=True))
    def get_progress(self, job):
        if job.is_finished:
            return None
        from ..imports.services.jobs import progress_key

        return cache.get(progress_key(job.id))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error_report_url(self, job):
        if not job.error_report:
            return None
        return f"/api/projects/{job.project_id}/imports/{job.id}/errors/"


class ImportJobCreateInputSerializer(StrictInputSerializer):
    file = serializers.FileField(
        help_text="JSONL, JSON array, CSV, TSV, plain text, Label Studio tasks JSON, one media file "
        "(image, audio, video) or a ZIP of media files with an optional manifest."
    )
    format = serializers.ChoiceField(
        choices=(*FORMATS, *MEDIA_FORMATS),
        required=False,
        help_text="Detected from the file name and its first bytes if omitted.",
    )
    mode = serializers.ChoiceField(choices=ImportJob.Mode.choices, default=ImportJob.Mode.ALL_OR_NOTHING)
    licence = serializers.CharField(max_length=100, required=False, allow_blank=True)
    consent = serializers.ChoiceField(choices=Item.Consent.choices, required=False)
    synthetic = serializers.BooleanField(required=False)
    generator = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ItemOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = [
            "id", "external_id", "data", "meta", "split", "source", "source_ref", "import_job", "licence",
            "consent", "synthetic", "generator", "content_hash", "checksum", "predictions", "created_at",
            "media_type", "media_bytes", "media_src", "state", "target", "done", "leased", "priority", "pool",
            "is_gold", "excluded",
        ]  # fmt: skip
        read_only_fields = fields

    media_src = serializers.SerializerMethodField(
        help_text="Where the browser gets the item's media (GET, permission-checked); null without media."
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_media_src(self, item):
        if not (item.media or item.media_url):
            return None
        return f"/api/projects/{item.project_id}/items/{item.id}/media/"


class MetadataFieldOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = MetadataField
        fields = ["id", "name", "type", "inferred", "categories"]
        read_only_fields = fields


class MetadataFieldUpdateInputSerializer(StrictInputSerializer):
    type = serializers.ChoiceField(choices=MetadataField.Type.choices)
