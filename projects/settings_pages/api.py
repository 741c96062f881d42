"""`GET`/`PATCH /api/organisations/<id>/settings/`: who may create projects (admins change it)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.serializers import StrictInputSerializer

from .. import access
from ..access import OrgAction
from ..models import Organisation
from .services import organisation_settings_update


class OrganisationSettingsOutputSerializer(serializers.Serializer):
    project_creators = serializers.ChoiceField(
        choices=Organisation.ProjectCreators.choices,
        help_text="admins: organisation admins only; managers: also whoever manages a project here.",
    )
    can_create_projects = serializers.BooleanField(help_text="Whether you may create projects here.")
    why_not = serializers.CharField(allow_null=True, help_text="Why you may not, in a sentence; else null.")


class OrganisationSettingsInputSerializer(StrictInputSerializer):
    project_creators = serializers.ChoiceField(choices=Organisation.ProjectCreators.choices)


def _body(organisation, user) -> dict:
    refusal = access.project_creation_refusal(user=user, organisation=organisation)
    return {
        "project_creators": organisation.project_creators,
        "can_create_projects": refusal is None,
        "why_not": refusal,
    }


class OrganisationSettingsView(APIView):
    @extend_schema(summary="Read the organisation's settings", responses=OrganisationSettingsOutputSerializer)
    def get(self, request, organisation_pk: int):
        organisation = access.organisation_get_for_user(user=request.user, organisation_id=organisation_pk)
        return Response(_body(organisation, request.user))

    @extend_schema(
        summary="Change who may create projects (organisation admins)",
        request=OrganisationSettingsInputSerializer,
        responses=OrganisationSettingsOutputSerializer,
    )
    def patch(self, request, organisation_pk: int):
        organisation = access.organisation_get_for_user(
            user=request.user, organisation_id=organisation_pk, action=OrgAction.MANAGE_MEMBERS
        )
        payload = OrganisationSettingsInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        organisation = organisation_settings_update(
            organisation=organisation, actor=request.user, **payload.validated_data
        )
        return Response(_body(organisation, request.user))
