"""`GET /api/projects/<id>/items/<item>/detail/`: everything about one item (the item page's read,
quality.item_page.selectors.item_detail). Thin: access check, then the selector."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from projects import access
from projects.access import ProjectAction

from .selectors import item_detail


class ItemDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Everything about one item: annotations side by side, consensus, predictions, review, gold, "
        "revisions, audit events",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, project_pk: int, item_pk: int):
        project = access.project_get_for_user(
            user=request.user, project_id=project_pk, action=ProjectAction.VIEW_ITEMS
        )
        return Response(item_detail(project=project, item_id=item_pk, user=request.user))
