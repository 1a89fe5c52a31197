"""Settings of the scaled-out run (tests/scale/run.py): production-like without HTTPS.

DEBUG off, PostgreSQL and Redis from the environment (DATABASE_URL, REDIS_URL), the local
development keys (never use them elsewhere). The only test-only values: Redis hands out a
dead worker's unacknowledged tasks within the run (visibility timeout from
CELERY_VISIBILITY_TIMEOUT, checked every 2 s) instead of after an hour.
"""

from hotline.settings.local import *  # noqa: F403
from hotline.settings.local import REDIS_TRANSPORT_OPTIONS

DEBUG = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **REDIS_TRANSPORT_OPTIONS, "unacked_restore_interval": 2, "unacked_restore_throttle": 1,
}
