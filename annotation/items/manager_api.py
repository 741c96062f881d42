"""Thin HTTP adapters of the data manager: bulk actions and the export of a selection (the item
detail, `GET /api/projects/<id>/items/<item>/detail/`, is quality's: quality/item_page/api.py).

- `POST /api/projects/<id>/items-bulk/`: {"action", "value"?, "item_ids" | "filters"}; 200 with the
  finished action for a selection, 202 with the queued one for "all matching the filter".
- `GET  /api/projects/<id>/items-bulk/` and `/items-bulk/<bulk id>/`: bulk actions and their progress.
- `GET  /api/projects/<id>/items-export/?ids=1,2` or `?<filters>`: the selection as JSON Lines.
"""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.downloads import attachment
from core.exceptions import DomainError
from core.pagination import DefaultPagination
from core.serializers import StrictInputSerializer
from projects import access
from projects.access import ProjectAction

from ..models import Item
from .api.views import _ProjectScoped
from .manager_models import ItemBulkAction
from .manager_selectors import item_filter, items_export_lines
from .manager_services import ALLOWED_FILTERS, INLINE_MAX, bulk_action_request

EXPORT_MAX_IDS = 10_000


class BulkActionSerializer(serializers.ModelSerializer):
    # A plain string: the same four statuses as import jobs would collide in the OpenAPI enum names.
    status = serializers.CharField(read_only=True, help_text="queued, running, succeeded or failed")

    class Meta:
        model = ItemBulkAction
        fields = [
            "id", "action", "value", "filters", "item_ids", "status", "matched", "changed", "skipped",
            "detail", "created_at", "finished_at",
        ]  # fmt: skip


class BulkActionInputSerializer(StrictInputSerializer):
    action = serializers.ChoiceField(choices=ItemBulkAction.Action.choices)
    value = serializers.JSONField(required=False, allow_null=True)
    item_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=INLINE_MAX, required=False
    )
    filters = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)


class ItemBulkActionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ProjectScoped):
    serializer_class = BulkActionSerializer
    pagination_class = DefaultPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ItemBulkAction.objects.none()
        project = self._project(ProjectAction.MANAGE_WORKFLOW)
        return ItemBulkAction.objects.filter(project=project).order_by("-id")

    @extend_schema(summary="Bulk actions on items, newest first, with their progress")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One bulk action and its progress")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Apply a bulk action to selected items (inline) or to all items matching a filter (a worker)",
        request=BulkActionInputSerializer,
        responses={200: BulkActionSerializer, 202: BulkActionSerializer},
    )
    def create(self, request, project_pk=None):
        project = self._project(ProjectAction.MANAGE_WORKFLOW)
        payload = BulkActionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        bulk = bulk_action_request(
            project=project,
            actor=request.user,
            action=data["action"],
            value=data.get("value"),
            item_ids=data.get("item_ids"),
            filters=data.get("filters"),
        )
        queued = bulk.status == ItemBulkAction.Status.QUEUED
        if queued:
            bulk.refresh_from_db()  # in embedded mode the worker may have run already
        return Response(
            BulkActionSerializer(bulk).data, status=status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK
        )


def selection_queryset(project, params):
    """`ids=1,2,3` (an explicit selection) or the item filters in `params`."""
    raw_ids = params.get("ids", "")
    if raw_ids:
        parts = [p for p in raw_ids.split(",") if p]
        if len(parts) > EXPORT_MAX_IDS or not all(p.isdecimal() for p in parts):
            raise DomainError(
                "invalid_selection", f"ids is up to {EXPORT_MAX_IDS:,} item ids, comma separated."
            )
        return Item.objects.filter(project=project, pk__in=[int(p) for p in parts])
    filters = {k: v for k, v in params.items() if k in ALLOWED_FILTERS or k.startswith("meta.")}
    return item_filter(project=project, params=filters)


class ItemExportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Export selected items (ids=1,2,3) or all items matching the filters, as JSON Lines",
        parameters=[OpenApiParameter("ids", str, description="Comma-separated item ids")],
        responses={(200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR)},
    )
    def get(self, request, project_pk: int):
        project = access.project_get_for_user(
            user=request.user, project_id=project_pk, action=ProjectAction.MANAGE_WORKFLOW
        )
        items = selection_queryset(project, request.query_params)
        response = StreamingHttpResponse(
            items_export_lines(project=project, items=items), content_type="application/x-ndjson"
        )
        return attachment(response, f"project-{project.id}-items.jsonl")
