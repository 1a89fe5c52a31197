"""Rate limit per API token, counted in the Django cache (Redis when REDIS_URL is set).

The limit protects the desk from a runaway integration; it must never cost a request. When
the cache cannot be reached (Redis restarting), requests are let through, not refused.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from hotline.models import ApiToken

logger = logging.getLogger(__name__)


class ApiTokenRateThrottle(SimpleRateThrottle):
    scope = "intake"

    def get_rate(self) -> str:
        """Read at each request, so the rate is a setting (API_INTAKE_RATE), not import-time state."""
        return settings.API_INTAKE_RATE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"token-{request.auth.pk}"}

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:  # connection refused, timeouts, a restarting server
            logger.warning("intake rate limit not checked, cache unavailable (%s)", type(exc).__name__)
            return True
