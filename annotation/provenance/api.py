"""Thin HTTP adapters for provenance sources: /api/projects/<project_pk>/provenance-sources/."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from core.serializers import StrictInputSerializer
from projects.access import ProjectAction
from projects.api.bases import ProjectScopedViewSet

from ..models import ProvenanceSource
from . import selectors, services
from .terms import KINDS

_TERMS_HELP = (
    "Per kind (docs/GOVERNANCE.md): public {dataset, url, licence (SPDX)}; licensed {licensor, agreement, "
    "licence?}; scraped {crawler, domains [..], period_start, period_end (YYYY-MM-DD), robots "
    "(respected|ignored|not_applicable), opt_out?}; user {legal_basis (GDPR Art. 6: consent, contract, "
    "legal_obligation, vital_interests, public_task, legitimate_interests), notice_url?}; synthetic "
    "{generator, model, prompt_hash? (SHA-256)}; internal {owner}. A wrong term is a 400 whose code "
    "names it: invalid_provenance_<field>."
)


class ProvenanceSourceCreateInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100, help_text="Unique in the project.")
    kind = serializers.CharField(help_text=f"One of {', '.join(KINDS)}.")
    terms = serializers.JSONField(required=False, default=dict, help_text=_TERMS_HELP)
    description = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class ProvenanceSourceUpdateInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    terms = serializers.JSONField(required=False, help_text=_TERMS_HELP)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ProvenanceSourceOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProvenanceSource
        fields = ["id", "name", "kind", "terms", "description", "created_at", "updated_at"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="List the project's provenance sources (where items came from)"),
    retrieve=extend_schema(summary="Read one provenance source"),
    create=extend_schema(
        summary="Add a provenance source: a kind and the terms that kind must state",
        request=ProvenanceSourceCreateInputSerializer,
        responses={201: ProvenanceSourceOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a provenance source's name, terms or description (not its kind)",
        request=ProvenanceSourceUpdateInputSerializer,
        responses=ProvenanceSourceOutputSerializer,
    ),
    destroy=extend_schema(
        summary="Remove a provenance source nothing points at",
        responses={204: OpenApiResponse(description="Removed")},
    ),
)
class ProvenanceSourceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProjectScopedViewSet,
):
    serializer_class = ProvenanceSourceOutputSerializer
    queryset = ProvenanceSource.objects.none()
    pagination_class = None  # a project has a handful of sources
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProvenanceSource.objects.none()
        return selectors.provenance_source_list(project=self._project(ProjectAction.VIEW_ITEMS))

    def create(self, request, *args, **kwargs):
        project = self._project(ProjectAction.IMPORT_DATA)
        payload = ProvenanceSourceCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        source = services.provenance_source_create(
            project=project, actor=request.user, **payload.validated_data
        )
        return Response(self.get_serializer(source).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        project = self._project(ProjectAction.IMPORT_DATA)
        payload = ProvenanceSourceUpdateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        source = services.provenance_source_update(
            project=project, actor=request.user, source_id=int(kwargs["pk"]), **payload.validated_data
        )
        return Response(self.get_serializer(source).data)

    def destroy(self, request, *args, **kwargs):
        project = self._project(ProjectAction.IMPORT_DATA)
        services.provenance_source_delete(project=project, actor=request.user, source_id=int(kwargs["pk"]))
        return Response(status=status.HTTP_204_NO_CONTENT)
