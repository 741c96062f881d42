"""Thin HTTP adapters for near-duplicate groups: /api/projects/<project_pk>/near-duplicates/.

Reading needs VIEW_ITEMS (managers, reviewers, organisation admins); resolving and starting a
detection need IMPORT_DATA (managers, organisation admins). Serializers and viewset together.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.pagination import DefaultPagination
from core.serializers import StrictInputSerializer
from projects import access
from projects.access import ProjectAction

from ..models import Item, NearDuplicateGroup
from ..pii.services import pii_masked_data
from . import selectors as neardup_selectors
from . import services as neardup_services
from . import tasks  # noqa: F401  (registers the Celery task in web processes)

# --- Serializers ------------------------------------------------------------------------------------


class NearDuplicateMemberOutputSerializer(serializers.ModelSerializer):
    text = serializers.SerializerMethodField(help_text="The item's text, first 200 characters.")
    is_image = serializers.SerializerMethodField()
    media_url = serializers.SerializerMethodField(
        help_text="Where to see the item's media: the item media endpoint when it exists, else the "
        "media reference as imported (a URL); null for items without media."
    )

    class Meta:
        model = Item
        fields = ["id", "external_id", "text", "media_type", "is_image", "media_url", "excluded"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_text(self, item) -> str:
        project, viewer = self.context.get("project"), self.context.get("viewer")
        if project is None:  # built without knowing its reader: masked as for an annotator (fail closed)
            return neardup_selectors.item_preview(pii_masked_data(item=item, viewer=None))
        return neardup_selectors.item_preview(pii_masked_data(item=item, viewer=viewer, project=project))

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_image(self, item) -> bool:
        return item.media_type == "image"

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_media_url(self, item) -> str | None:
        return neardup_selectors.item_media_link(item) or item.media_url or None


class NearDuplicateGroupOutputSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField(help_text="open or resolved")
    resolved_by = serializers.CharField(source="resolved_by.username", default=None, allow_null=True)
    member_count = serializers.IntegerField(help_text="Items in the group.")
    members = NearDuplicateMemberOutputSerializer(
        many=True, read_only=True, help_text=f"The first {neardup_selectors.MEMBERS_SHOWN} items, by id."
    )

    class Meta:
        model = NearDuplicateGroup
        fields = [
            "id",
            "kind",
            "similarity",
            "status",
            "resolution",
            "kept_item",
            "resolved_by",
            "resolved_at",
            "created_at",
            "member_count",
            "members",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=neardup_selectors.STATUSES))
    def get_status(self, group) -> str:
        return "open" if group.resolution == NearDuplicateGroup.Resolution.OPEN else "resolved"


class NearDuplicateResolveInputSerializer(StrictInputSerializer):
    resolution = serializers.ChoiceField(
        choices=[NearDuplicateGroup.Resolution.KEPT_ALL, NearDuplicateGroup.Resolution.KEPT_ONE],
        help_text="kept_all: not duplicates, every member stays. kept_one: keep `kept_item`, exclude the "
        "other members from labeling and releases (nothing is deleted).",
    )
    kept_item = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="The member to keep; required with kept_one, not allowed with kept_all.",
    )


class NearDuplicateDetectInputSerializer(serializers.Serializer):
    full = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Rebuild the project's near-duplicate index from all its items (a maintenance "
        "rescan) instead of indexing only the items added since the last run.",
    )


class NearDuplicateDetectOutputSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='"queued": detection runs in the background.')


class NearDuplicateGroupPagination(DefaultPagination):
    page_size = 20


# --- Viewset ----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List near-duplicate groups, newest first, with their members",
        parameters=[OpenApiParameter("status", str, enum=list(neardup_selectors.STATUSES))],
    ),
    retrieve=extend_schema(summary="Read one near-duplicate group with its members"),
)
class NearDuplicateGroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = NearDuplicateGroupOutputSerializer
    pagination_class = NearDuplicateGroupPagination
    queryset = NearDuplicateGroup.objects.none()
    lookup_value_regex = r"\d+"

    def _project(self, action_: ProjectAction):
        return access.project_get_for_user(
            user=self.request.user, project_id=int(self.kwargs["project_pk"]), action=action_
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return NearDuplicateGroup.objects.none()
        project = self._viewed = self._project(ProjectAction.VIEW_ITEMS)
        status_ = self.request.query_params.get("status") if self.action == "list" else None
        return neardup_selectors.near_duplicate_group_list(project=project, status=status_)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):  # personal-data masking (annotation/pii)
            context["project"] = getattr(self, "_viewed", None) or self._project(ProjectAction.VIEW_ITEMS)
            context["viewer"] = self.request.user
        return context

    @extend_schema(
        summary="Resolve a group: keep all (not duplicates) or keep one and exclude the others",
        request=NearDuplicateResolveInputSerializer,
        responses=NearDuplicateGroupOutputSerializer,
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, project_pk=None, pk=None):
        project = self._project(ProjectAction.IMPORT_DATA)
        payload = NearDuplicateResolveInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        group = neardup_services.near_duplicate_resolve(
            project=project,
            actor=request.user,
            group_id=int(pk),
            resolution=payload.validated_data["resolution"],
            kept_item_id=payload.validated_data.get("kept_item"),
        )
        group = neardup_selectors.near_duplicate_group_list(project=project).get(pk=group.pk)
        return Response(self.get_serializer(group).data)

    @extend_schema(
        summary="Look for near duplicates now (runs in the background)",
        request=NearDuplicateDetectInputSerializer,
        responses={202: NearDuplicateDetectOutputSerializer},
    )
    @action(detail=False, methods=["post"])
    def detect(self, request, project_pk=None):
        project = self._project(ProjectAction.IMPORT_DATA)
        payload = NearDuplicateDetectInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        neardup_services.near_duplicates_detect_request(
            project=project, actor=request.user, full=payload.validated_data["full"]
        )
        return Response({"status": "queued"}, status=status.HTTP_202_ACCEPTED)
