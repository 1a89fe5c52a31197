"""Issue 16, point 7 (the Team page): a supervisor edits capacity, languages, shift and role in
the row; deactivating someone is a confirmation step, never one red click.

(Before: a red Deactivate button on every row, acting at once.)
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from hotline.models import Case, Stage
from operators.models import OperatorProfile, StaffEvent, StaffEventKind
from operators.roles import is_supervisor
from tests.factories import make_case
from tests.pages import login

pytestmark = pytest.mark.django_db


def test_the_row_edits_capacity_languages_shift_and_role_at_once(client, operator, supervisor):
    login(client, supervisor)
    page = client.get(reverse("team")).content.decode()
    for field in ("capacity", "languages", "on_shift", "role"):
        assert f'name="{field}"' in page
    assert f'id="op{operator.pk}_on_shift" checked' in page
    response = client.post(reverse("operator_settings", args=[operator.pk]), {
        "capacity": "4", "languages": ["en"], "role": "supervisor",  # and on_shift left unticked: off shift
    })
    assert response.status_code == 302
    profile = OperatorProfile.objects.get(user=operator)
    assert (profile.capacity, list(profile.languages.values_list("code", flat=True)), profile.on_shift) == (
        4, ["en"], False,
    )
    assert is_supervisor(type(operator).objects.get(pk=operator.pk))
    kinds = set(StaffEvent.objects.filter(subject=operator).values_list("kind", flat=True))
    assert kinds == {
        StaffEventKind.CAPACITY_CHANGED, StaffEventKind.LANGUAGES_CHANGED, StaffEventKind.ROLE_CHANGED,
        StaffEventKind.SHIFT_CHANGED,
    }


def test_deactivation_is_a_confirmation_step(client, operator, supervisor):
    cases = [make_case(Stage.IN_CONTACT, owner=operator) for _ in range(2)]
    login(client, supervisor)
    team = client.get(reverse("team")).content.decode()
    url = reverse("operator_deactivate", args=[operator.pk])
    assert f'action="{url}"' not in team  # no form that deactivates from the list
    assert f'href="{url}"' in team  # a link to the confirmation step
    confirm = client.get(url).content.decode()
    assert "Deactivate olena?" in confirm and "Their 2 open cases go back to the unassigned queue" in confirm
    assert 'name="confirm"' in confirm and f'href="{reverse("team")}">Cancel' in confirm
    refused = client.post(url, {})
    assert refused.status_code == 400 and "Tick the box to confirm." in refused.content.decode()
    operator.refresh_from_db()
    assert operator.is_active
    assert client.post(url, {"confirm": "on"})["Location"] == reverse("team")
    operator.refresh_from_db()
    assert not operator.is_active and not Case.objects.filter(pk__in=[c.pk for c in cases], owner=operator).exists()


def test_the_confirmation_step_is_for_supervisors(client, operator, operator2):
    login(client, operator)
    assert client.get(reverse("operator_deactivate", args=[operator2.pk])).status_code == 403


def test_slash_operators_takes_each_to_their_page(client, operator, supervisor):
    """Point 11: /operators/ answered a debug 404."""
    login(client, supervisor)
    assert client.get("/operators/")["Location"] == reverse("team")
    login(client, operator)
    assert client.get("/operators/")["Location"] == reverse("preferences")
