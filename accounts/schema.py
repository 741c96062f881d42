"""Tell drf-spectacular how API tokens authenticate, so /api/docs/ offers an "Authorize" button."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (tsr_...) from the API tokens page or POST /api/tokens/.",
        }
