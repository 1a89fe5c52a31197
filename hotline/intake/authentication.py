"""Authenticating integrations by API token ("Authorization: Bearer hd_...").

The authenticated principal is an IntegrationUser: it is not a staff user, holds no
permission and no group, so a token can do nothing but what a view explicitly allows
(today: create requests).

Unknown and revoked tokens are counted per client address: past API_INVALID_TOKEN_RATE the
address gets 429 (with Retry-After) before any token it sends is looked at, so guessing or
spraying tokens costs the guesser, not the database.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from redis.exceptions import RedisError
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from hotline.intake.tokens import api_token_find, api_token_touch
from hotline.models import ApiToken
from operators.security import client_ip, keyed

logger = logging.getLogger(__name__)


class InvalidTokenBudget(SimpleRateThrottle):
    """Requests with an invalid API token, per client address (API_INVALID_TOKEN_RATE), counted
    in the cache under a keyed hash of the address. Fails open when the cache is unreachable,
    like the per-token rate: the budget must never cost a real request."""

    scope = "intake-invalid-token"

    def get_rate(self) -> str:
        return settings.API_INVALID_TOKEN_RATE

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": keyed(client_ip(request))}

    def wait_for(self, request: Request) -> float | None:
        """Seconds before this address may try again, or None while it has budget left."""
        try:
            history = self.cache.get(self.get_cache_key(request, None), [])
        except (RedisError, OSError):
            return None
        now = self.timer()
        recent = [moment for moment in history if moment > now - self.duration]
        if len(recent) < self.num_requests:
            return None
        return max(self.duration - (now - recent[-1]), 1.0)

    def spend(self, request: Request) -> None:
        """Count one invalid token from this address."""
        try:
            self.allow_request(request, None)
        except (RedisError, OSError) as exc:
            logger.warning("invalid API tokens not counted, cache unavailable (%s)", type(exc).__name__)


class IntegrationUser(AnonymousUser):
    """The caller behind an API token: authenticated, but with no rights of a person."""

    def __init__(self, token: ApiToken) -> None:
        self.token = token

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True

    def __str__(self) -> str:
        return f"integration {self.token.prefix}"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[IntegrationUser, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        budget = InvalidTokenBudget()
        wait = budget.wait_for(request)
        if wait is not None:
            logger.warning("api request refused: too many invalid tokens from one address")
            raise exceptions.Throttled(wait, "Too many requests with an invalid API token from this address.")
        if len(header) != 2:
            budget.spend(request)
            raise exceptions.AuthenticationFailed("The Authorization header must be 'Bearer <token>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raw = ""
        token = api_token_find(raw) if raw else None
        if token is None or token.revoked_at is not None:
            budget.spend(request)
            raise exceptions.AuthenticationFailed(
                "Invalid API token." if token is None else "This API token has been revoked.",
            )
        api_token_touch(token)
        return IntegrationUser(token), token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class HasApiToken(permissions.BasePermission):
    """Permission: the request was authenticated by an API token (not a session)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ApiToken)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return self.has_permission(request, view)
