"""A small Bot API client: one POST per method call, with timeouts, answers made plain.

The URL holds the bot token, so neither it nor an httpx error message (which may quote it)
is ever logged; httpx's own request log is silenced in settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

_client: httpx.Client | None = None


def _http() -> httpx.Client:
    """One pooled client per process (a Celery worker child creates its own after the fork)."""
    global _client
    if _client is None:
        _client = httpx.Client(headers={"User-Agent": "hotline-desk"}, follow_redirects=False)
    return _client


@dataclass(frozen=True)
class BotAnswer:
    """Telegram's answer to one method call. `status` is None when no answer came (network)."""

    ok: bool
    status: int | None
    result: Any = None
    description: str = ""
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        """Worth trying again later: no answer, flood control (429) or Telegram's own error (5xx)."""
        return self.status is None or self.status == 429 or self.status >= 500

    @property
    def reason(self) -> str:
        if self.status is None:
            return self.description
        return f"HTTP {self.status}: {self.description}" if self.description else f"HTTP {self.status}"


def bot_id() -> str:
    """The bot's numeric id (the part of the token before the colon): tells bots apart in keys."""
    token = settings.TELEGRAM_BOT_TOKEN
    head = token.split(":", 1)[0] if token else ""
    return head if head.isdigit() else "bot"


def is_configured() -> bool:
    return bool(settings.TELEGRAM_BOT_TOKEN)


def call(method: str, payload: dict[str, Any]) -> BotAnswer:
    """Call one Bot API method. Never raises for network or Telegram errors: the answer says."""
    token = settings.TELEGRAM_BOT_TOKEN
    if not token:
        return BotAnswer(ok=False, status=None, description="TELEGRAM_BOT_TOKEN is not configured")
    url = f"{settings.TELEGRAM_API_URL.rstrip('/')}/bot{token}/{method}"
    seconds = float(settings.TELEGRAM_TIMEOUT_SECONDS)
    try:
        response = _http().post(url, json=payload, timeout=httpx.Timeout(seconds, connect=min(seconds, 5.0)))
    except httpx.HTTPError as exc:
        return BotAnswer(ok=False, status=None, description=f"network error ({type(exc).__name__})")
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    description = str(body.get("description") or "")[:180]
    parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    retry_after = parameters.get("retry_after")
    if not isinstance(retry_after, int | float) or isinstance(retry_after, bool) or retry_after < 0:
        retry_after = None
    ok = response.status_code == 200 and body.get("ok") is True
    return BotAnswer(
        ok=ok, status=response.status_code, result=body.get("result"),
        description=description or ("" if ok else response.reason_phrase), retry_after=retry_after,
    )
