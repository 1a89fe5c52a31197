"""Header data for every page: who is on shift, and what is overdue."""

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from hotline.desk import live
from hotline.desk.selectors import HeaderCounts, header_counts
from operators.roles import can_work, is_supervisor


def cached_header_counts(user: Any, version: str) -> tuple[HeaderCounts, str]:
    """The header's counts and the desk version (desk/live.py) they were counted at, shared by one
    person's pages for HEADER_COUNTS_CACHE_SECONDS. Counting costs 20-25 ms of every page at a
    million cases; the shared cache (Redis in production) answers in well under a millisecond.

    The page's desk poller starts from the version the counts stand for, so when the desk has
    changed since they were counted, its first poll (within DESK_POLL_SECONDS) brings fresh
    ones: the cache saves work, it does not make a badge lag. 0 counts on every page."""
    seconds = settings.HEADER_COUNTS_CACHE_SECONDS
    if seconds <= 0:
        return header_counts(user), version
    cached = cache.get(_key(user))
    if isinstance(cached, tuple) and len(cached) == 2 and isinstance(cached[0], HeaderCounts):
        return cached[0], cached[1]
    counts = header_counts(user)
    remember_header_counts(user, counts, version)
    return counts, version


def remember_header_counts(user: Any, counts: HeaderCounts, version: str) -> None:
    """Counts just made at this desk version (a page or the desk poll): later pages reuse them."""
    if settings.HEADER_COUNTS_CACHE_SECONDS > 0:
        cache.set(_key(user), (counts, version), settings.HEADER_COUNTS_CACHE_SECONDS)


def _key(user: Any) -> str:
    return f"hotline:header-counts:{user.pk}"


def desk(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated or not can_work(user):
        return {}
    poller = live.desk_poller()  # before the counts it stands for
    # A view that has just counted the same figures leaves them on the request.
    counts = getattr(request, "header_counts", None)
    if counts is None:
        counts, poller["live_desk_version"] = cached_header_counts(user, str(poller["live_desk_version"]))
    return {
        **poller,
        "header_counts": counts,
        "is_supervisor": is_supervisor(user),
        "on_shift": getattr(getattr(user, "operator", None), "on_shift", False),
    }
