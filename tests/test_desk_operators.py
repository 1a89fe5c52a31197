"""Operators' own pages (shift, preferences), supervisors' pages (team, canned replies), and the
per-operator language and time zone."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from hotline.models import CannedReply, Case, Stage
from operators.models import OperatorProfile
from tests.desk_helpers import HTMX, flash, login
from tests.factories import make_case, receive

pytestmark = pytest.mark.django_db


def _profile(user) -> OperatorProfile:
    return OperatorProfile.objects.get(user=user)


def test_the_header_shift_toggle_ends_and_starts_my_shift(client, operator):
    login(client, operator)
    html = client.get(reverse("queue")).content.decode()
    assert "On shift" in html and "End shift" in html
    response = client.post(reverse("shift"), {"next": "/?scope=unassigned"})
    assert response["Location"] == "/?scope=unassigned"
    assert _profile(operator).on_shift is False
    assert "Start shift" in client.get(reverse("queue")).content.decode()
    client.post(reverse("shift"), {"on_shift": "on"})
    assert _profile(operator).on_shift is True


def test_the_shift_toggle_never_redirects_off_site(client, operator):
    login(client, operator)
    response = client.post(reverse("shift"), {"on_shift": "on", "next": "https://evil.example/"})
    assert response["Location"] == reverse("queue")


def test_preferences_change_language_and_time_zone(client, operator):
    login(client, operator)
    assert client.get(reverse("preferences")).status_code == 200
    response = client.post(reverse("preferences"), {"ui_language": "uk", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    profile = _profile(operator)
    assert (profile.ui_language, profile.time_zone) == ("uk", "Asia/Tokyo")
    bad = client.post(reverse("preferences"), {"ui_language": "xx", "time_zone": "Mars/Base"}, **HTMX)
    assert bad.status_code == 400
    assert _profile(operator).time_zone == "Asia/Tokyo"


def test_times_are_shown_in_the_operators_time_zone(client, operator):
    with time_machine.travel(datetime(2026, 1, 15, 10, 0, tzinfo=UTC), tick=False):
        case = receive().case
    from hotline import services

    services.case_take(actor=operator, case_id=case.pk)
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


def test_team_page_is_for_supervisors(client, operator, supervisor):
    make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    assert client.get(reverse("team")).status_code == 404
    login(client, supervisor)
    html = client.get(reverse("team")).content.decode()
    assert "olena" in html and "1 / 10" in html


def test_supervisor_releases_an_operators_cases_from_the_team_page(client, operator, operator2, supervisor):
    cases = [make_case(Stage.IN_CONTACT, owner=operator) for _ in range(2)]
    login(client, operator2)
    assert client.post(reverse("operator_release", args=[operator.pk]), {"to": ""}).status_code == 404
    login(client, supervisor)
    response = client.post(reverse("operator_release", args=[operator.pk]), {"to": operator2.pk})
    assert response["Location"] == reverse("team") and "Cases moved." in flash(response)
    assert set(Case.objects.filter(owner=operator2).values_list("pk", flat=True)) == {c.pk for c in cases}
    client.post(reverse("operator_release", args=[operator2.pk]), {"to": ""})
    assert Case.objects.filter(owner__isnull=True, closed_at__isnull=True).count() == 2


def test_supervisor_ends_someone_elses_shift(client, operator, operator2, supervisor):
    login(client, operator2)
    assert client.post(reverse("operator_shift", args=[operator.pk]), {}).status_code == 404
    login(client, supervisor)
    client.post(reverse("operator_shift", args=[operator.pk]), {})
    assert _profile(operator).on_shift is False


def test_canned_replies_page_is_for_supervisors(client, operator, supervisor):
    login(client, operator)
    assert client.get(reverse("canned_replies")).status_code == 404
    assert client.post(reverse("canned_create"), {"title": "x", "body": "y"}).status_code == 404
    assert not CannedReply.objects.exists()
    login(client, supervisor)
    assert client.get(reverse("canned_replies")).status_code == 200
    client.post(reverse("canned_create"), {"title": "Hello", "body": "Hello there", "language": "ru", "active": "on"})
    reply = CannedReply.objects.get()
    assert (reply.title, reply.language, reply.active) == ("Hello", "ru", True)
    assert "Hello there" in client.get(reverse("canned_replies") + f"?edit={reply.pk}").content.decode()
    client.post(reverse("canned_update", args=[reply.pk]), {"title": "Hello", "body": "Changed", "language": ""})
    reply.refresh_from_db()
    assert (reply.body, reply.language, reply.active) == ("Changed", "", False)
    empty = client.post(reverse("canned_create"), {"title": "", "body": ""}, **HTMX)
    assert empty.status_code == 400
