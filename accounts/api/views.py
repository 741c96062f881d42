from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from core.exceptions import DomainError

from .. import reauth, services
from ..authentication import ApiTokenAuthentication
from ..models import ApiToken
from . import serializers as s


@extend_schema(responses=s.MeOutputSerializer, summary="Who am I")
@api_view(["GET"])
def me(request):
    return Response(s.MeOutputSerializer(request.user).data)


@extend_schema(
    request=s.SignOutEverywhereInputSerializer,
    responses=s.CredentialsRevokedOutputSerializer,
    summary="Sign out everywhere: end every browser session of yours (this one too) and, by default, "
    "revoke every API token",
)
@api_view(["POST"])
def sign_out_everywhere(request):
    payload = s.SignOutEverywhereInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    result = services.user_sign_out_everywhere(user=request.user, **payload.validated_data)
    return Response(s.CredentialsRevokedOutputSerializer(result).data)


@extend_schema_view(
    list=extend_schema(summary="List your API tokens (active and revoked)"),
    create=extend_schema(
        summary="Create an API token; its key is in this response only. Over a browser session it needs "
        "your password (or a confirmation in the last few minutes); an API token cannot create tokens",
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
        if isinstance(request.successful_authenticator, ApiTokenAuthentication):
            # A leaked token must not be able to mint successors that survive its revocation.
            raise DomainError(
                "token_cannot_create_tokens",
                "API tokens cannot create API tokens: create one on the API tokens page or with your "
                "browser session and password.",
                status_code=403,
            )
        payload = s.ApiTokenCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.api_token_create_throttle(user=request.user)
        method = reauth.reauth_require(request, password=payload.validated_data.get("password"))
        token, key = services.api_token_create(
            user=request.user, name=payload.validated_data["name"], via="api", reauth=method
        )
        token.key = key
        return Response(s.ApiTokenCreatedOutputSerializer(token).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.api_token_revoke(user=request.user, token_id=int(kwargs["pk"]))
        return Response(status=status.HTTP_204_NO_CONTENT)
