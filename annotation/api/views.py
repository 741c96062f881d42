"""Thin HTTP adapters for imports, items and metadata fields (splits: annotation/api/splits.py)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.downloads import attachment
from core.exceptions import NotFound
from core.pagination import DefaultPagination, SafeCursorPagination
from core.parsers import MultiPartParser
from core.streaming import file_stream_response, is_asgi
from projects.access import ProjectAction
from projects.api.bases import ProjectScopedViewSet as _ProjectScoped  # annotation.api.workflow imports it

from ..models import ImportJob, Item, MetadataField
from ..selectors import items as item_selectors
from ..services import imports as import_services
from ..services import metadata as metadata_services
from . import serializers as s


@extend_schema_view(
    list=extend_schema(summary="List import jobs, newest first"),
    retrieve=extend_schema(summary="Read an import job: status, counts, live progress, first errors"),
)
class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ProjectScoped):
    serializer_class = s.ImportJobOutputSerializer
    queryset = ImportJob.objects.none()
    parser_classes = [MultiPartParser]  # uploads stream to a temporary file, never into memory

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ImportJob.objects.none()
        return item_selectors.import_job_list(project=self._project(ProjectAction.VIEW_ITEMS))

    @extend_schema(
        summary="Upload a file to import (multipart/form-data)",
        request={"multipart/form-data": s.ImportJobCreateInputSerializer},
        responses={202: s.ImportJobOutputSerializer},
    )
    def create(self, request, *args, **kwargs):
        project = self._project(ProjectAction.IMPORT_DATA)
        payload = s.ImportJobCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        upload = data.pop("file")
        job = import_services.import_job_create(
            project=project,
            actor=request.user,
            upload=upload,
            format=data.pop("format", ""),
            mode=data.pop("mode"),
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


class ItemCursorPagination(SafeCursorPagination):
    """Keyset paging for the item list: constant time at any depth, no COUNT(*)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_ordering(self, request, queryset, view):
        return tuple(queryset.query.order_by)


@extend_schema_view(
    list=extend_schema(
        summary="List items with filters and search",
        parameters=[
            OpenApiParameter("q", str, description="Words in the item's text"),
            OpenApiParameter("split", str),
            OpenApiParameter("source", str),
            OpenApiParameter("consent", str),
            OpenApiParameter("licence", str),
            OpenApiParameter("import_job", int),
            OpenApiParameter("synthetic", bool),
            OpenApiParameter("meta.<key>", str, description="Metadata equals; also meta.<key>__gte / __lte"),
            OpenApiParameter(
                "ordering", str, description="id, -id, created_at, -created_at, meta.<key>, -meta.<key>"
            ),
        ],
    ),
    retrieve=extend_schema(summary="Read one item"),
)
class ItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ProjectScoped):
    serializer_class = s.ItemOutputSerializer
    queryset = Item.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Item.objects.none()
        project = self._project(ProjectAction.VIEW_ITEMS)
        if self.action == "retrieve":
            return Item.objects.filter(project=project)
        return item_selectors.item_list(project=project, params=self.request.query_params)

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            ordering = (self.request.query_params.get("ordering") or "id").lstrip("-")
            self._paginator = (
                ItemCursorPagination() if ordering in {"id", "created_at"} else DefaultPagination()
            )
        return self._paginator


@extend_schema_view(
    list=extend_schema(summary="List the project's metadata fields and their types"),
    partial_update=extend_schema(
        summary="Change a metadata field's type",
        request=s.MetadataFieldUpdateInputSerializer,
        responses=s.MetadataFieldOutputSerializer,
    ),
)
class MetadataFieldViewSet(mixins.ListModelMixin, mixins.UpdateModelMixin, _ProjectScoped):
    serializer_class = s.MetadataFieldOutputSerializer
    queryset = MetadataField.objects.none()
    pagination_class = None
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MetadataField.objects.none()
        return item_selectors.metadata_field_list(project=self._project(ProjectAction.VIEW_ITEMS))

    def update(self, request, *args, **kwargs):
        project = self._project(ProjectAction.IMPORT_DATA)
        payload = s.MetadataFieldUpdateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        field = metadata_services.metadata_field_update(
            project=project, actor=request.user, field_id=int(kwargs["pk"]), **payload.validated_data
        )
        return Response(self.get_serializer(field).data)
