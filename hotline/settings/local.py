"""A newcomer's machine: SQLite and the embedded broker unless the environment says otherwise."""

from hotline.settings.base import *  # noqa: F403
from hotline.settings.base import env

DEBUG = env.bool("DEBUG", default=True)
# Local only: a fixed, visibly unsafe key so `make run` works with no setup.
SECRET_KEY = env.str("SECRET_KEY", default="local-only-insecure-key-never-use-in-production")
CONTACT_LOOKUP_KEY = env.str("CONTACT_LOOKUP_KEY", default="local-only-lookup-key")
# Local only: a fixed, published key. Production requires FIELD_ENCRYPTION_KEY.
_LOCAL_FIELD_KEY = "bG9jYWwtb25seS1pbnNlY3VyZS1rZXktMzItYnl0ZXM="
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY", default=[_LOCAL_FIELD_KEY])
# Local demo only: OTP_REQUIRED=false lets demo staff without an authenticator in after the
# password (seed_demo says so). Anyone who enrolled still gives a code. Production forces it on.
OTP_REQUIRED = env.bool("OTP_REQUIRED", default=False)
# One process on a newcomer's machine: the per-process memory cache is enough for django-axes.
SILENCED_SYSTEM_CHECKS = ["axes.W001"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The dashboard's covering indexes (INCLUDE columns, models.py) are a PostgreSQL speed-up;
    # SQLite builds them without those columns, which is expected on the embedded default and
    # changes no result. Said once here rather than at every start (models.W040).
    SILENCED_SYSTEM_CHECKS.append("models.W040")
