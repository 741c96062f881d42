"""Thin HTTP adapters for personal-data findings: /api/projects/<project_pk>/pii-findings/.

Everything here needs MANAGE_PERSONAL_DATA (managers, organisation admins): the findings point at
raw values. Serializers and viewset together.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.pagination import DefaultPagination
from core.serializers import StrictInputSerializer
from projects import access
from projects.access import ProjectAction

from ..models import PiiFinding
from . import selectors as pii_selectors
from . import services as pii_services
from . import tasks  # noqa: F401  (registers the Celery task in web processes)


class PiiFindingOutputSerializer(serializers.ModelSerializer):
    reviewed_by = serializers.CharField(source="reviewed_by.username", default=None, allow_null=True)
    value = serializers.SerializerMethodField(help_text="The text at field[start:end] (raw: managers only).")

    class Meta:
        model = PiiFinding
        fields = [
            "id",
            "item",
            "field",
            "start",
            "end",
            "type",
            "confidence",
            "status",
            "value",
            "reviewed_by",
            "reviewed_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_value(self, finding) -> str | None:
        node = finding.item.data
        for key in finding.field.split("."):
            try:
                node = node[int(key)] if isinstance(node, list) else node[key]
            except (KeyError, IndexError, ValueError, TypeError):
                return None
        return node[finding.start : finding.end] if isinstance(node, str) else None


class PiiFindingReviewInputSerializer(StrictInputSerializer):
    status = serializers.ChoiceField(
        choices=PiiFinding.Status.choices,
        help_text="confirmed: personal data (masked, flagged). dismissed: not personal data (never masked "
        "or found again). open: undo a review.",
    )


class PiiTypeCountSerializer(serializers.Serializer):
    type = serializers.CharField()
    open = serializers.IntegerField()
    confirmed = serializers.IntegerField()
    dismissed = serializers.IntegerField()
    items = serializers.IntegerField(help_text="Items with an open or confirmed finding of this type.")


class PiiSummarySerializer(serializers.Serializer):
    types = PiiTypeCountSerializer(many=True)
    items_with_personal_data = serializers.IntegerField()


class PiiDetectOutputSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='"queued": detection runs in the background.')


class PiiFindingPagination(DefaultPagination):
    page_size = 100


@extend_schema_view(
    list=extend_schema(
        summary="List personal-data findings (filter by item, type, status)",
        parameters=[
            OpenApiParameter("item", int),
            OpenApiParameter("type", str),
            OpenApiParameter("status", str, enum=list(PiiFinding.Status.values)),
        ],
    ),
    retrieve=extend_schema(summary="Read one personal-data finding"),
)
class PiiFindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PiiFindingOutputSerializer
    pagination_class = PiiFindingPagination
    queryset = PiiFinding.objects.none()
    lookup_value_regex = r"\d+"

    def _project(self):
        return access.project_get_for_user(
            user=self.request.user,
            project_id=int(self.kwargs["project_pk"]),
            action=ProjectAction.MANAGE_PERSONAL_DATA,
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PiiFinding.objects.none()
        project = self._project()
        params = self.request.query_params if self.action == "list" else {}
        return pii_selectors.pii_finding_list(
            project=project, item=params.get("item"), type_=params.get("type"), status=params.get("status")
        )

    @extend_schema(
        summary="Confirm or dismiss a finding (or reopen it)",
        request=PiiFindingReviewInputSerializer,
        responses=PiiFindingOutputSerializer,
    )
    @action(detail=True, methods=["post"])
    def review(self, request, project_pk=None, pk=None):
        project = self._project()
        payload = PiiFindingReviewInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        finding = pii_services.pii_finding_review(
            project=project, actor=request.user, finding_id=int(pk), status=payload.validated_data["status"]
        )
        return Response(
            self.get_serializer(pii_selectors.pii_finding_list(project=project).get(pk=finding.pk)).data
        )

    @extend_schema(
        summary="Counts of findings per type, and items with personal data", responses=PiiSummarySerializer
    )
    @action(detail=False, methods=["get"])
    def summary(self, request, project_pk=None):
        return Response(pii_selectors.pii_counts(project=self._project()))

    @extend_schema(
        summary="Scan the project's items for personal data now (runs in the background)",
        request=None,
        responses={202: PiiDetectOutputSerializer},
    )
    @action(detail=False, methods=["post"])
    def detect(self, request, project_pk=None):
        pii_services.pii_detect_request(project=self._project(), actor=request.user)
        return Response({"status": "queued"}, status=status.HTTP_202_ACCEPTED)
