from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from .. import services
from ..models import ApiToken
from . import serializers as s


@extend_schema(responses=s.MeOutputSerializer, summary="Who am I")
@api_view(["GET"])
def me(request):
    return Response(s.MeOutputSerializer(request.user).data)


@extend_schema_view(
    list=extend_schema(summary="List your API tokens (active and revoked)"),
    create=extend_schema(
        summary="Create an API token; its key is in this response only",
        request=s.ApiTokenCreateInputSerializer,
        responses={201: s.ApiTokenCreatedOutputSerializer},
    ),
    destroy=extend_schema(summary="Revoke a token (idempotent); it stays listed as revoked"),
)
class ApiTokenViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.ApiTokenOutputSerializer
    pagination_class = None
    queryset = ApiToken.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user)

    def create(self, request, *args, **kwargs):
        payload = s.ApiTokenCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        token, key = services.api_token_create(user=request.user, **payload.validated_data)
        token.key = key
        return Response(s.ApiTokenCreatedOutputSerializer(token).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.api_token_revoke(user=request.user, token_id=int(kwargs["pk"]))
        return Response(status=status.HTTP_204_NO_CONTENT)
