"""Thin HTTP adapters for quality: the latest report, history, CSV tables, recompute, gold standards.

Rules live in quality.services; reads in quality.selectors; who may do what in projects.access.
quality.services is imported where it is used: it pulls in numpy/scipy maths that the web process
should not load at startup (cold start memory).
"""

import csv
import io

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.downloads import attachment
from core.exceptions import DomainError
from core.pagination import DefaultPagination
from core.serializers import StrictInputSerializer
from core.spreadsheet import spreadsheet_safe
from projects.access import ProjectAction
from projects.api.bases import ProjectScopedViewSet
from projects.selectors import project_settings_warnings

from . import selectors
from .models import GoldStandard, QualityRun


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = QualityRun
        fields = [
            "id",
            "kind",
            "status",
            "started_at",
            "finished_at",
            "duration_ms",
            "schema_version",
            "seen_at",
            "last_revision_id",
            "annotations",
            "items",
            "methods",
        ]


class StatusSerializer(serializers.Serializer):
    pending = serializers.BooleanField()
    last_run = RunSerializer(allow_null=True)


class GoldSerializer(serializers.ModelSerializer):
    item = serializers.IntegerField(source="item_id", read_only=True)
    schema_version = serializers.IntegerField(source="schema_version.version", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

    class Meta:
        model = GoldStandard
        fields = ["item", "result", "source", "schema_version", "created_by", "created_at", "updated_at"]


class GoldInputSerializer(StrictInputSerializer):
    result = serializers.JSONField(
        help_text="{control name: reference answer}, validated like an annotation."
    )


def _csv(name: str, header: list[str], rows) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    return attachment(response, f"quality-{name}.csv")


def _cell(value):
    """Spreadsheet-safe text (core.spreadsheet): a leading =, +, - or @ would be read as a formula."""
    if value is None:
        return ""
    return spreadsheet_safe(value)


class QualityViewSet(ProjectScopedViewSet):
    """/api/projects/<id>/quality/: the report of the latest run and everything derived from it."""

    serializer_class = StatusSerializer

    @extend_schema(
        summary="The latest quality report: agreement per control, labels, confusion, annotator pairs, "
        "annotators, slices, gold, model evaluation",
        responses={200: OpenApiTypes.OBJECT},
    )
    def list(self, request, project_pk=None):
        project = self._project(ProjectAction.VIEW_QUALITY)
        run = selectors.latest_run(project=project)
        if run is None:
            raise DomainError(
                "no_report",
                "No quality report yet: it is computed after the first annotations.",
                status_code=404,
            )
        # The settings warnings are read now (membership changes move them), not at the run.
        report = {**run.report, "settings_warnings": project_settings_warnings(project=project)}
        return Response(_with_item_keys(project, report, viewer=request.user))

    @extend_schema(
        summary="Agreement over time: one point per run and control", responses={200: OpenApiTypes.OBJECT}
    )
    @action(detail=False, methods=["get"])
    def history(self, request, project_pk=None):
        project = self._project(ProjectAction.VIEW_QUALITY)
        return Response({"points": selectors.history_points(project=project)})

    @extend_schema(
        summary="Whether a recompute is pending, and the last run", responses={200: StatusSerializer}
    )
    @action(detail=False, methods=["get"])
    def status(self, request, project_pk=None):
        project = self._project(ProjectAction.VIEW_QUALITY)
        pending, run = selectors.quality_status(project=project)
        return Response({"pending": pending, "last_run": RunSerializer(run).data if run else None})

    @extend_schema(summary="Recompute everything now (in the worker; refits every model)", request=None)
    @action(detail=False, methods=["post"])
    def recompute(self, request, project_pk=None):
        from . import services

        project = self._project(ProjectAction.MANAGE_WORKFLOW)
        services.quality_request_full(project=project, actor=request.user)
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="A table of the latest report as CSV",
        parameters=[OpenApiParameter("table", str, OpenApiParameter.PATH, enum=sorted(selectors.TABLES))],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def table(self, request, project_pk=None, table=None):  # routed in config/api_urls.py (no slash)
        project = self._project(ProjectAction.VIEW_QUALITY)
        if table not in selectors.TABLES:
            raise DomainError("unknown_table", f"Tables: {', '.join(selectors.TABLES)}.", status_code=404)
        header, rows = selectors.report_table(project=project, name=table, viewer=request.user)
        return _csv(table, header, rows)


def _with_item_keys(project, report: dict, *, viewer) -> dict:
    """Flagged gold items named as people know them (external id or a short key), with their page,
    and their reference answers as `viewer` may see them (personal-data masking)."""
    from django.urls import reverse

    from annotation.items.manager_selectors import item_keys

    gold = report.get("gold")
    if not isinstance(gold, dict) or not gold.get("flagged"):
        return report
    keys = item_keys(project=project, item_ids=[row.get("item_id") for row in gold["flagged"]])
    flagged = [
        {
            **row,
            "item_key": keys.get(row.get("item_id"), f"item {row.get('item_id')}"),
            "item_url": reverse("project-item", args=[project.id, row.get("item_id")]),
        }
        for row in selectors.gold_flagged_for_viewer(project=project, viewer=viewer, flagged=gold["flagged"])
    ]
    return {**report, "gold": {**gold, "flagged": flagged}}


class GoldViewSet(mixins.ListModelMixin, ProjectScopedViewSet):
    """/api/projects/<id>/gold/: gold items and their reference answers (managers)."""

    serializer_class = GoldSerializer
    pagination_class = DefaultPagination
    lookup_field = "item"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # OpenAPI generation
            return GoldStandard.objects.none()
        project = self._project(ProjectAction.MANAGE_WORKFLOW)
        return selectors.gold_list(project=project)

    @extend_schema(summary="List gold items with their reference answers")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Make an item gold with this reference answer (validated against the schema)",
        request=GoldInputSerializer,
        responses={200: GoldSerializer},
    )
    def update(self, request, project_pk=None, item=None):
        from . import services

        project = self._project(ProjectAction.MANAGE_WORKFLOW)
        payload = GoldInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = payload.validated_data["result"]
        gold = services.gold_set(project=project, actor=request.user, item_id=int(item), result=result)
        return Response(GoldSerializer(gold).data)

    @extend_schema(
        summary="Make an item gold with its current consensus answer",
        request=None,
        responses={200: GoldSerializer},
    )
    @action(detail=True, methods=["post"])
    def promote(self, request, project_pk=None, item=None):
        from . import services

        project = self._project(ProjectAction.MANAGE_WORKFLOW)
        gold = services.gold_promote(project=project, actor=request.user, item_id=int(item))
        return Response(GoldSerializer(gold).data)

    @extend_schema(
        summary="Unmark a gold item (its reference answer is deleted)", request=None, responses={204: None}
    )
    def destroy(self, request, project_pk=None, item=None):
        from . import services

        project = self._project(ProjectAction.MANAGE_WORKFLOW)
        services.gold_remove(project=project, actor=request.user, item_id=int(item))
        return Response(status=status.HTTP_204_NO_CONTENT)
