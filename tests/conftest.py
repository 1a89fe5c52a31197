"""Shared fixtures. Services that tests need: PostgreSQL and Redis are real, never mocked.

A test marked `postgres` or `redis` skips locally when the service is missing; under CI=true
the same absence is a failure.
"""

from __future__ import annotations

import os

import pytest
from django.db import connection

from tests.factories import make_operator, seed_data_migration_rows

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _redis_answers() -> bool:
    import redis
    from django.conf import settings

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _missing(service: str) -> None:
    message = f"{service} is not available"
    if CI:
        pytest.fail(f"{message} (CI=true: a missing service is a failure)")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _services(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _missing("PostgreSQL")
    if request.node.get_closest_marker("redis") and not _redis_answers():
        _missing("Redis")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate limits, lockouts and OTP counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request leaves its operator's interface language active in the thread: reset it."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture
def operator(db):
    return make_operator("olena")


@pytest.fixture
def operator2(db):
    return make_operator("taras")


@pytest.fixture
def supervisor(db):
    return make_operator("sofia", supervisor=True)


@pytest.fixture(autouse=True)
def _data_migrations_rows(request: pytest.FixtureRequest) -> None:
    """Roles, languages and equipment types come from data migrations. A transactional test
    starts after an earlier one's flush removed them, so they are written again (idempotent).

    (Instead of serialized_rollback, which reloads content types that the flush's post_migrate
    already recreated, and then fails on their unique key depending on test order.)"""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not (marker.kwargs.get("transaction") or request.node.get_closest_marker("transactional")):
        return
    request.getfixturevalue("transactional_db")
    seed_data_migration_rows()

