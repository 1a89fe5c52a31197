"""Shared fixtures. Services that tests need: PostgreSQL and Redis are real, never mocked.

A test marked `postgres` or `redis` skips locally when the service is missing; under CI=true
the same absence is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest
from django.db import connection

from tests import telegram
from tests.factories import make_operator, seed_data_migration_rows
from tests.fake_bot_api import FakeBotApi
from tests.processes import Process, celery_worker, subprocess_env

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _redis_answers() -> bool:
    import redis
    from django.conf import settings

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def missing(what: str) -> NoReturn:
    """Something a test needs is not there (a service, a tool, the browser): the test skips
    locally; under CI=true the same absence is a failure."""
    if CI:
        pytest.fail(f"{what} (CI=true: a missing service or tool is a failure)")
    pytest.skip(what)


@pytest.fixture(autouse=True)
def _services(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        missing("PostgreSQL is not available")
    if request.node.get_closest_marker("redis") and not _redis_answers():
        missing("Redis is not available")


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


@pytest.fixture
def telegram_settings(settings) -> None:
    """The webhook's secret (tests/telegram.py: WEBHOOK_SECRET) and a bot token; the Bot API
    address points nowhere (a test that sends to Telegram uses `bot_api`)."""
    telegram.configure(settings)


@pytest.fixture
def bot_api(settings) -> Iterator[FakeBotApi]:
    """The fake Bot API (tests/fake_bot_api.py) running, and the settings pointing at it."""
    with FakeBotApi() as api:
        telegram.configure(settings, api)
        yield api


@pytest.fixture
def worker(bot_api, settings, tmp_path) -> Iterator[Process]:
    """A real Celery worker (a subprocess on the test database and Redis) that talks to the
    fake Bot API, retries a send after 1 s, and auto-assigns only if this test's settings do.
    Its test needs `django_db(transaction=True)`, so that the worker sees committed data."""
    env = subprocess_env(
        **telegram.settings_for(bot_api), TELEGRAM_RETRY_BASE_SECONDS="1",
        AUTO_ASSIGN=str(settings.AUTO_ASSIGN).lower(),
    )
    with celery_worker(tmp_path, env) as process:
        yield process


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



@pytest.fixture
def django_capture_on_commit_callbacks(django_capture_on_commit_callbacks):
    """pytest-django's, less the live pages' version bumps (hotline/desk/live.py): every write
    registers one, and tests of what a write queues list the rest. The bumps still run with
    `execute=True`; tests/desk/test_live.py checks them."""

    @contextmanager
    def capture(**kwargs):
        shown: list = []
        with django_capture_on_commit_callbacks(**kwargs) as callbacks:
            yield shown
        shown[:] = [callback for callback in callbacks if not getattr(callback, "live_bump", False)]

    return capture
