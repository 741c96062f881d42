"""Thin HTTP adapters for items' consent and licence (services: annotation/items/consent.py).

- `GET/PATCH /api/projects/<id>/items/<item>/governance/`: {"consent"?, "licence"?}; the item's values
  and its change history (who, when, old -> new).
- `POST /api/projects/<id>/items-governance-csv/`: a CSV of ids (id, external_id or key) with consent
  and/or licence columns (multipart `file`; `dry_run=true` checks only); every row applied or reported.
- In bulk by ids or by filter: `POST /api/projects/<id>/items-bulk/` with action "consent" or "licence".
"""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import NotFound
from core.parsers import MultiPartParser
from core.serializers import StrictInputSerializer
from projects import access
from projects.access import ProjectAction

from ..models import Item
from .consent import item_governance_history, item_governance_set, items_governance_csv


class GovernanceInputSerializer(StrictInputSerializer):
    consent = serializers.CharField(required=False, help_text="unknown, granted, not_required or withdrawn")
    licence = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text='An SPDX expression (CC-BY-4.0, MIT OR Apache-2.0); "" = unknown',
    )


class HistorySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    by = serializers.CharField()
    action = serializers.CharField(help_text="item.consent_changed or item.licence_changed")
    changes = serializers.DictField(help_text='{"consent": [old, new]}')


class GovernanceOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    consent = serializers.CharField()
    licence = serializers.CharField()
    can_edit = serializers.BooleanField()
    history = HistorySerializer(many=True)


class CsvInputSerializer(StrictInputSerializer):
    file = serializers.FileField(help_text="CSV: id | external_id | key, and consent and/or licence")
    dry_run = serializers.BooleanField(required=False, default=False)


CsvReportSerializer = inline_serializer(
    "ItemGovernanceCsvReport",
    {
        "rows": serializers.IntegerField(),
        "changed": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
        "rejected": serializers.IntegerField(),
        "errors": serializers.ListField(child=serializers.DictField(), help_text="{row, id, code, detail}"),
    },
)


def _payload(request, project, item: Item) -> dict:
    return {
        "id": item.id,
        "consent": item.consent,
        "licence": item.licence,
        "can_edit": access.can_do_in_project(
            user=request.user, project=project, action=ProjectAction.MANAGE_CONSENT
        ),
        "history": item_governance_history(project=project, item_id=item.id),
    }


class ItemGovernanceView(APIView):
    @extend_schema(
        summary="An item's consent, licence and their change history", responses=GovernanceOutputSerializer
    )
    def get(self, request, project_pk: int, item_pk: int):
        project = access.project_get_for_user(
            user=request.user, project_id=project_pk, action=ProjectAction.VIEW_ITEMS
        )
        item = Item.objects.filter(project=project, pk=item_pk).first()
        if item is None:
            raise NotFound()
        return Response(GovernanceOutputSerializer(_payload(request, project, item)).data)

    @extend_schema(
        summary="Change an item's consent and/or licence (audited; the same value again changes nothing)",
        request=GovernanceInputSerializer,
        responses=GovernanceOutputSerializer,
    )
    def patch(self, request, project_pk: int, item_pk: int):
        project = access.project_get_for_user(
            user=request.user, project_id=project_pk, action=ProjectAction.VIEW_ITEMS
        )
        payload = GovernanceInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        item = item_governance_set(
            project=project, actor=request.user, item_id=item_pk, **payload.validated_data
        )
        return Response(GovernanceOutputSerializer(_payload(request, project, item)).data)


class ItemGovernanceCsvView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Set consent and/or licence from a CSV of item ids; every row applied or reported",
        request={"multipart/form-data": CsvInputSerializer},
        responses=CsvReportSerializer,
    )
    def post(self, request, project_pk: int):
        project = access.project_get_for_user(
            user=request.user, project_id=project_pk, action=ProjectAction.VIEW_ITEMS
        )
        payload = CsvInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        report = items_governance_csv(
            project=project,
            actor=request.user,
            content=upload.read(),
            dry_run=payload.validated_data["dry_run"],
        )
        return Response(report.as_dict())
