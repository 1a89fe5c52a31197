"""POST /telegram/webhook/: where Telegram delivers Bot API updates.

Telegram redelivers any update not answered 2xx, and holds the updates behind it meanwhile,
so every well-formed update is stored (hotline/telegram/inbox.py) and answered 200 at once;
a worker applies it to the cases right after. Two deliberate refusals: a request without
our secret (403, nothing stored) and a malformed body (400: not JSON, nested deeper than
hotline.intake.bodies.MAX_JSON_DEPTH, no integer update_id). When the database itself
cannot be reached the answer is 503, so Telegram keeps the update and delivers it again:
answering 200 then would lose the request.
"""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hotline.intake.bodies import JSONRefused, parse_json
from hotline.intake.telegram import inbox
from hotline.intake.telegram.updates import update_kind

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=status)


def _unavailable() -> JsonResponse:
    """The one 5xx: nothing could be stored, so Telegram must deliver the update again."""
    return JsonResponse({"ok": False, "error": "Storage unavailable; retry."}, status=503, headers={"Retry-After": "5"})


def _secret_matches(request: HttpRequest) -> bool:
    expected = settings.TELEGRAM_WEBHOOK_SECRET
    given = request.headers.get(SECRET_HEADER, "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def declared_length(request: HttpRequest) -> int:
    """The Content-Length header as a number (0 when absent or not a number)."""
    try:
        return max(int(request.headers.get("Content-Length") or 0), 0)
    except ValueError:
        return 0


@csrf_exempt
@login_not_required
@require_POST
def webhook(request: HttpRequest) -> JsonResponse:
    if not _secret_matches(request):
        logger.warning("telegram webhook refused: missing or wrong secret token")
        return _error(403, "Missing or wrong X-Telegram-Bot-Api-Secret-Token.")
    limit = settings.TELEGRAM_MAX_UPDATE_BYTES
    if declared_length(request) > limit or len(request.body) > limit:
        return _error(413, f"An update can be at most {limit} bytes.")
    try:
        update = parse_json(request.body)
    except JSONRefused as exc:
        return _error(400, str(exc))
    if not isinstance(update, dict):
        return _error(400, "An update must be a JSON object.")
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or not -(2**63) <= update_id < 2**63:
        return _error(400, "The update has no integer update_id.")
    try:
        stored = inbox.accept(update_id, update_kind(update), _text(request.body, update))
    except (OperationalError, InterfaceError) as exc:
        logger.error("telegram update=%s not stored, database unavailable (%s)", update_id, type(exc).__name__)
        return _unavailable()
    return JsonResponse({"ok": True, "result": "accepted" if stored else "duplicate"})


def _text(body: bytes, update: dict) -> str:
    """The update as JSON text: the body as sent when it is UTF-8 (it nearly always is)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:  # JSON in UTF-16/32 (or with a raw surrogate) parses too
        return json.dumps(update)
    return json.dumps(update) if text.startswith("\ufeff") else text
