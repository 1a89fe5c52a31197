"""Sessions end after inactivity and after a maximum length (server side, background polling
does not count), and a supervisor can end an operator's sessions or take their access away."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hotline.models import Case, Stage
from operators.models import OperatorProfile, UserSession
from tests.factories import login, make_case, receive
from tests.pages import assert_supervisors_only

pytestmark = pytest.mark.django_db

QUEUE = "/?scope=unassigned"
POLL = {"HTTP_HX_REQUEST": "true", "HTTP_X_BACKGROUND_REFRESH": "1", "HTTP_HX_CURRENT_URL": "http://testserver/"}


def signed_in(client) -> bool:
    return client.get(QUEUE).status_code == 200


def test_a_session_ends_after_thirty_idle_minutes(client, operator):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        login(client, operator)
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert signed_in(client)  # activity: the idle clock starts again
    with time_machine.travel(start + timedelta(minutes=58), tick=False):
        assert signed_in(client)
    with time_machine.travel(start + timedelta(minutes=88, seconds=30), tick=False):
        response = client.get(QUEUE)
        assert response.status_code == 302 and response["Location"].startswith("/login/?")
        assert "ended=idle" in response["Location"]
        assert "_auth_user_id" not in client.session
        assert not UserSession.objects.filter(user=operator).exists()
        assert "signed out after a while" in client.get(response["Location"]).content.decode()


def test_background_polling_does_not_keep_a_session_alive(client, operator):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        login(client, operator)
    for minute in (5, 10, 20, 29):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            assert client.get(QUEUE, **POLL).status_code == 200
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        poll = client.get(QUEUE, **POLL)
    # The polled fragment does not swap in a login form: the browser goes to the login page.
    assert poll["HX-Redirect"].startswith("/login/?") and "ended=idle" in poll["HX-Redirect"]
    assert "_auth_user_id" not in client.session


def test_the_same_requests_without_the_background_mark_are_activity(client, operator):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        login(client, operator)
    user_clicks = {k: v for k, v in POLL.items() if k != "HTTP_X_BACKGROUND_REFRESH"}
    for minute in (5, 10, 20, 29, 45):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            assert client.get(QUEUE, **user_clicks).status_code == 200
    with time_machine.travel(start + timedelta(minutes=70), tick=False):
        assert signed_in(client)
        row = UserSession.objects.get(user=operator)
        assert row.last_activity == start + timedelta(minutes=70)


def test_a_session_ends_after_twelve_hours_whatever_the_activity(client, operator):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        login(client, operator)
    for step in range(1, 37):  # a request every 20 minutes for 12 hours
        with time_machine.travel(start + timedelta(minutes=20 * step), tick=False):
            assert signed_in(client), step
    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        response = client.get(QUEUE)
    assert response.status_code == 302 and "ended=max" in response["Location"]


def test_the_idle_limit_is_a_setting(client, settings, operator):
    settings.SESSION_IDLE_MINUTES = 5
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        login(client, operator)
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert not signed_in(client)


def test_pages_are_not_stored_by_browsers_or_proxies(client, operator):
    case = make_case(Stage.ASSIGNED, owner=operator)
    login(client, operator)
    for url in ("/", reverse("case", args=[case.pk]), reverse("preferences")):
        assert "no-store" in client.get(url)["Cache-Control"], url


# --- supervisors ----------------------------------------------------------------------------------


def test_a_supervisor_ends_all_of_one_operators_sessions(client, operator, operator2, supervisor):
    laptop, phone, colleague = Client(), Client(), Client()
    login(laptop, operator)
    login(phone, operator)
    login(colleague, operator2)
    assert UserSession.objects.filter(user=operator).count() == 2
    OperatorProfile.objects.filter(user=supervisor).update(ui_language="en")
    login(client, supervisor)
    assert "2 sessions" in client.get(reverse("team")).content.decode()
    response = client.post(reverse("operator_sessions_end", args=[operator.pk]))
    assert response.status_code == 302
    assert not signed_in(laptop) and not signed_in(phone)
    assert signed_in(colleague) and signed_in(client)
    assert not UserSession.objects.filter(user=operator).exists()


def test_an_operator_cannot_end_someone_elses_sessions_or_deactivate_them(client, operator, operator2):
    other = Client()
    login(other, operator2)
    OperatorProfile.objects.filter(user=operator).update(ui_language="en")  # the refusal is read in English
    login(client, operator)
    assert_supervisors_only(client.post(reverse("operator_sessions_end", args=[operator2.pk])))
    assert_supervisors_only(client.post(reverse("operator_deactivate", args=[operator2.pk])))
    assert_supervisors_only(client.post(reverse("operator_2fa_reset", args=[operator2.pk])))
    assert signed_in(other)
    operator2.refresh_from_db()
    assert operator2.is_active


def test_deactivation_ends_sessions_and_returns_open_cases_to_the_queue(client, operator, operator2, supervisor):
    assigned = make_case(Stage.ASSIGNED, owner=operator)
    talking = make_case(Stage.IN_CONTACT, owner=operator)
    theirs = make_case(Stage.ASSIGNED, owner=operator2)
    done = make_case(Stage.CLOSED, owner=operator)
    browser = Client()
    login(browser, operator)
    login(client, supervisor)
    response = client.post(reverse("operator_deactivate", args=[operator.pk]), {"confirm": "on"})
    assert response.status_code == 302
    operator.refresh_from_db()
    assert not operator.is_active and not OperatorProfile.objects.get(user=operator).on_shift
    assert not signed_in(browser)
    assert Case.objects.get(pk=assigned.pk).owner is None and Case.objects.get(pk=assigned.pk).stage == Stage.NEW
    assert Case.objects.get(pk=talking.pk).owner is None
    assert Case.objects.get(pk=theirs.pk).owner == operator2
    assert Case.objects.get(pk=done.pk).owner == operator  # history stays as it was
    # The password no longer opens anything.
    relogin = browser.post("/login/", {"username": operator.username, "password": "correct horse battery"})
    assert relogin.status_code == 200 and "_auth_user_id" not in browser.session


def test_a_supervisor_cannot_deactivate_themselves(client, supervisor):
    login(client, supervisor)
    client.post(reverse("operator_deactivate", args=[supervisor.pk]), {"confirm": "on"})
    supervisor.refresh_from_db()
    assert supervisor.is_active and signed_in(client)


def test_resetting_the_second_factor_signs_out_and_asks_for_enrolment(client, operator, supervisor):
    from operators.models import AuthenticatorDevice as TOTPDevice

    browser = Client()
    login(browser, operator)
    login(client, supervisor)
    client.post(reverse("operator_2fa_reset", args=[operator.pk]))
    assert not TOTPDevice.objects.filter(user=operator).exists()
    assert not signed_in(browser)
    response = browser.post("/login/", {"username": operator.username, "password": "correct horse battery"})
    assert response["Location"].startswith(reverse("otp_enrol"))


def test_new_requests_still_arrive_for_others_after_a_deactivation(client, operator, supervisor):
    login(client, supervisor)
    client.post(reverse("operator_deactivate", args=[operator.pk]), {"confirm": "on"})
    case = receive().case
    assert case.owner_id != operator.pk
