"""/api/projects/<id>/erasures/: erase items, a data subject or a source (docs/GOVERNANCE.md#erasure).
Thin: the rules are governance.erasure.services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from core.exceptions import DomainError
from core.pagination import DefaultPagination
from core.serializers import StrictInputSerializer
from projects.access import ProjectAction
from projects.api.bases import ProjectScopedViewSet

from .erasure import services
from .erasure.selectors import erasure_list
from .models import Erasure


class ErasureInputSerializer(StrictInputSerializer):
    scope = serializers.ChoiceField(
        choices=["item", "subject", "source"],
        help_text="item: the items in item_ids; subject: every item whose metadata `key` equals `value`; "
        "source: every item of one import job or bucket source.",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Why (required; kept, audited)."
    )
    dry_run = serializers.BooleanField(default=False, help_text="List what would go; change nothing.")
    item_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    key = serializers.CharField(required=False, max_length=100, help_text="A metadata key (scope subject)")
    value = serializers.JSONField(required=False, help_text="The data subject's value of `key`")
    import_job = serializers.IntegerField(required=False, min_value=1, help_text="scope source")
    bucket_source = serializers.IntegerField(required=False, min_value=1, help_text="scope source")


class ErasureReleaseSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    erased_items = serializers.IntegerField()
    successor = serializers.IntegerField(allow_null=True, help_text="The successor's number (null: dry run)")


class ErasureResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    scope = serializers.CharField()
    items = serializers.IntegerField(help_text="Items erased (or that would be)")
    already_erased = serializers.IntegerField(help_text="Asked for, but erased before (idempotent)")
    deleted = serializers.DictField(child=serializers.IntegerField(), help_text="What went, by kind")
    releases = ErasureReleaseSerializer(many=True, help_text="Published releases withdrawn")
    erasure_id = serializers.IntegerField(allow_null=True)


class ErasureOutputSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = Erasure
        fields = [
            "id",
            "scope",
            "detail",
            "reason",
            "actor",
            "items",
            "already_erased",
            "deleted",
            "releases",
        ]
        fields += ["created_at"]
        read_only_fields = fields


class ErasureViewSet(ProjectScopedViewSet):
    """/api/projects/<id>/erasures/ (organisation admins)"""

    serializer_class = ErasureOutputSerializer
    pagination_class = DefaultPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Erasure.objects.none()
        return erasure_list(project=self._project(ProjectAction.ERASE))

    @extend_schema(summary="The project's erasures, newest first (no content: counts, reasons, hashes)")
    def list(self, request, project_pk=None):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ErasureOutputSerializer(page, many=True).data)

    @extend_schema(
        summary="Erase items, a data subject or a source (dry_run lists what would go first)",
        request=ErasureInputSerializer,
        responses={200: ErasureResultSerializer},
    )
    def create(self, request, project_pk=None):
        project = self._project(ProjectAction.ERASE)
        payload = ErasureInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        common = {
            "project": project,
            "reason": data.get("reason", ""),
            "actor": request.user,
            "dry_run": data["dry_run"],
        }
        scope = data["scope"]
        if scope == "item":
            if not data.get("item_ids"):
                raise DomainError("invalid_item_ids", "scope item needs item_ids (a non-empty list).")
            result = services.erase_items(item_ids=data["item_ids"], **common)
        elif scope == "subject":
            if "key" not in data or "value" not in data:
                raise DomainError("invalid_subject", "scope subject needs a metadata key and value.")
            result = services.erase_data_subject(key=data["key"], value=data["value"], **common)
        else:
            result = services.erase_source(
                import_job_id=data.get("import_job"), bucket_source_id=data.get("bucket_source"), **common
            )
        return Response(ErasureResultSerializer(result.as_dict()).data, status=status.HTTP_200_OK)
