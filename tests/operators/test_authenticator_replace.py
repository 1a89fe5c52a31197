"""Replacing one's authenticator app needs the password and a current code (issue 17, item 2).

Before: with only a session cookie, GET /login/enrol/ gave a new secret and POST with a code
from it deleted the old device and returned ten new backup codes, so a stolen cookie became a
lasting second factor. Now it also needs the password and a code of the current app (or a
backup code), ends every other session of the person, and is a StaffEvent in the audit."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP

from operators.models import AuthenticatorDevice, BackupCode, StaffEvent, StaffEventKind, UserSession
from operators.security import backup_codes_left, regenerate_backup_codes
from tests.pages import login

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # tests/factories.py: make_operator
ENROL = "/login/enrol/"


def code_of(device: AuthenticatorDevice, *, later: int = 0) -> str:
    """The code the app shows now (`later` steps on: one the device has not accepted yet)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + later * device.step
    return f"{totp.token():0{device.digits}d}"


def old_device(user) -> AuthenticatorDevice:
    return AuthenticatorDevice.objects.get(user=user, confirmed=True)


def new_device(client, user) -> AuthenticatorDevice:
    """What the enrolment page shows: a pending device whose secret is the QR code."""
    assert client.get(ENROL).status_code == 200
    return AuthenticatorDevice.objects.get(user=user, confirmed=False)


def signed_in(client) -> bool:
    return client.get(reverse("queue")).status_code == 200


def test_a_session_cookie_alone_cannot_replace_the_authenticator(client, operator):
    login(client, operator)
    before = old_device(operator)
    pending = new_device(client, operator)
    response = client.post(ENROL, {"code": code_of(pending)})  # the whole attack of the finding
    assert response.status_code == 200 and "codes" not in response.context
    assert response.context["form"].errors.keys() == {"password", "current_code"}
    assert old_device(operator).pk == before.pk
    assert not StaffEvent.objects.exists()


@pytest.mark.parametrize("wrong", ["password", "current_code", "code"])
def test_any_wrong_factor_is_one_refusal_and_changes_nothing(client, operator, wrong):
    login(client, operator)
    before = old_device(operator)
    [backup, *_] = regenerate_backup_codes(operator)
    pending = new_device(client, operator)
    post = {"password": PASSWORD, "current_code": backup, "code": code_of(pending)}
    post[wrong] = "000000" if wrong != "password" else "not my password"
    response = client.post(ENROL, post)
    assert response.status_code == 200
    assert response.context["form"].errors == {"code": ["The password or one of the codes is not right."]}
    assert old_device(operator).pk == before.pk
    assert backup_codes_left(operator) == 10  # the backup code checked in a refused attempt is not used up
    assert not StaffEvent.objects.exists()


def test_password_and_a_current_code_replace_it_and_end_every_other_session(client, operator, supervisor):
    laptop = Client()
    login(laptop, operator)
    login(client, operator)
    before = old_device(operator)
    regenerate_backup_codes(operator)
    pending = new_device(client, operator)
    response = client.post(
        ENROL, {"password": PASSWORD, "current_code": code_of(before), "code": code_of(pending), "next": "/"},
    )
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10
    assert list(AuthenticatorDevice.objects.filter(user=operator).values_list("pk", "confirmed")) == [
        (pending.pk, True)]
    assert set(BackupCode.objects.filter(device__user=operator).values_list("code_hash", flat=True)).isdisjoint(codes)
    assert signed_in(client) and not signed_in(laptop)
    assert list(UserSession.objects.filter(user=operator).values_list("session_key", flat=True)) == [
        client.session.session_key]
    event = StaffEvent.objects.get()
    assert (event.kind, event.actor_id, event.subject_id, event.data) == (
        StaffEventKind.AUTHENTICATOR_REPLACED, operator.pk, operator.pk, {"sessions": 1})
    login(client, supervisor)
    assert "Authenticator replaced" in client.get(reverse("audit")).content.decode()


def test_a_backup_code_stands_in_for_a_lost_phone(client, operator):
    login(client, operator)
    [backup, *_] = regenerate_backup_codes(operator)
    pending = new_device(client, operator)
    response = client.post(ENROL, {"password": PASSWORD, "current_code": backup.upper(), "code": code_of(pending)})
    assert len(response.context["codes"]) == 10
    assert old_device(operator).pk == pending.pk


def test_guessing_counts_towards_the_lock_of_the_code_step(client, operator, settings):
    login(client, operator)
    pending = new_device(client, operator)
    for attempt in range(1, settings.OTP_MAX_FAILURES + 1):
        response = client.post(ENROL, {"password": f"guess {attempt}", "current_code": "123456", "code": "123456"})
    assert response.status_code == 429
    assert not signed_in(client)
    assert AuthenticatorDevice.objects.get(user=operator, confirmed=True).pk != pending.pk


def test_the_first_enrolment_still_needs_only_the_new_code(client, operator):
    login(client, operator)
    AuthenticatorDevice.objects.filter(user=operator).delete()
    client.force_login(operator)  # a password session: the first login of a new account
    pending = new_device(client, operator)
    assert "password" not in client.get(ENROL).context["form"].fields
    response = client.post(ENROL, {"code": code_of(pending)})
    assert len(response.context["codes"]) == 10
    assert not StaffEvent.objects.exists()
