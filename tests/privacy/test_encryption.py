"""Encryption at rest: tokens, key rotation, and refusing to search encrypted text."""

import pytest
from cryptography.fernet import Fernet

from hotline.privacy import crypto


def test_round_trip_and_tokens_differ_each_time():
    a, b = crypto.encrypt("Іван, +380501234567"), crypto.encrypt("Іван, +380501234567")
    assert a != b and crypto.is_token(a)
    assert "380501234567" not in a
    assert crypto.decrypt(a) == "Іван, +380501234567"


def test_rotation_keeps_old_values_readable_and_rewrites_them(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    token = crypto.encrypt("secret")
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert crypto.decrypt(token) == "secret"
    rotated = crypto.rotate(token)
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert crypto.decrypt(rotated) == "secret"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


def test_a_wrong_key_is_a_clear_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="Fernet"):
        crypto.encrypt("x")
    settings.FIELD_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="not set"):
        crypto.encrypt("x")
