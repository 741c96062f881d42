from rest_framework import serializers

from core.serializers import StrictInputSerializer

from ..models import ApiToken, User


class MeOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "date_joined"]
        read_only_fields = fields


class ApiTokenOutputSerializer(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "key_prefix", "created_at", "last_used_at", "revoked_at", "is_active"]
        read_only_fields = fields


class ApiTokenCreatedOutputSerializer(ApiTokenOutputSerializer):
    key = serializers.CharField(read_only=True, help_text="The secret. Shown once; store it now.")

    class Meta(ApiTokenOutputSerializer.Meta):
        fields = [*ApiTokenOutputSerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiTokenCreateInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    password = serializers.CharField(
        max_length=4096,
        required=False,
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Your current password. Required unless you confirmed it in this browser session in the "
        "last few minutes (ACCOUNTS_REAUTH_SECONDS). Tokens cannot create tokens.",
    )


class SignOutEverywhereInputSerializer(StrictInputSerializer):
    revoke_tokens = serializers.BooleanField(
        default=True, help_text="Also revoke every active API token (default true)."
    )


class CredentialsRevokedOutputSerializer(serializers.Serializer):
    sessions_revoked = serializers.BooleanField()
    tokens_revoked = serializers.IntegerField(help_text="How many active API tokens were revoked.")
