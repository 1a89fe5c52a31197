"""A small Bot API client: one POST per method call, with timeouts, answers made plain.

The URL holds the bot token, so neither it nor an httpx error message (which may quote it)
is ever logged; httpx's own request log is silenced in settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeVar

import httpx
from django.conf import settings

_client: httpx.Client | None = None
T = TypeVar("T")


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
    return _post(method, json=payload)


def call_multipart(method: str, fields: dict[str, str], files: dict[str, tuple[str, IO[bytes], str]]) -> BotAnswer:
    """Call a method that uploads a file (sendPhoto, sendDocument) as multipart/form-data."""
    return _post(method, data=fields, files=files, upload=True)


def _post(method: str, *, upload: bool = False, **request: Any) -> BotAnswer:
    token = settings.TELEGRAM_BOT_TOKEN
    if not token:
        return BotAnswer(ok=False, status=None, description="TELEGRAM_BOT_TOKEN is not configured")
    url = f"{settings.TELEGRAM_API_URL.rstrip('/')}/bot{token}/{method}"
    seconds = float(settings.TELEGRAM_TIMEOUT_SECONDS)
    # An upload of up to tens of MB may take longer than one JSON call.
    timeout = httpx.Timeout(seconds * (6 if upload else 1), connect=min(seconds, 5.0))
    try:
        response = _http().post(url, timeout=timeout, **request)
    except httpx.HTTPError as exc:
        return BotAnswer(ok=False, status=None, description=f"network error ({type(exc).__name__})")
    return _answer(response)


def _answer(response: httpx.Response) -> BotAnswer:
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


class TooLarge(Exception):
    """The download grew past the limit it was given."""


def download(file_path: str, *, max_bytes: int, consume: Callable[[Iterator[bytes]], T]) -> tuple[BotAnswer, T | None]:
    """Download a file getFile named, handing its bytes to `consume` as they arrive (nothing
    is held whole in memory). Past `max_bytes` the download stops: status 413, no result.
    Like `call`, never raises for network or Telegram errors."""
    token = settings.TELEGRAM_BOT_TOKEN
    if not token:
        return BotAnswer(ok=False, status=None, description="TELEGRAM_BOT_TOKEN is not configured"), None
    url = f"{settings.TELEGRAM_API_URL.rstrip('/')}/file/bot{token}/{file_path.lstrip('/')}"
    seconds = float(settings.TELEGRAM_TIMEOUT_SECONDS)
    try:
        with _http().stream("GET", url, timeout=httpx.Timeout(seconds, connect=min(seconds, 5.0))) as response:
            if response.status_code != 200:
                response.read()
                return _answer(response), None

            def chunks() -> Iterator[bytes]:
                received = 0
                for chunk in response.iter_bytes(64 * 1024):
                    received += len(chunk)
                    if received > max_bytes:
                        raise TooLarge
                    yield chunk

            try:
                result = consume(chunks())
            except TooLarge:
                return BotAnswer(ok=False, status=413, description=f"larger than {max_bytes} bytes"), None
            return BotAnswer(ok=True, status=200), result
    except httpx.HTTPError as exc:
        return BotAnswer(ok=False, status=None, description=f"network error ({type(exc).__name__})"), None
