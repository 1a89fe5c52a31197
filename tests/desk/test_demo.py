"""Issue 16, points 2, 6 and 10: a demo that demonstrates.

- every seeded operator is below their capacity, off shift, with waiting cases in their
  languages: Take next gives each of them a case;
- canned replies in Russian and Ukrainian, so the reply box offers them;
- the seeded answers were never sent anywhere: delivered, not a red "Telegram is not configured";
- the demo logins are kept in var/ (0600) and printed by `seed_demo --show-logins` at every start,
  on a DEBUG machine only.
"""

from __future__ import annotations

import json
import stat
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.urls import reverse

from hotline.desk import ownership
from hotline.models import CannedReply, Case, Delivery, Message
from tests.pages import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("seed_demo", "--cases", "60", "--show-logins", stdout=out)
    return out.getvalue()


def test_every_demo_operator_is_below_their_limit_and_take_next_gives_each_a_case(client, demo):
    for name in ("olena", "taras", "iryna"):
        user = User.objects.get(username=name)
        assert not user.operator.on_shift
        assert ownership.active_case_count(user) < user.operator.capacity
        login(client, user)
        response = client.post(reverse("take_next"))
        assert response.status_code == 302 and response["Location"].startswith("/cases/"), (name, response.status_code)
        taken = Case.objects.get(pk=int(response["Location"].split("/")[2]))
        assert taken.owner_id == user.pk
        assert taken.language in user.operator.languages.values_list("code", flat=True)


def test_the_demo_has_canned_replies_in_russian_and_ukrainian_and_the_picker_shows(client, demo):
    assert set(CannedReply.objects.filter(active=True).values_list("language", flat=True)) == {"ru", "uk"}
    olena = User.objects.get(username="olena")
    case = Case.objects.filter(owner=olena, channel="telegram", closed_at__isnull=True).first()
    login(client, olena)
    html = client.get(reverse("case", args=[case.pk])).content.decode()
    assert 'id="canned-pick"' in html and "data-canned-insert" in html


def test_the_demos_answers_are_delivered_not_failed(demo):
    outbound = Message.objects.filter(direction="outbound", is_call=False)  # written messages, not calls
    assert outbound.exists()
    assert set(outbound.values_list("delivery", flat=True)) == {Delivery.SENT}
    assert not outbound.exclude(delivery_error="").exists()


def test_the_logins_are_kept_in_var_and_printed_at_every_start(demo, settings):
    path = settings.VAR_DIR / "demo-logins.json"
    kept = json.loads(path.read_text())
    assert set(kept) == {"supervisor", "olena", "taras", "iryna"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for name, entry in kept.items():
        assert f"{name:<11} {entry['password']:<14} {entry['role']:<11} {entry['language']}" in demo
        assert User.objects.get(username=name).check_password(entry["password"])
    again = StringIO()
    call_command("seed_demo", "--if-empty", "--show-logins", stdout=again)  # the second `make run`
    text = again.getvalue()
    assert "Demo data already present." in text and kept["olena"]["password"] in text


def test_the_logins_are_for_a_debug_machine_only(demo, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="local"):
        call_command("seed_demo", "--show-logins", stdout=StringIO())


def test_the_demo_speaks_both_interface_languages(demo):
    languages = dict(User.objects.filter(operator__isnull=False).values_list("username", "operator__ui_language"))
    assert set(languages.values()) == {"en", "uk"}
