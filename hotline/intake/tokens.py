"""API tokens: issued and revoked by supervisors or admins; only a hash is stored.

A token reads "hd_<prefix>_<secret>": the prefix (public) finds the row, SHA-256 of the whole
token is compared in constant time. 32 random bytes make a stored hash useless to guess from.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone

from hotline.errors import InvalidInput, NotAllowed
from hotline.models import ApiToken
from operators.roles import is_supervisor

logger = logging.getLogger(__name__)
TOKEN_PREFIX = "hd_"  # noqa: S105 - a label, not a secret
LAST_USED_GRANULARITY = timedelta(minutes=1)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _may_manage(actor: User | AnonymousUser | None) -> bool:
    """None is the shell (a management command run by whoever runs the server)."""
    return actor is None or bool(getattr(actor, "is_superuser", False)) or is_supervisor(actor)


@transaction.atomic
def api_token_create(*, actor: User | AnonymousUser | None, name: str) -> tuple[ApiToken, str]:
    """Issue a token for one integration. The clear token is returned once and never stored."""
    if not _may_manage(actor):
        raise NotAllowed("Only supervisors and admins issue API tokens.")
    name = name.strip()
    if not name:
        raise InvalidInput("Name the integration the token is for.")
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        name=name[:100], prefix=prefix, secret_hash=_hash(raw), created_at=timezone.now(),
        created_by=actor if isinstance(actor, User) else None,
    )
    logger.info("api token issued id=%s prefix=%s", token.pk, prefix)
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: User | AnonymousUser | None, token_id: int) -> ApiToken:
    """Stop a token working from now on; revoking twice changes nothing."""
    if not _may_manage(actor):
        raise NotAllowed("Only supervisors and admins revoke API tokens.")
    token = ApiToken.objects.select_for_update().get(pk=token_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        logger.info("api token revoked id=%s prefix=%s", token.pk, token.prefix)
    return token


def api_token_find(raw: str) -> ApiToken | None:
    """The token row this clear token belongs to (revoked or not), or None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, _, secret = raw[len(TOKEN_PREFIX):].partition("_")
    if not prefix or not secret:
        return None
    token = ApiToken.objects.filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(raw)):
        return None
    return token


def api_token_touch(token: ApiToken) -> None:
    """Record use, at most once a minute per token (a write per request would be wasteful)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
