"""Production: secrets have no default, so a missing one stops the process at start."""

from hotline.settings.base import *  # noqa: F403
from hotline.settings.base import env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
CONTACT_LOOKUP_KEY = env.str("CONTACT_LOOKUP_KEY")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

# HTTPS only, like the second factor below: the environment cannot turn these off. A
# production that answers plain HTTP is a misconfiguration, and SECURE_HSTS_SECONDS=0 would
# tell every browser to forget HSTS. Run without TLS with hotline.settings.local instead.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000  # one year
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Security (SECURITY.md). The second factor cannot be switched off here: the environment is ignored.
OTP_REQUIRED = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_NAME = "__Host-sessionid"  # secure, host-only, path=/: no subdomain can set it
CSRF_COOKIE_NAME = "__Host-csrftoken"
# nginx (docs/deploy.md) appends the client's address to X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
# Lockout, throttles and the OTP counter live in the cache: several web processes must share
# it, so production needs Redis (as the Celery broker does in docs/deploy.md).
REDIS_URL = env.str("REDIS_URL")
