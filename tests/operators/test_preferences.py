"""An operator's own preferences: interface language and time zone, and what each operator then
sees (the pages are the operators room's, the times and words on the desk follow them)."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from hotline.desk import ownership
from tests.factories import profile, receive
from tests.pages import HTMX, login

pytestmark = pytest.mark.django_db


def test_preferences_change_language_and_time_zone(client, operator):
    login(client, operator)
    assert client.get(reverse("preferences")).status_code == 200
    response = client.post(reverse("preferences"), {"ui_language": "uk", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    saved = profile(operator)
    assert (saved.ui_language, saved.time_zone) == ("uk", "Asia/Tokyo")
    bad = client.post(reverse("preferences"), {"ui_language": "xx", "time_zone": "Mars/Base"}, **HTMX)
    assert bad.status_code == 400
    assert profile(operator).time_zone == "Asia/Tokyo"


def test_times_are_shown_in_the_operators_time_zone(client, operator):
    with time_machine.travel(datetime(2026, 1, 15, 10, 0, tzinfo=UTC), tick=False):
        case = receive().case
    ownership.case_take(actor=operator, case_id=case.pk)
    login(client, operator, time_zone="Europe/Kyiv")
    assert "15.01.2026 12:00" in client.get(reverse("case", args=[case.pk])).content.decode()
    login(client, operator, time_zone="Asia/Tokyo")
    assert "15.01.2026 19:00" in client.get(reverse("case", args=[case.pk])).content.decode()


def test_each_operator_sees_their_own_interface_language(client, operator, operator2):
    login(client, operator, language="uk")
    assert "Черга" in client.get(reverse("queue")).content.decode()
    login(client, operator2, language="en")
    html = client.get(reverse("queue")).content.decode()
    assert "Queue" in html and "Черга" not in html
