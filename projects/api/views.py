"""Thin HTTP adapters: validate input, ask projects.access, call one service, serialise the result."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.response import Response

from accounts.api.serializers import CredentialsRevokedOutputSerializer
from core.exceptions import DomainError, Forbidden, NotFound
from core.pagination import NewestFirstCursorPagination
from core.params import query_id

from .. import access, selectors, services
from ..access import OrgAction, ProjectAction
from ..models import GuidelineVersion, LabelSchemaVersion, OrganisationMembership, ProjectMembership
from . import serializers as s
from .bases import ProjectScopedViewSet


class OrganisationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Organisations you belong to."""

    serializer_class = s.OrganisationOutputSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.organisation_list_visible_to(user=self.request.user)

    def get_serializer_context(self):
        roles = dict(
            OrganisationMembership.objects.filter(user=self.request.user).values_list(
                "organisation_id", "role"
            )
        )
        return {**super().get_serializer_context(), "roles": roles}

    @extend_schema(
        responses=s.AuditEventOutputSerializer(many=True),
        parameters=[
            OpenApiParameter("action", str, description="Only this action, e.g. project.updated"),
            OpenApiParameter("project", int, description="Only events of this project"),
            OpenApiParameter("actor", str, description="Only events by this username"),
        ],
    )
    @action(
        detail=True, methods=["get"], url_path="audit-events", pagination_class=NewestFirstCursorPagination
    )
    def audit_events(self, request, pk=None):
        """The organisation's audit log, newest first (organisation admins only)."""
        organisation = access.organisation_get_for_user(
            user=request.user, organisation_id=int(pk), action=OrgAction.VIEW_AUDIT_LOG
        )
        events = selectors.audit_event_list(organisation=organisation)
        if value := request.query_params.get("action"):
            events = events.filter(action=value)
        if value := request.query_params.get("project"):
            events = events.filter(project_id=query_id("project", value))
        if value := request.query_params.get("actor"):
            events = events.filter(actor_label=value)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(s.AuditEventOutputSerializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(summary="List the organisation's members"),
    create=extend_schema(
        summary="Add a member (an existing account, or a new one when a password is given)",
        request=s.OrganisationMemberAddInputSerializer,
        responses={201: s.OrganisationMemberOutputSerializer},
    ),
    destroy=extend_schema(summary="Remove a member and their project roles"),
)
class OrganisationMemberViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.OrganisationMemberOutputSerializer
    lookup_value_regex = r"\d+"

    def _organisation(self, action_: OrgAction):
        return access.organisation_get_for_user(
            user=self.request.user, organisation_id=int(self.kwargs["organisation_pk"]), action=action_
        )

    queryset = OrganisationMembership.objects.none()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["show_emails"] = access.can_see_member_emails(
                user=self.request.user, organisation_id=int(self.kwargs["organisation_pk"])
            )
        return context

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OrganisationMembership.objects.none()
        return selectors.organisation_member_list(organisation=self._organisation(OrgAction.VIEW_MEMBERS))

    def create(self, request, *args, **kwargs):
        organisation = self._organisation(OrgAction.MANAGE_MEMBERS)
        payload = s.OrganisationMemberAddInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = services.organisation_member_add(
            organisation=organisation, actor=request.user, **payload.validated_data
        )
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses=CredentialsRevokedOutputSerializer,
        summary="Revoke all of a member's credentials: end every browser session and revoke every API "
        "token (organisation admins)",
    )
    @action(detail=True, methods=["post"], url_path="revoke-credentials")
    def revoke_credentials(self, request, *args, **kwargs):
        organisation = self._organisation(OrgAction.MANAGE_MEMBERS)
        result = services.organisation_member_credentials_revoke(
            organisation=organisation, actor=request.user, membership_id=int(kwargs["pk"])
        )
        return Response(CredentialsRevokedOutputSerializer(result).data)

    @extend_schema(
        request=None,
        responses=s.AccountDeletedOutputSerializer,
        summary="Delete a member's account: personal fields erased, sessions, tokens and memberships "
        "ended, the id kept for release pseudonyms (organisation admins; docs/GOVERNANCE.md)",
    )
    @action(detail=True, methods=["post"], url_path="delete-account")
    def delete_account(self, request, *args, **kwargs):
        organisation = self._organisation(OrgAction.DELETE_ACCOUNTS)
        membership = OrganisationMembership.objects.filter(
            organisation=organisation, pk=int(kwargs["pk"])
        ).first()
        if membership is None:
            raise NotFound()
        result = services.account_delete(actor=request.user, user=membership.user, organisation=organisation)
        return Response(s.AccountDeletedOutputSerializer(result).data)

    def destroy(self, request, *args, **kwargs):
        organisation = self._organisation(OrgAction.MANAGE_MEMBERS)
        services.organisation_member_remove(
            organisation=organisation, actor=request.user, membership_id=int(kwargs["pk"])
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="List projects you can see",
        parameters=[
            OpenApiParameter("archived", bool, description="Include archived projects (default true)")
        ],
    ),
    retrieve=extend_schema(summary="Read a project"),
    create=extend_schema(
        summary="Create a project (organisation admins)",
        request=s.ProjectCreateInputSerializer,
        responses={201: s.ProjectOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a project (managers)",
        request=s.ProjectUpdateInputSerializer,
        responses=s.ProjectOutputSerializer,
    ),
)
class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.ProjectOutputSerializer
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        archived = self.request.query_params.get("archived", "true").lower() != "false"
        return selectors.project_list_visible_to(
            user=self.request.user, include_archived=archived, with_settings_facts=True
        )

    def _project(self, action_: ProjectAction):
        return access.project_get_for_user(
            user=self.request.user, project_id=int(self.kwargs["pk"]), action=action_
        )

    def retrieve(self, request, *args, **kwargs):
        project = get_object_or_404(self.get_queryset(), pk=self._project(ProjectAction.VIEW).pk)
        return Response(self.get_serializer(project).data)

    def create(self, request, *args, **kwargs):
        payload = s.ProjectCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        organisation = access.organisation_get_for_user(
            user=request.user, organisation_id=data.pop("organisation"), action=OrgAction.CREATE_PROJECT
        )
        project = services.project_create(
            organisation=organisation, actor=request.user, settings_=data.pop("settings", None), **data
        )
        return Response(self.get_serializer(project).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        project = self._project(ProjectAction.UPDATE)
        payload = s.ProjectUpdateInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if "settings" in data:  # a JSON merge patch (RFC 7396) on the stored settings
            data["settings_patch"] = data.pop("settings")
        project = services.project_update(project=project, actor=request.user, **data)
        return Response(self.get_serializer(project).data)

    @extend_schema(
        summary="Create a project from a Label Studio config (organisation admins)",
        request=s.ProjectFromLabelStudioInputSerializer,
        responses={201: s.ProjectFromLabelStudioOutputSerializer},
    )
    @action(detail=False, methods=["post"], url_path="from-labelstudio")
    def from_labelstudio(self, request):
        """The config becomes schema version 1; what it cannot express is listed in `untranslated`
        with a reason. A config that cannot be read is a 400 `invalid_labelstudio_config` (with a
        `reason`) and nothing is created."""
        payload = s.ProjectFromLabelStudioInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        organisation = access.organisation_get_for_user(
            user=request.user, organisation_id=data.pop("organisation"), action=OrgAction.CREATE_PROJECT
        )
        project, version, untranslated = services.project_create_from_labelstudio(
            organisation=organisation, actor=request.user, settings_=data.pop("settings", None), **data
        )
        body = {
            "project": self.get_serializer(project).data,
            "schema_version": version.version,
            "schema": version.definition,
            "untranslated": untranslated,
        }
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Preview the label schema of a Label Studio config (nothing is created)",
        request=s.LabelStudioPreviewInputSerializer,
        responses=s.LabelStudioPreviewOutputSerializer,
    )
    @action(detail=False, methods=["post"], url_path="from-labelstudio/preview")
    def from_labelstudio_preview(self, request):
        """Same permission and the same translation as creating; writes nothing."""
        payload = s.LabelStudioPreviewInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        access.organisation_get_for_user(
            user=request.user,
            organisation_id=payload.validated_data["organisation"],
            action=OrgAction.CREATE_PROJECT,
        )
        definition, untranslated = services.labelstudio_schema_preview(
            labelstudio_config=payload.validated_data["labelstudio_config"]
        )
        return Response({"schema": definition, "untranslated": untranslated})

    @extend_schema(request=None, responses=s.ProjectOutputSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        """Archive the project: it becomes read-only. Idempotent."""
        project = services.project_archive(project=self._project(ProjectAction.ARCHIVE), actor=request.user)
        return Response(self.get_serializer(project).data)

    @extend_schema(request=None, responses=s.ProjectOutputSerializer)
    @action(detail=True, methods=["post"])
    def unarchive(self, request, pk=None):
        """Make an archived project writable again. Idempotent."""
        project = services.project_unarchive(project=self._project(ProjectAction.ARCHIVE), actor=request.user)
        return Response(self.get_serializer(project).data)


class _ProjectChildViewSet(ProjectScopedViewSet):
    lookup_value_regex = "[^/.]+"  # DRF's default, as these routes always had


@extend_schema_view(
    list=extend_schema(summary="List the project's members"),
    create=extend_schema(
        summary="Give an organisation member a role in the project",
        request=s.ProjectMemberAddInputSerializer,
        responses={201: s.ProjectMemberOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a member's role",
        request=s.ProjectMemberUpdateInputSerializer,
        responses=s.ProjectMemberOutputSerializer,
    ),
    destroy=extend_schema(summary="Remove a member from the project"),
)
class ProjectMemberViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    _ProjectChildViewSet,
):
    serializer_class = s.ProjectMemberOutputSerializer
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    queryset = ProjectMembership.objects.none()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            try:
                self._project(ProjectAction.VIEW_MEMBER_EMAILS)
            except (NotFound, Forbidden):
                context["show_emails"] = False
            else:
                context["show_emails"] = True
        return context

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProjectMembership.objects.none()
        return selectors.project_member_list(project=self._project(ProjectAction.VIEW_MEMBERS))

    def create(self, request, *args, **kwargs):
        project = self._project(ProjectAction.MANAGE_MEMBERS)
        payload = s.ProjectMemberAddInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = services.project_member_add(
            project=project, actor=request.user, **payload.validated_data
        )
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        project = self._project(ProjectAction.MANAGE_MEMBERS)
        payload = s.ProjectMemberUpdateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = services.project_member_change_role(
            project=project, actor=request.user, membership_id=int(kwargs["pk"]), **payload.validated_data
        )
        return Response(self.get_serializer(membership).data)

    def destroy(self, request, *args, **kwargs):
        project = self._project(ProjectAction.MANAGE_MEMBERS)
        services.project_member_remove(project=project, actor=request.user, membership_id=int(kwargs["pk"]))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Set a member's labeling quota, groups and gold rate",
        request=s.MemberWorkflowInputSerializer,
        responses=s.ProjectMemberOutputSerializer,
    )
    @action(detail=True, methods=["patch"])
    def workflow(self, request, project_pk=None, pk=None):
        project = self._project(ProjectAction.MANAGE_WORKFLOW)
        payload = s.MemberWorkflowInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = services.project_member_workflow_update(
            project=project, actor=request.user, membership_id=int(pk), **payload.validated_data
        )
        return Response(self.get_serializer(membership).data)

    @extend_schema(
        summary="Pause a member: no new items until resumed (the reason is shown to them)",
        request=s.PauseInputSerializer,
        responses=s.ProjectMemberOutputSerializer,
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, project_pk=None, pk=None):
        project = self._project(ProjectAction.MANAGE_WORKFLOW)
        payload = s.PauseInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = services.project_member_pause(
            project=project,
            actor=request.user,
            membership_id=int(pk),
            reason=payload.validated_data["reason"],
        )
        return Response(self.get_serializer(membership).data)

    @extend_schema(
        summary="Resume (re-qualify) a paused member", request=None, responses=s.ProjectMemberOutputSerializer
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, project_pk=None, pk=None):
        project = self._project(ProjectAction.MANAGE_WORKFLOW)
        membership = services.project_member_resume(
            project=project, actor=request.user, membership_id=int(pk)
        )
        return Response(self.get_serializer(membership).data)


@extend_schema_view(
    list=extend_schema(summary="List label schema versions, newest first"),
    retrieve=extend_schema(summary="Read one label schema version by its number"),
    create=extend_schema(
        summary="Save a new label schema version",
        request=s.SchemaVersionCreateInputSerializer,
        responses={201: s.SchemaVersionOutputSerializer},
    ),
)
class SchemaVersionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _ProjectChildViewSet
):
    serializer_class = s.SchemaVersionOutputSerializer
    lookup_field = "version"
    lookup_value_regex = r"\d+"

    queryset = LabelSchemaVersion.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LabelSchemaVersion.objects.none()
        return selectors.schema_version_list(project=self._project(ProjectAction.VIEW_SCHEMA))

    def create(self, request, *args, **kwargs):
        project = self._project(ProjectAction.EDIT_SCHEMA)
        payload = s.SchemaVersionCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = services.schema_version_create(
            project=project, actor=request.user, **payload.validated_data
        )
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Migrate labels (rename, merge, split, delete): a new version; affected items re-reviewed",
        request=s.LabelMigrationInputSerializer,
        responses={201: s.LabelMigrationOutputSerializer},
    )
    @action(detail=False, methods=["post"])
    def migrate(self, request, project_pk=None):
        project = self._project(ProjectAction.EDIT_SCHEMA)
        payload = s.LabelMigrationInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        migration = services.schema_labels_migrate(
            project=project, actor=request.user, **payload.validated_data
        )
        migration.refresh_from_db()  # re_review is filled in after commit (in-process in embedded mode)
        return Response(s.LabelMigrationOutputSerializer(migration).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="List guideline versions, newest first"),
    retrieve=extend_schema(summary="Read one guideline version by its number"),
    create=extend_schema(
        summary="Save a new guideline version",
        request=s.GuidelineVersionCreateInputSerializer,
        responses={201: s.GuidelineVersionOutputSerializer},
    ),
)
class GuidelineVersionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _ProjectChildViewSet
):
    serializer_class = s.GuidelineVersionOutputSerializer
    lookup_field = "version"
    lookup_value_regex = r"\d+"

    queryset = GuidelineVersion.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return GuidelineVersion.objects.none()
        return selectors.guideline_version_list(project=self._project(ProjectAction.VIEW_GUIDELINES))

    def create(self, request, *args, **kwargs):
        project = self._project(ProjectAction.EDIT_GUIDELINES)
        payload = s.GuidelineVersionCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = services.guideline_version_create(
            project=project, actor=request.user, **payload.validated_data
        )
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Acknowledge that you read this (the newest) guideline version",
        request=None,
        responses={200: s.AcknowledgementOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, project_pk=None, version=None):
        project = self._project(ProjectAction.VIEW_GUIDELINES)
        ack = services.guideline_acknowledge(project=project, user=request.user, version=int(version))
        return Response(s.AcknowledgementOutputSerializer(ack).data)


@extend_schema(
    request=s.AccountDeleteInputSerializer,
    responses=s.AccountDeletedOutputSerializer,
    summary="Delete your own account (confirm with your password; docs/GOVERNANCE.md)",
)
@api_view(["POST"])
def account_delete_own(request):
    payload = s.AccountDeleteInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    if not request.user.check_password(payload.validated_data["password"]):
        raise DomainError("wrong_password", "That is not your password.")
    return Response(
        s.AccountDeletedOutputSerializer(services.account_delete(actor=request.user, user=request.user)).data
    )
