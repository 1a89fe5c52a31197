"""Encryption at rest for personal data (contact identifiers, names, message bodies).

FIELD_ENCRYPTION_KEY holds one or more Fernet keys, comma-separated: the first encrypts,
all of them decrypt, so a key can be rotated without downtime (add the new key first, run
`manage.py rotate_encryption_key`, then drop the old one).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.dispatch import receiver

# Every Fernet token starts so (version byte 0x80, then a timestamp).
TOKEN_PREFIX = "gAAAAA"  # noqa: S105 - a format marker, not a secret


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@lru_cache(maxsize=1)
def _keys() -> tuple[Fernet, ...]:
    keys = [key.strip() for key in settings.FIELD_ENCRYPTION_KEYS if key.strip()]
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set")
    try:
        return tuple(Fernet(key.encode()) for key in keys)
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must hold Fernet keys (manage.py generate_encryption_key)"
        ) from exc


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    return MultiFernet(list(_keys()))


@receiver(setting_changed)
def _forget_keys(setting: str, **kwargs: object) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _keys.cache_clear()
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


def is_current(token: str) -> bool:
    """The value is a token the first (current) key decrypts: nothing to rotate."""
    if not is_token(token):
        return False
    try:
        _keys()[0].decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def is_readable(value: str) -> bool:
    """The value is a token some configured key decrypts (so not plaintext that merely looks
    like one)."""
    if not is_token(value):
        return False
    try:
        _fernet().decrypt(value.encode())
    except InvalidToken:
        return False
    return True


# --- whole columns: the encrypting data migration and key rotation ------------------------------
# Raw SQL on (table, column), so the historical models of a migration and the current ones
# share it. Rows are read in primary-key batches, each batch locked and rewritten in its own
# transaction: a crash loses at most one batch's work, and a re-run finds nothing left to do.

Rewrite = Callable[[str], str | None]  # the new stored value, or None to leave the row alone


def rewrite_column(connection: BaseDatabaseWrapper, table: str, column: str, rewrite: Rewrite,
                   *, batch_size: int = 500) -> int:
    """Apply `rewrite` to every non-null value of table.column; return how many rows changed."""
    quote = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    # Table and column names are our own, quoted; every value is a parameter.
    select = (
        f"SELECT id, {quote(column)} FROM {quote(table)} WHERE id > %s "  # noqa: S608
        f"AND {quote(column)} IS NOT NULL ORDER BY id LIMIT %s{lock}"
    )
    update = f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s"  # noqa: S608
    changed, last = 0, 0
    while True:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(select, [last, batch_size])
            rows = cursor.fetchall()
            if not rows:
                return changed
            last = rows[-1][0]
            updates = [(new, pk) for pk, value in rows if (new := rewrite(value)) is not None]
            if updates:
                cursor.executemany(update, updates)
            changed += len(updates)


def encrypt_if_plain(value: str) -> str | None:
    """For the data migration: encrypt a plaintext value, leave a token alone (idempotent)."""
    return None if is_readable(value) else encrypt(value)


def rotate_if_old(value: str) -> str | None:
    """For key rotation: re-encrypt a token under the current key unless it already is."""
    return None if is_current(value) else rotate(value)
