"""Encryption at rest for personal data (contact identifiers, names, message bodies).

FIELD_ENCRYPTION_KEY holds one or more Fernet keys, comma-separated: the first encrypts,
all of them decrypt, so a key can be rotated without downtime (add the new key first, run
`manage.py rotate_encryption_key`, then drop the old one).
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

# Every Fernet token starts so (version byte 0x80, then a timestamp).
TOKEN_PREFIX = "gAAAAA"  # noqa: S105 - a format marker, not a secret


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = [key.strip() for key in settings.FIELD_ENCRYPTION_KEYS if key.strip()]
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must hold Fernet keys (manage.py generate_encryption_key)"
        ) from exc


@receiver(setting_changed)
def _forget_keys(setting: str, **kwargs: object) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("A stored value cannot be decrypted with the configured keys.") from None


def rotate(token: str) -> str:
    """Re-encrypt a token under the first (current) key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("A stored value cannot be decrypted with the configured keys.") from None


def is_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX)


def generate_key() -> str:
    return Fernet.generate_key().decode()
