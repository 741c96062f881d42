"""Thin HTTP adapters for items and metadata fields (imports: annotation/imports/api.py)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.response import Response

from core.pagination import DefaultPagination, SafeCursorPagination
from projects.access import ProjectAction
from projects.api.bases import ProjectScopedViewSet as _ProjectScoped  # imports and workflow APIs use it

from ...models import Item, MetadataField
from ...pii.services import pii_search_ensure_allowed
from .. import services as metadata_services
from ..selectors import items as item_selectors
from . import serializers as s


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
            OpenApiParameter(
                "q",
                str,
                description="Words in the item's text, or exactly its external id. 400 search_masked for "
                "a viewer the project shows personal-data placeholders to (a search would reveal them).",
            ),
            OpenApiParameter("split", str),
            OpenApiParameter("source", str),
            OpenApiParameter("consent", str),
            OpenApiParameter("licence", str),
            OpenApiParameter(
                "provenance_kind",
                str,
                description="Kind of the item's provenance source (public, licensed, scraped, user, "
                "synthetic, internal) or none.",
            ),
            OpenApiParameter("provenance_source", int, description="Id of the item's provenance source."),
            OpenApiParameter("import_job", int),
            OpenApiParameter("synthetic", bool),
            OpenApiParameter(
                "personal_data", bool, description="Has an open or confirmed personal-data finding"
            ),
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
        pii_search_ensure_allowed(  # masked viewers: no text search (it would confirm hidden values)
            project=project, viewer=self.request.user, query=self.request.query_params.get("q", "")
        )
        return item_selectors.item_list(project=project, params=self.request.query_params)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):  # personal-data masking (annotation/pii)
            context["project"] = self._project(ProjectAction.VIEW_ITEMS)
            context["viewer"] = self.request.user
        return context

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
