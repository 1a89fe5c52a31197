"""One Telegram user sending a flood: keep every request, stop the bot's own side effects.

Why not answer 429: Telegram redelivers an update that is not answered 2xx and holds the
updates queued behind it meanwhile, so refusing one person's flood would delay everyone
else's messages. Instead each update is stored as usual (nothing is lost; a flood from one
chat joins that contact's one open case rather than opening many), and beyond
TELEGRAM_USER_RATE_PER_MINUTE the bot stops answering that user: no acknowledgement, no next
triage question, no button answer. Counted per Telegram user id in the cache, under a keyed
hash, so no Telegram id is stored in clear there.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from operators.security import count_hit

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60


def sender_id(update: dict[str, Any]) -> str | None:
    """The Telegram user (or, failing that, chat) an update comes from."""
    for kind in ("message", "edited_message", "callback_query", "my_chat_member"):
        payload = update.get(kind)
        if not isinstance(payload, dict):
            continue
        for holder in (payload.get("from"), payload.get("chat")):
            if isinstance(holder, dict):
                ident = holder.get("id")
                if isinstance(ident, int) and not isinstance(ident, bool):
                    return str(ident)
    return None


def over_limit(update: dict[str, Any]) -> bool:
    """Count this update for its sender; True once they passed the per-minute rate."""
    ident = sender_id(update)
    if ident is None:
        return False
    try:
        hits = count_hit("telegram-user", f"telegram:{ident}", WINDOW_SECONDS)
    except (RedisError, OSError) as exc:
        # The cache is down (Redis restarting): answer as usual rather than fail the update.
        logger.warning("telegram flood limit not checked, cache unavailable (%s)", type(exc).__name__)
        return False
    return hits > settings.TELEGRAM_USER_RATE_PER_MINUTE
