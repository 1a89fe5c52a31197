"""How drf-spectacular describes our token authentication in the OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "hotline.intake.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "http", "scheme": "bearer", "bearerFormat": "hd_<prefix>_<secret>",
            "description": "An API token issued by a supervisor (manage.py api_token_create or the admin).",
        }
