"""Rate limit per API token, counted in the Django cache (Redis when REDIS_URL is set)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from hotline.models import ApiToken


class ApiTokenRateThrottle(SimpleRateThrottle):
    scope = "intake"

    def get_rate(self) -> str:
        """Read at each request, so the rate is a setting (API_INTAKE_RATE), not import-time state."""
        return settings.API_INTAKE_RATE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"token-{request.auth.pk}"}
