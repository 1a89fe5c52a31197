"""Production answers only over HTTPS, with HSTS, whatever the environment says (issue 17, item 7).

Before: SECURE_SSL_REDIRECT=false and SECURE_HSTS_SECONDS=0 in the environment turned both off,
silently (README did not list them, and `check --deploy` was then the only one to notice)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_environment_cannot_turn_off_https_redirect_or_hsts():
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "DEBUG"))},
        "DJANGO_SETTINGS_MODULE": "hotline.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "desk.example.org",
        "CONTACT_LOOKUP_KEY": secrets.token_urlsafe(32),
        "FIELD_ENCRYPTION_KEY": "dGVzdC1vbmx5LWZpZWxkLWtleS0zMi1ieXRlcy0hISE=",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
    }
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and settings
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "31536000", "True", "True"]
