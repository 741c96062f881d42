"""Thin HTTP adapters for import jobs: upload, list, read, the error report."""

from django.core.cache import cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.downloads import attachment
from core.exceptions import NotFound
from core.parsers import MultiPartParser
from core.serializers import StrictInputSerializer
from core.streaming import file_stream_response, is_asgi
from projects.access import ProjectAction

from ..items.api.views import _ProjectScoped
from ..items.selectors import items as item_selectors
from ..models import ImportJob, Item
from .formats import FORMATS
from .media import MEDIA_FORMATS
from .services import jobs as import_services


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
            "provenance_source",
            "received", "created", "duplicates", "rejected", "error_count", "error_sample",
            "error_report_url", "label_counts",
            "detail", "progress", "created_by", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ImportProgressSerializer(allow_null=True))
    def get_progress(self, job):
        if job.is_finished:
            return None
        from .services.jobs import progress_key

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
    provenance_source = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Id of one of the project's provenance sources (/provenance-sources/): every item of the "
        "import is attributed to it, and each release writes its kind and terms into the item's lineage.",
    )


@extend_schema_view(
    list=extend_schema(summary="List import jobs, newest first"),
    retrieve=extend_schema(summary="Read an import job: status, counts, live progress, first errors"),
)
class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ProjectScoped):
    serializer_class = ImportJobOutputSerializer
    queryset = ImportJob.objects.none()
    parser_classes = [MultiPartParser]  # uploads stream to a temporary file, never into memory

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ImportJob.objects.none()
        return item_selectors.import_job_list(project=self._project(ProjectAction.VIEW_ITEMS))

    @extend_schema(
        summary="Upload a file to import (multipart/form-data)",
        request={"multipart/form-data": ImportJobCreateInputSerializer},
        responses={202: ImportJobOutputSerializer},
    )
    def create(self, request, *args, **kwargs):
        project = self._project(ProjectAction.IMPORT_DATA)
        payload = ImportJobCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        upload = data.pop("file")
        job = import_services.import_job_create(
            project=project,
            actor=request.user,
            upload=upload,
            format=data.pop("format", ""),
            mode=data.pop("mode"),
            provenance_source_id=data.pop("provenance_source", None),
            defaults=data,
        )
        job.refresh_from_db()  # in embedded mode the job may have run already
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Download the error report (CSV: line, field, reason)",
        responses={(200, "text/csv"): OpenApiResponse(response=OpenApiTypes.BINARY)},
    )
    @action(detail=True, methods=["get"])
    def errors(self, request, project_pk=None, pk=None):
        job = self.get_object()
        if not job.error_report:
            raise NotFound("This import has no errors.")
        response = file_stream_response(
            job.error_report.open("rb"), content_type="text/csv", asgi=is_asgi(request)
        )
        return attachment(response, f"import-{job.id}-errors.csv")
