"""`GET /api/project-templates/` (the gallery) and `POST /api/projects/from-template/`."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.serializers import StrictInputSerializer

from .. import access
from ..access import OrgAction
from ..api.serializers import ProjectOutputSerializer
from .catalogue import templates
from .services import project_create_from_template


class ProjectTemplateOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    media = serializers.CharField(help_text="text, llm, image, audio or video")
    overlap = serializers.IntegerField()
    settings = serializers.DictField(help_text="Project settings the template starts with.")
    schema = serializers.DictField(help_text="The label schema (version 1 of the new project).")
    guidelines = serializers.CharField(help_text="Markdown: version 1 of the guidelines.")
    example_item = serializers.DictField(required=False, help_text="The shape of one item to import.")


class ProjectFromTemplateInputSerializer(StrictInputSerializer):
    organisation = serializers.IntegerField(min_value=1)
    template = serializers.CharField(max_length=100, help_text="A key from GET /api/project-templates/.")
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ProjectTemplateListView(APIView):
    @extend_schema(
        summary="List the project templates (schema, guidelines skeleton and settings each)",
        responses=ProjectTemplateOutputSerializer(many=True),
    )
    def get(self, request):
        return Response(ProjectTemplateOutputSerializer(templates(), many=True).data)


class ProjectFromTemplateView(APIView):
    @extend_schema(
        summary="Create a project from a template (who may: the organisation's project_creators setting)",
        request=ProjectFromTemplateInputSerializer,
        responses={201: ProjectOutputSerializer},
    )
    def post(self, request):
        """The project gets the template's overlap and settings, schema version 1 and guidelines
        version 1. An unknown template is 400 `unknown_template`; nothing is created."""
        payload = ProjectFromTemplateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        organisation = access.organisation_get_for_user(
            user=request.user, organisation_id=data.pop("organisation"), action=OrgAction.CREATE_PROJECT
        )
        project = project_create_from_template(organisation=organisation, actor=request.user, **data)
        return Response(ProjectOutputSerializer(project).data, status=status.HTTP_201_CREATED)
