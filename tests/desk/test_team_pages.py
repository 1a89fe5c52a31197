"""The desk's staff pages: the header's shift toggle, and the supervisors' team and canned
replies pages (an operator's own preferences: tests/operators/test_preferences.py)."""


import pytest
from django.urls import reverse

from hotline.models import CannedReply, Case, Stage
from tests.factories import make_case, profile
from tests.pages import HTMX, assert_supervisors_only, flash, login

pytestmark = pytest.mark.django_db


def test_the_header_shift_toggle_ends_and_starts_my_shift(client, operator):
    login(client, operator)
    html = client.get(reverse("queue")).content.decode()
    assert "On shift" in html and "End shift" in html
    response = client.post(reverse("shift"), {"next": "/?scope=unassigned"})
    assert response["Location"] == "/?scope=unassigned"
    assert profile(operator).on_shift is False
    assert "Start shift" in client.get(reverse("queue")).content.decode()
    client.post(reverse("shift"), {"on_shift": "on"})
    assert profile(operator).on_shift is True


def test_the_shift_toggle_never_redirects_off_site(client, operator):
    login(client, operator)
    response = client.post(reverse("shift"), {"on_shift": "on", "next": "https://evil.example/"})
    assert response["Location"] == reverse("queue")


def test_team_page_is_for_supervisors(client, operator, supervisor):
    make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    assert_supervisors_only(client.get(reverse("team")))
    login(client, supervisor)
    html = client.get(reverse("team")).content.decode()
    assert "olena" in html and "1 / 10" in html


def test_supervisor_releases_an_operators_cases_from_the_team_page(client, operator, operator2, supervisor):
    cases = [make_case(Stage.IN_CONTACT, owner=operator) for _ in range(2)]
    login(client, operator2)
    assert_supervisors_only(client.post(reverse("operator_release", args=[operator.pk]), {"to": ""}))
    login(client, supervisor)
    response = client.post(reverse("operator_release", args=[operator.pk]), {"to": operator2.pk})
    assert response["Location"] == reverse("team") and "Cases moved." in flash(response)
    assert set(Case.objects.filter(owner=operator2).values_list("pk", flat=True)) == {c.pk for c in cases}
    client.post(reverse("operator_release", args=[operator2.pk]), {"to": ""})
    assert Case.objects.filter(owner__isnull=True, closed_at__isnull=True).count() == 2


def test_supervisor_ends_someone_elses_shift(client, operator, operator2, supervisor):
    login(client, operator2)
    assert_supervisors_only(client.post(reverse("operator_shift", args=[operator.pk]), {}))
    login(client, supervisor)
    client.post(reverse("operator_shift", args=[operator.pk]), {})
    assert profile(operator).on_shift is False


def test_canned_replies_page_is_for_supervisors(client, operator, supervisor):
    login(client, operator)
    assert_supervisors_only(client.get(reverse("canned_replies")))
    assert_supervisors_only(client.post(reverse("canned_create"), {"title": "x", "body": "y"}))
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
