"""Live pages: a version per case and one for the whole desk, kept in the `live` cache.

Every write that changes what a case page shows (a message, a delivery state, a stage, an
owner: anything that writes a timeline event, and the delivery pipeline) calls
`bump_after_commit(case_ids)`. After the transaction commits, each case's version and the
desk's version get a new random token. An open page polls with the version it was rendered
with (hotline/desk/views/live.py): the same version is a 204 with no database read beyond
the session's, a different one re-renders the changed parts.

Tokens, not counters: a version lost from the cache (evicted, Redis restarted) reads as "0",
which differs from every token a page holds, so a page re-renders once too often, never once
too few. Read the version BEFORE reading the rows it describes: a write that commits in
between then shows at the next poll.

The cache is the `live` alias: Redis in production and tests (shared by every web process),
the per-process memory on the embedded default (one process serves every page there).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable

from django.core.cache import caches
from django.db import transaction

DESK = "live:desk"
# A version outlives any page left open; a lost one only costs one extra re-render.
TTL_SECONDS = 7 * 24 * 3600
NO_VERSION = "0"
# How often every signed-in page asks whether the desk changed (header counts, the queue).
DESK_POLL_SECONDS = 4


def _cache():
    return caches["live"]


def case_key(case_id: int) -> str:
    return f"live:case:{case_id}"


def _token() -> str:
    return secrets.token_hex(6)


def bump_now(case_ids: Iterable[int] = ()) -> None:
    """Give the cases (and the desk) new versions now: one cache round trip. A cache that is
    down costs the live updates, never the write that called this."""
    token = _token()
    values = {case_key(int(pk)): token for pk in set(case_ids)}
    values[DESK] = token
    try:
        _cache().set_many(values, TTL_SECONDS)
    except Exception:
        return


class _Bump:
    """The after-commit hook of bump_after_commit; `live_bump` lets a test's list of hooks
    leave it out (tests/conftest.py): every write has one."""

    live_bump = True

    def __init__(self, case_ids: list[int]) -> None:
        self.case_ids = case_ids

    def __call__(self) -> None:
        bump_now(self.case_ids)


def bump_after_commit(case_ids: Iterable[int] = ()) -> None:
    """After the current transaction commits (now, outside one), new versions for these cases
    and the desk. Empty `case_ids`: only the desk (the SLA sweep, counts that moved)."""
    transaction.on_commit(_Bump([int(pk) for pk in case_ids]))


def case_version(case_id: int) -> str:
    try:
        return _cache().get(case_key(case_id)) or NO_VERSION
    except Exception:
        return NO_VERSION


def desk_version() -> str:
    try:
        return _cache().get(DESK) or NO_VERSION
    except Exception:
        return NO_VERSION


def desk_poller() -> dict[str, object]:
    """Where every page's desk poller starts (hotline/desk/context_processors.py): the version,
    read before the header's counts, and the time from which cases given to the viewer are news."""
    return {"live_desk_version": desk_version(), "live_desk_since": f"{time.time():.3f}",
            "live_desk_seconds": DESK_POLL_SECONDS}
