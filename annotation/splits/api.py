"""Thin HTTP adapters for splits: /api/projects/<project_pk>/splits/ (serializers and viewset together)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.serializers import StrictInputSerializer
from projects import access
from projects.access import ProjectAction

from ..models import SplitOperation
from . import selectors as split_selectors
from . import services as split_services

# --- Serializers ------------------------------------------------------------------------------------


class SplitCreateInputSerializer(StrictInputSerializer):
    """Put the project's items in splits by ratio, optionally stratified and grouped by metadata fields."""

    ratios = serializers.DictField(
        child=serializers.FloatField(),
        allow_empty=False,
        help_text='Split name -> share of the items, adding up to 1, e.g. {"train": 0.8, "validation": 0.1, '
        '"test": 0.1}. Names: 1-50 letters, digits, "_" or "-"; at most 20 splits.',
    )
    seed = serializers.IntegerField(
        min_value=0,
        max_value=split_services.SEED_LIMIT - 1,
        required=False,
        allow_null=True,
        help_text="Omit for a random seed; the seed used is recorded, and repeating a split with it on the "
        "same items gives the same assignment.",
    )
    stratify_by = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="A metadata field: the ratios then hold within each of its values.",
    )
    group_by = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="A metadata field: items sharing a value always land in the same split "
        "(counts become approximate).",
    )
    only_unassigned = serializers.BooleanField(
        required=False, default=False, help_text="Split only items without a split; leave the others alone."
    )


class SplitOperationOutputSerializer(serializers.ModelSerializer):
    ratios = serializers.DictField(child=serializers.FloatField())
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Items this operation put in each split."
    )
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    class Meta:
        model = SplitOperation
        fields = [
            "id",
            "ratios",
            "stratify_by",
            "group_by",
            "seed",
            "only_unassigned",
            "counts",
            "status",
            "detail",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class SplitSummaryOutputSerializer(serializers.Serializer):
    """How the project's items are split right now (later imports and edits included)."""

    counts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='Items per split right now; "" counts the items without a split.',
    )
    total = serializers.IntegerField(help_text="Items in the project.")


# --- Viewset ----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List the project's split operations, newest first"),
    retrieve=extend_schema(summary="Read one split operation"),
    create=extend_schema(
        summary="Assign the project's items to splits (train/validation/test or your own names)",
        request=SplitCreateInputSerializer,
        responses={201: SplitOperationOutputSerializer, 202: SplitOperationOutputSerializer},
    ),
)
class SplitOperationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = SplitOperationOutputSerializer
    lookup_value_regex = r"\d+"

    queryset = SplitOperation.objects.none()

    def _project(self, action_: ProjectAction):
        return access.project_get_for_user(
            user=self.request.user, project_id=int(self.kwargs["project_pk"]), action=action_
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SplitOperation.objects.none()
        return split_selectors.split_operation_list(project=self._project(ProjectAction.VIEW_ITEMS))

    def create(self, request, *args, **kwargs):
        project = self._project(ProjectAction.IMPORT_DATA)
        payload = SplitCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        operation = split_services.split_request(
            project=project, actor=request.user, **payload.validated_data
        )
        if operation.status == SplitOperation.Status.QUEUED:
            operation.refresh_from_db()  # in embedded mode it may have run already
        queued = operation.status == SplitOperation.Status.QUEUED
        return Response(
            self.get_serializer(operation).data,
            status=status.HTTP_202_ACCEPTED if queued else status.HTTP_201_CREATED,
        )

    @extend_schema(summary="Count the project's items per split now", responses=SplitSummaryOutputSerializer)
    @action(detail=False, methods=["get"], pagination_class=None)
    def summary(self, request, *args, **kwargs):
        counts = split_selectors.split_counts(project=self._project(ProjectAction.VIEW_ITEMS))
        body = {"counts": counts, "total": sum(counts.values())}
        return Response(SplitSummaryOutputSerializer(body).data)
