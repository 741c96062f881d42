"""/api/projects/<id>/retention/: the rules' preview (what the next run would delete), the runs, and a
run on demand (dry or real). Thin: the rules are governance.retention.services
(docs/GOVERNANCE.md#retention). Rules themselves are project settings: PATCH /api/projects/<id>/ with
{"settings": {"retention": {...}}}."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.pagination import DefaultPagination
from core.serializers import StrictInputSerializer
from projects.access import ProjectAction
from projects.api.bases import ProjectScopedViewSet

from .models import RetentionRun
from .retention import services
from .retention.selectors import retention_run_list


class RetentionRulesSerializer(serializers.Serializer):
    raw_media_days = serializers.IntegerField(allow_null=True)
    unreleased_items_days = serializers.IntegerField(allow_null=True)
    drafts_days = serializers.IntegerField(allow_null=True)


class RetentionErrorSerializer(serializers.Serializer):
    rule = serializers.CharField()
    code = serializers.CharField()
    detail = serializers.CharField()


class RetentionPreviewSerializer(serializers.Serializer):
    rules = RetentionRulesSerializer()
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="By rule: raw_media, unreleased_items, drafts"
    )
    errors = RetentionErrorSerializer(many=True)


class RetentionRunSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)
    rules = RetentionRulesSerializer(read_only=True)
    counts = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    errors = RetentionErrorSerializer(many=True, read_only=True)

    class Meta:
        model = RetentionRun
        fields = [
            "id",
            "dry_run",
            "status",
            "rules",
            "counts",
            "errors",
            "actor",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class RetentionRunInputSerializer(StrictInputSerializer):
    dry_run = serializers.BooleanField(default=True, help_text="Count what would go; change nothing.")


class RetentionRunViewSet(ProjectScopedViewSet):
    """/api/projects/<id>/retention-runs/ (managers)"""

    serializer_class = RetentionRunSerializer
    pagination_class = DefaultPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RetentionRun.objects.none()
        return retention_run_list(project=self._project(ProjectAction.UPDATE))

    @extend_schema(summary="The project's retention runs, newest first (the daily schedule's and on demand)")
    def list(self, request, project_pk=None):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(RetentionRunSerializer(page, many=True).data)

    @extend_schema(
        summary="Run the retention rules now (dry_run, the default, only counts)",
        request=RetentionRunInputSerializer,
        responses={201: RetentionRunSerializer},
    )
    def create(self, request, project_pk=None):
        project = self._project(ProjectAction.UPDATE)
        payload = RetentionRunInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        run = services.retention_run(
            project=project, actor=request.user, dry_run=payload.validated_data["dry_run"]
        )
        return Response(RetentionRunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="What the next run would delete, by rule", responses={200: RetentionPreviewSerializer}
    )
    @action(detail=False, methods=["get"])
    def preview(self, request, project_pk=None):
        project = self._project(ProjectAction.UPDATE)
        return Response(RetentionPreviewSerializer(services.retention_preview(project=project)).data)
