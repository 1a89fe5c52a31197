"""The second factor at rest (issue 17, item 8): TOTP secrets encrypted with the keys and the
rotation of contact data; backup codes kept only as keyed hashes; django-otp's clear tables
moved over and dropped by operators 0004."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django_otp.oath import TOTP

from hotline.privacy import crypto
from operators.models import AuthenticatorDevice, BackupCode, BackupCodeDevice, backup_code_hashes
from operators.security import regenerate_backup_codes, verify_current_code

pytestmark = pytest.mark.django_db

migration = importlib.import_module("operators.migrations.0004_second_factor_kept_secret")


def raw(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall() if cursor.description else []


def code_of(device: AuthenticatorDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_the_totp_secret_is_a_fernet_token_in_the_database(operator):
    device = AuthenticatorDevice.objects.create(user=operator, name="phone", confirmed=True)
    [(stored,)] = raw("SELECT key FROM operators_authenticatordevice WHERE id = %s", [device.pk])
    assert crypto.is_token(stored) and device.key not in stored
    assert crypto.decrypt(stored) == device.key and len(device.key) == 40  # 20 bytes, hex
    assert verify_current_code(operator, code_of(device)) == device


def test_backup_codes_are_kept_only_as_keyed_hashes(operator, settings):
    codes = regenerate_backup_codes(operator)
    stored = {row[0] for row in raw("SELECT code_hash FROM operators_backupcode")}
    assert stored == {backup_code_hashes(code)[0] for code in codes}
    assert not any(code in value for code in codes for value in stored)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key", [settings.SECRET_KEY]
    assert verify_current_code(operator, codes[0]) is not None  # a rotated SECRET_KEY keeps them until used
    assert verify_current_code(operator, codes[0]) is None  # used up


def test_key_rotation_reencrypts_the_totp_secrets_and_codes_still_work(client, operator, settings):
    device = AuthenticatorDevice.objects.create(user=operator, name="phone", confirmed=True)
    old_key, new_key = settings.FIELD_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_key", stdout=SimpleNamespace(write=lambda text: None, flush=lambda: None))
    [(stored,)] = raw("SELECT key FROM operators_authenticatordevice WHERE id = %s", [device.pk])
    Fernet(new_key.encode()).decrypt(stored.encode())  # readable by the new key alone
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    client.post("/login/", {"username": operator.username, "password": "correct horse battery"})
    assert client.post(reverse("otp_verify"), {"code": code_of(device), "next": "/"})["Location"] == "/"


@pytest.mark.postgres
def test_django_otps_clear_tables_move_to_ours_and_are_dropped(operator):
    """What operators 0004 does to a database that used django-otp's plugins."""
    raw("CREATE TABLE otp_totp_totpdevice (id serial PRIMARY KEY, user_id int, name varchar(64), confirmed bool, "
        "key varchar(80), step int, t0 bigint, digits int, tolerance int, drift int, last_t bigint)")
    raw("CREATE TABLE otp_static_staticdevice (id serial PRIMARY KEY, user_id int, name varchar(64), confirmed bool)")
    raw("CREATE TABLE otp_static_statictoken (id serial PRIMARY KEY, device_id int, token varchar(16))")
    secret = "3132333435363738393031323334353637383930"
    raw("INSERT INTO otp_totp_totpdevice (user_id, name, confirmed, key, step, t0, digits, tolerance, drift, last_t) "
        "VALUES (%s, 'phone', true, %s, 30, 0, 6, 1, 0, 55)", [operator.pk, secret])
    raw("INSERT INTO otp_static_staticdevice (user_id, name, confirmed) VALUES (%s, 'Backup codes', true)",
        [operator.pk])
    raw("INSERT INTO otp_static_statictoken (device_id, token) SELECT id, 'abcd2345' FROM otp_static_staticdevice")
    raw("INSERT INTO django_migrations (app, name, applied) VALUES ('otp_totp', '0001_initial', now())")

    migration.move_devices(apps, SimpleNamespace(connection=connection))

    device = AuthenticatorDevice.objects.get(user=operator)
    assert (device.key, device.confirmed, device.last_t) == (secret, True, 55)
    assert BackupCodeDevice.objects.get(user=operator).codes.get().code_hash == backup_code_hashes("abcd2345")[0]
    assert not {"otp_totp_totpdevice", "otp_static_staticdevice", "otp_static_statictoken"} & set(
        connection.introspection.table_names())
    assert raw("SELECT count(*) FROM django_migrations WHERE app IN ('otp_totp', 'otp_static')") == [(0,)]
    assert verify_current_code(operator, "abcd2345") is not None
    assert BackupCode.objects.count() == 0
