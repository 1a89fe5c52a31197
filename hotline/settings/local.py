"""A newcomer's machine: SQLite and the embedded broker unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# Local only: a fixed, visibly unsafe key so `make run` works with no setup.
SECRET_KEY = env.str("SECRET_KEY", default="local-only-insecure-key-never-use-in-production")
CONTACT_LOOKUP_KEY = env.str("CONTACT_LOOKUP_KEY", default="local-only-lookup-key")
