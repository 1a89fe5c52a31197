"""Tests run on PostgreSQL when it answers (always under CI=true), else on SQLite.

Tests that depend on PostgreSQL are marked `postgres` and skip on SQLite locally; under
CI=true an unreachable PostgreSQL stops the run instead (tests/conftest.py).
"""

import os

import psycopg

from hotline.settings.base import *  # noqa: F403
from hotline.settings.base import VAR_DIR, env

SECRET_KEY = "test-only-key"  # noqa: S105 - tests only
CONTACT_LOOKUP_KEY = "test-only-lookup-key"
FIELD_ENCRYPTION_KEYS = ["dGVzdC1vbmx5LWZpZWxkLWtleS0zMi1ieXRlcy0hISE="]  # tests only
DEBUG = False
CI = env.bool("CI", default=False)

TEST_DATABASE_URL = env.str("TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/hotline")


def _postgres_answers(url: str) -> bool:
    parsed = env.db_url_config(url)
    try:
        psycopg.connect(
            host=parsed["HOST"], port=parsed["PORT"] or 5432, user=parsed["USER"],
            password=parsed["PASSWORD"], dbname="postgres", connect_timeout=2,
        ).close()
    except psycopg.OperationalError:
        return False
    return True


# TEST_FORCE_SQLITE=1 runs a suite on SQLite even where PostgreSQL answers (to check fallbacks).
if env.bool("TEST_FORCE_SQLITE", default=False):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
elif _postgres_answers(TEST_DATABASE_URL):
    DATABASES = {"default": env.db_url_config(TEST_DATABASE_URL)}
    # TEST_DATABASE_NAME lets several checkouts run their suites at once on one server.
    test_name = env.str("TEST_DATABASE_NAME", default="test_hotline")
    DATABASES["default"]["TEST"] = {"NAME": test_name + os.environ.get("PYTEST_XDIST_WORKER", "")}
    # A Celery worker started by a test must use the test's database, which already exists:
    # the test passes its name here (tests/desk/test_sla_worker.py).
    worker_database = env.str("TEST_WORKER_DATABASE_NAME", default="")
    if worker_database:
        DATABASES["default"]["NAME"] = worker_database
elif CI:
    raise RuntimeError(f"CI=true but PostgreSQL does not answer at {TEST_DATABASE_URL}")
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed, tests only
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "media": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.str("TEST_MEDIA_DIR", default=str(VAR_DIR / "test-media"))},
    },
}
REDIS_URL = env.str("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
# Tasks published by tests go to a real Redis (database 15), where a test's worker reads them.
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_TRANSPORT_OPTIONS  # timeouts: see base.py, "Celery reliability"
# Live pages' versions on the test Redis, as in production (hotline/desk/live.py).
CACHES = {**CACHES, "live": {
    "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "hotline-test",
    "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
}}
WHITENOISE_AUTOREFRESH = True  # no collectstatic in tests
OTP_REQUIRED = True  # tests sign in with a real TOTP device (tests/factories.py: login)
SILENCED_SYSTEM_CHECKS = ["axes.W001"]  # tests run in one process; the memory cache is shared by them
HEADER_COUNTS_CACHE_SECONDS = 0  # every page counts: tests read the badges right after a change
