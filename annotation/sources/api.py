"""Thin HTTP adapters for bucket sources: /api/projects/<project_pk>/bucket-sources/ (serializers and
viewset together). The secret access key is write-only: responses say `has_secret` instead."""

from django.core.cache import cache
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.serializers import StrictInputSerializer
from projects.access import ProjectAction
from projects.api.bases import ProjectScopedViewSet

from ..models import BucketSource
from . import selectors as source_selectors
from . import services as source_services

# --- Serializers ------------------------------------------------------------------------------------

_FIELD_HELP = {
    "name": "Unique in the project.",
    "bucket": "The bucket's name (S3 naming rules).",
    "prefix": 'Only keys starting with this are synced, e.g. "images/2024/"; empty for the whole bucket.',
    "endpoint_url": "Origin of an S3-compatible service (https://...); empty for AWS. Checked by the egress "
    "guard: private and loopback addresses need CORE_EGRESS_ALLOWED_NETWORKS.",
    "region": "e.g. eu-west-1; empty means us-east-1.",
    "access_key_id": "Empty, with an empty secret, for a public bucket (unsigned requests).",
    "secret_access_key": "Write-only: never returned. Omit in a change to keep the stored one (required "
    "again when endpoint_url changes).",
}


class BucketSourceCreateInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100, help_text=_FIELD_HELP["name"])
    bucket = serializers.CharField(max_length=63, help_text=_FIELD_HELP["bucket"])
    prefix = serializers.CharField(
        max_length=1024, default="", allow_blank=True, trim_whitespace=False, help_text=_FIELD_HELP["prefix"]
    )
    endpoint_url = serializers.CharField(
        max_length=500, default="", allow_blank=True, help_text=_FIELD_HELP["endpoint_url"]
    )
    region = serializers.CharField(
        max_length=50, default="", allow_blank=True, help_text=_FIELD_HELP["region"]
    )
    access_key_id = serializers.CharField(
        max_length=200, default="", allow_blank=True, help_text=_FIELD_HELP["access_key_id"]
    )
    secret_access_key = serializers.CharField(
        max_length=500,
        default="",
        allow_blank=True,
        write_only=True,
        style={"input_type": "password"},
        help_text=_FIELD_HELP["secret_access_key"],
    )
    provenance_source = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Id of a provenance source of the project: the items each sync creates are attributed "
        "to it.",
    )


class BucketSourceUpdateInputSerializer(StrictInputSerializer):
    """Only the fields given change."""

    name = serializers.CharField(max_length=100, required=False, help_text=_FIELD_HELP["name"])
    bucket = serializers.CharField(max_length=63, required=False, help_text=_FIELD_HELP["bucket"])
    prefix = serializers.CharField(
        max_length=1024,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=_FIELD_HELP["prefix"],
    )
    endpoint_url = serializers.CharField(
        max_length=500, required=False, allow_blank=True, help_text=_FIELD_HELP["endpoint_url"]
    )
    region = serializers.CharField(
        max_length=50, required=False, allow_blank=True, help_text=_FIELD_HELP["region"]
    )
    access_key_id = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text=_FIELD_HELP["access_key_id"]
    )
    secret_access_key = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        write_only=True,
        style={"input_type": "password"},
        help_text=_FIELD_HELP["secret_access_key"],
    )
    provenance_source = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Id of a provenance source of the project: the items each sync creates are attributed "
        "to it.",
    )


class BucketSyncSkippedSerializer(serializers.Serializer):
    folders = serializers.IntegerField(help_text='Keys ending in "/".')
    empty = serializers.IntegerField(help_text="Objects of 0 bytes.")
    too_large = serializers.IntegerField(help_text="Objects over ANNOTATION_BUCKET_MAX_OBJECT_BYTES.")
    unsupported = serializers.IntegerField(help_text="Extensions that are not image, audio, video or text.")
    invalid_key = serializers.IntegerField(help_text="Keys too long for a reference, or with invalid text.")


class BucketSyncOutcomeSerializer(serializers.Serializer):
    """The last finished sync, from the audit log."""

    status = serializers.ChoiceField(choices=["succeeded", "failed"])
    finished_at = serializers.DateTimeField()
    listed = serializers.IntegerField(help_text="Objects under the prefix that were listed.")
    created = serializers.IntegerField(help_text="New items.")
    existing = serializers.IntegerField(help_text="Objects that already were items (same reference or ETag).")
    skipped = BucketSyncSkippedSerializer()
    code = serializers.CharField(help_text='Why it failed, e.g. "bucket_access_denied"; "" on success.')
    detail = serializers.CharField(help_text="Why it failed, for people; empty on success.")


class BucketSyncProgressSerializer(serializers.Serializer):
    phase = serializers.ChoiceField(choices=["queued", "listing"])
    listed = serializers.IntegerField()
    created = serializers.IntegerField()


class BucketSourceOutputSerializer(serializers.ModelSerializer):
    has_secret = serializers.SerializerMethodField(help_text="Whether a secret access key is stored.")
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    last_sync = serializers.SerializerMethodField()
    sync_progress = serializers.SerializerMethodField()

    class Meta:
        model = BucketSource
        fields = [
            "id", "name", "bucket", "prefix", "endpoint_url", "region", "access_key_id", "has_secret",
            "created_by", "created_at", "updated_at", "last_synced_at", "last_sync_created", "last_sync",
            "sync_progress", "provenance_source",
        ]  # fmt: skip
        read_only_fields = fields

    def get_has_secret(self, source: BucketSource) -> bool:
        return bool(source.secret_access_key)

    @extend_schema_field(BucketSyncOutcomeSerializer(allow_null=True))
    def get_last_sync(self, source: BucketSource):
        return source_selectors.bucket_source_last_sync(source)

    @extend_schema_field(BucketSyncProgressSerializer(allow_null=True))
    def get_sync_progress(self, source: BucketSource):
        return cache.get(source_services.sync_state_key(source.id))


# --- Viewset ----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List the project's bucket sources"),
    retrieve=extend_schema(summary="Read one bucket source: settings, last sync, progress of a running one"),
    create=extend_schema(
        summary="Add an S3 bucket prefix as a source of items (sync it to create them)",
        request=BucketSourceCreateInputSerializer,
        responses={201: BucketSourceOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a bucket source",
        request=BucketSourceUpdateInputSerializer,
        responses=BucketSourceOutputSerializer,
    ),
    destroy=extend_schema(
        summary="Remove a bucket source (its items stay)",
        responses={204: OpenApiResponse(description="Removed")},
    ),
)
class BucketSourceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProjectScopedViewSet,
):
    serializer_class = BucketSourceOutputSerializer
    queryset = BucketSource.objects.none()
    pagination_class = None  # a project has a handful of sources
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _output(self, project, source_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        source = source_selectors.bucket_source_get(project=project, source_id=source_id)
        return Response(self.get_serializer(source).data, status=status_code)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BucketSource.objects.none()
        return source_selectors.bucket_source_list(project=self._project(ProjectAction.VIEW_ITEMS))

    def create(self, request, *args, **kwargs):
        project = self._project(ProjectAction.IMPORT_DATA)
        payload = BucketSourceCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        source = source_services.bucket_source_create(
            project=project, actor=request.user, **payload.validated_data
        )
        return self._output(project, source.id, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        project = self._project(ProjectAction.IMPORT_DATA)
        source = source_selectors.bucket_source_get(project=project, source_id=int(kwargs["pk"]))
        payload = BucketSourceUpdateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        source_services.bucket_source_update(source=source, actor=request.user, **payload.validated_data)
        return self._output(project, source.id)

    def destroy(self, request, *args, **kwargs):
        project = self._project(ProjectAction.IMPORT_DATA)
        source = source_selectors.bucket_source_get(project=project, source_id=int(kwargs["pk"]))
        source_services.bucket_source_delete(source=source, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Sync now: create items for objects added under the prefix since the last sync",
        request=None,
        responses={202: BucketSourceOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def sync(self, request, project_pk=None, pk=None):
        project = self._project(ProjectAction.IMPORT_DATA)
        source = source_selectors.bucket_source_get(project=project, source_id=int(pk))
        source_services.bucket_source_sync_request(source=source, actor=request.user)
        # In embedded mode (no worker) the sync may have run already: answer with what is true now.
        return self._output(project, source.id, status.HTTP_202_ACCEPTED)
