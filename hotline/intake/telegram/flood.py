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
from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from operators.security import count_hit, keyed

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


def over_limit_many(updates: Sequence[dict[str, Any]]) -> list[bool]:
    """over_limit for a batch, in order, counted in one Redis round trip (one MULTI pipeline:
    per sender, start the window's counter if it is missing, then add the batch's updates).

    The same counters and keys as count_hit, so the per-update path and the batch share the
    window. Another cache backend (the embedded default's local memory) counts one by one."""
    idents = [sender_id(update) for update in updates]
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return [over_limit(update) for update in updates]
    per_sender = Counter(ident for ident in idents if ident is not None)
    if not per_sender:
        return [False] * len(updates)
    keys = {ident: cache.make_and_validate_key(f"rate:telegram-user:{keyed(f'telegram:{ident}')}")
            for ident in per_sender}
    try:
        # The cache's own client (django.core.cache.backends.redis): counters are plain integers there.
        pipe = cache._cache.get_client(write=True).pipeline()
        for ident, count in per_sender.items():
            pipe.set(keys[ident], 0, ex=WINDOW_SECONDS, nx=True)
            pipe.incrby(keys[ident], count)
        replies = pipe.execute()
    except (RedisError, OSError) as exc:
        logger.warning("telegram flood limit not checked, cache unavailable (%s)", type(exc).__name__)
        return [False] * len(updates)
    totals = dict(zip(per_sender, replies[1::2], strict=True))
    seen: Counter[str] = Counter()
    verdicts = []
    limit = settings.TELEGRAM_USER_RATE_PER_MINUTE
    for ident in idents:
        if ident is None:
            verdicts.append(False)
            continue
        seen[ident] += 1
        hits = int(totals[ident]) - per_sender[ident] + seen[ident]
        verdicts.append(hits > limit)
    return verdicts
