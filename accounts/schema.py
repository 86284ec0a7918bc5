"""The OpenAPI schema's name for named API tokens: DRF's own token scheme is already called "tokenAuth"."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "apiTokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "Named API token: `Token vd_...` (see /api/tokens/)."}
