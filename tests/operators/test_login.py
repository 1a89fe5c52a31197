"""Signing in: password, then the second factor (or enrolment), lockouts, and what a
password-only session can reach (nothing but the sign-in steps), on pages and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP

from operators.models import AuthenticatorDevice as TOTPDevice
from operators.models import BackupCode, UserSession, backup_code_hashes
from tests.factories import login

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # tests/factories.py: make_operator
LOGIN = "/login/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()


def password_step(client, user, *, ip: str = "127.0.0.1", password: str = PASSWORD, next_url: str = ""):
    return client.post(LOGIN, {"username": user.username, "password": password, "next": next_url}, REMOTE_ADDR=ip)


def english(*users) -> None:
    """Pages in English whatever the profile's default (uk), so the text assertions hold."""
    from operators.models import OperatorProfile

    OperatorProfile.objects.filter(user__in=users).update(ui_language="en")


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


# --- the happy paths ------------------------------------------------------------------------------


def test_first_login_enrols_with_a_qr_code_and_shows_backup_codes_once(client, operator):
    english(operator)
    response = password_step(client, operator, next_url="/?scope=unassigned")
    assert response.status_code == 302 and response["Location"].startswith(reverse("otp_enrol"))
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and '<svg class="qr"' in html and "<img" not in html
    assert page["Cache-Control"].count("no-store") == 1
    device = TOTPDevice.objects.get(user=operator)
    assert not device.confirmed
    assert client.get(response["Location"]).content.decode().count('<svg class="qr"') == 1
    assert TOTPDevice.objects.filter(user=operator).count() == 1  # a reload shows the same secret

    assert client.get("/").status_code == 302  # not in yet
    wrong = client.post(reverse("otp_enrol"), {"code": "000000", "next": "/?scope=unassigned"})
    assert wrong.status_code == 200 and "not right" in wrong.content.decode()

    done = client.post(reverse("otp_enrol"), {"code": code(device), "next": "/?scope=unassigned"})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and all(c in done.content.decode() for c in codes)
    stored = set(BackupCode.objects.filter(device__user=operator).values_list("code_hash", flat=True))
    assert stored == {backup_code_hashes(c)[0] for c in codes}  # only keyed hashes are kept
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/?scope=unassigned").status_code == 200
    assert client.get(reverse("security")).content.decode().count(codes[0]) == 0  # never shown again


def test_login_with_a_device_asks_for_the_code_then_lets_in(client, operator):
    english(operator)
    device = enrolled(operator)
    response = password_step(client, operator)
    assert response["Location"].startswith(reverse("otp_verify"))
    old_key = client.session.session_key
    assert UserSession.objects.filter(user=operator, session_key=old_key).exists()
    assert client.post(reverse("otp_verify"), {"code": code(device), "next": "/"})["Location"] == "/"
    assert client.get("/").status_code == 200
    # The session got a new key with the second factor; its bookkeeping row followed.
    assert client.session.session_key != old_key
    assert list(UserSession.objects.filter(user=operator).values_list("session_key", flat=True)) == [
        client.session.session_key
    ]


def test_a_backup_code_works_once(client, operator):
    english(operator)
    device = enrolled(operator)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        password_step(client, operator)
        client.post(reverse("otp_verify"), {"code": code(device)})
    with time_machine.travel(start + timedelta(seconds=31), tick=False):  # a TOTP code is good once
        codes = client.post(reverse("security"), {"code": code(device)}).context["codes"]
    client.post(reverse("logout"))
    password_step(client, operator)
    assert client.post(reverse("otp_verify"), {"code": codes[0].upper()})["Location"] == "/"
    client.post(reverse("logout"))
    password_step(client, operator)
    again = client.post(reverse("otp_verify"), {"code": codes[0]})
    assert again.status_code == 200 and "not right" in again.content.decode()
    assert client.get("/").status_code == 302


def test_new_backup_codes_need_a_current_code_and_replace_the_old(client, operator):
    login(client, operator)
    refused = client.post(reverse("security"), {"code": "123456"})
    assert refused.status_code == 200 and "codes" not in refused.context
    assert BackupCode.objects.filter(device__user=operator).count() == 0


# --- a password alone reaches nothing ------------------------------------------------------------


def test_password_only_session_reaches_no_page_and_no_api(client, operator, supervisor):
    enrolled(supervisor)
    password_step(client, supervisor)
    assert client.session.get("_auth_user_id") == str(supervisor.pk)  # the password step is done
    for url in ["/", reverse("dashboard"), reverse("team"), reverse("security"), reverse("preferences"),
                "/admin/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("otp_verify")), url
    assert client.post(reverse("take_next")).status_code == 403
    htmx = client.get("/?scope=unassigned", **HTMX)
    assert htmx["HX-Redirect"].startswith(reverse("otp_verify"))
    assert client.get(reverse("api-docs")).status_code == 403
    api = client.get(reverse("api-metrics"))
    assert api.status_code == 403 and "application/json" in api["Content-Type"]
    assert "Second factor" in api.json()["detail"]
    # The sign-in steps and logging out stay reachable.
    assert client.get(reverse("otp_verify")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_api_refuses_a_password_only_session_even_without_the_middleware(rf, supervisor):
    """The DRF authentication class holds the rule on its own (defence in depth)."""
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp.middleware import OTPMiddleware
    from rest_framework.request import Request

    from operators.api_auth import VerifiedSessionAuthentication

    request = rf.get("/api/v1/metrics/")
    request.session = SessionStore()
    request.user = supervisor
    request._dont_enforce_csrf_checks = True
    OTPMiddleware(lambda r: None)._install_lazy_accessors(request)
    assert VerifiedSessionAuthentication().authenticate(Request(request)) is None
    device = enrolled(supervisor)
    request.session["otp_device_id"] = device.persistent_id
    request.user = supervisor
    OTPMiddleware(lambda r: None)._install_lazy_accessors(request)
    user, _ = VerifiedSessionAuthentication().authenticate(Request(request))
    assert user.pk == supervisor.pk


def test_api_answers_a_verified_session(client, supervisor):
    login(client, supervisor)
    assert client.get(reverse("api-metrics")).status_code == 200


def test_an_attacker_with_the_password_cannot_replace_the_device(client, operator):
    enrolled(operator)
    password_step(client, operator)
    response = client.get(reverse("otp_enrol"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("otp_verify"))
    assert TOTPDevice.objects.filter(user=operator).count() == 1


def test_the_admin_login_is_ours(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/admin/"


# --- brute force ------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_that_username_from_that_address_for_the_cool_off(client, operator):
    english(operator)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        codes = [password_step(client, operator, password="wrong-password").status_code for _ in range(5)]
        assert codes == [200, 200, 200, 200, 429]
        locked = password_step(client, operator)  # the right password changes nothing now
        assert locked.status_code == 429 and "Too many attempts" in locked.content.decode()
        assert "_auth_user_id" not in client.session
        # Another address is not locked out of this account (a lockout is no denial-of-service tool).
        assert password_step(client, operator, ip="10.0.0.9").status_code == 302
    client.logout()
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert password_step(client, operator).status_code == 302


def test_one_address_trying_many_usernames_is_throttled(client, settings, operator):
    settings.LOGIN_RATE_PER_IP = 6
    statuses = [
        client.post(LOGIN, {"username": f"guess{i}", "password": "x"}, REMOTE_ADDR="10.1.1.1").status_code
        for i in range(7)
    ]
    assert statuses == [200] * 6 + [429]
    assert password_step(client, operator, ip="10.1.1.1").status_code == 429
    assert password_step(client, operator, ip="10.1.1.2").status_code == 302


def test_wrong_codes_lock_the_second_step(client, operator):
    english(operator)
    device = enrolled(operator)
    password_step(client, operator)
    for _ in range(4):
        assert client.post(reverse("otp_verify"), {"code": "000000"}).status_code == 200
    locked = client.post(reverse("otp_verify"), {"code": "000000"})
    assert locked.status_code == 429 and "Too many attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session  # signed out: the password is needed again
    # Signing in again does not reset the count: the right code is refused until the cool-off ends.
    password_step(client, operator)
    assert client.post(reverse("otp_verify"), {"code": code(device)}).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        password_step(client, operator)
        assert client.post(reverse("otp_verify"), {"code": code(device)}).status_code == 302
        assert client.get("/").status_code == 200


def test_local_demo_setting_lets_users_without_a_device_in(client, settings, operator):
    settings.OTP_REQUIRED = False
    assert password_step(client, operator)["Location"] == reverse("queue")
    assert client.get("/").status_code == 200
    # Whoever enrolled still gives a code, demo or not.
    client.post(reverse("logout"))
    enrolled(operator)
    assert password_step(client, operator)["Location"].startswith(reverse("otp_verify"))
    assert client.get("/").status_code == 302
