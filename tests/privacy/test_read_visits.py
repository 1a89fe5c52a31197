"""Issue 16, point 9: the audit counts visits, not requests. A person who opens a case page is one
read; the page shown again within CASE_VIEW_VISIT_MINUTES (after each action they take on it,
Post/Redirect/Get, or a reload) is the same visit. A request the page makes by itself
(`X-Background-Refresh: 1`, the header of every polling request) is never a read. Another person,
another case, or the same person after the window: a new read. API reads are one each.

(Before: 21 reads for one operator working 3 cases.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from hotline.models import CaseEvent, EventKind, Stage
from tests.factories import make_case
from tests.pages import HTMX, login

pytestmark = pytest.mark.django_db


def _reads(case, actor=None) -> int:
    events = CaseEvent.objects.filter(case=case, kind=EventKind.VIEWED)
    return events.filter(actor=actor).count() if actor else events.count()


def test_working_a_case_is_one_read_not_one_per_action(client, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    assert client.get(reverse("case", args=[case.pk])).status_code == 200
    for text in ("Здравствуйте", "Где вы сейчас?"):
        response = client.post(reverse("case_reply", args=[case.pk]), {"text": text}, follow=True)
        assert response.status_code == 200
    client.post(reverse("case_note", args=[case.pk]), {"text": "Спокоен"}, follow=True)
    client.post(reverse("case_advance", args=[case.pk]), {"to_stage": "planning"})  # refused: re-rendered
    client.get(reverse("case", args=[case.pk]), **HTMX, HTTP_HX_BOOSTED="true")
    assert _reads(case) == 1


def test_polling_is_never_a_read(client, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    client.get(reverse("case", args=[case.pk]), HTTP_X_BACKGROUND_REFRESH="1", **HTMX)
    assert _reads(case) == 0


def test_a_new_visit_after_the_window_another_person_or_another_case_is_a_new_read(
    client, operator, supervisor, settings,
):
    settings.CASE_VIEW_VISIT_MINUTES = 30
    case, other = make_case(Stage.IN_CONTACT, owner=operator), make_case(Stage.IN_CONTACT, owner=operator)
    start = timezone.now()
    login(client, operator)
    client.get(reverse("case", args=[case.pk]))
    client.get(reverse("case", args=[other.pk]))
    with time_machine.travel(start + timedelta(minutes=29)):
        client.get(reverse("case", args=[case.pk]))
    assert _reads(case, operator) == 1 and _reads(other, operator) == 1
    with time_machine.travel(start + timedelta(minutes=61)):
        login(client, operator)  # the session's own clock would have ended it meanwhile
        client.get(reverse("case", args=[case.pk]))
    assert _reads(case, operator) == 2
    login(client, supervisor)
    client.get(reverse("case", args=[case.pk]))
    assert _reads(case, supervisor) == 1


def test_every_api_detail_is_a_read(client, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    for _ in range(2):
        assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert list(CaseEvent.objects.filter(case=case, kind=EventKind.VIEWED).values_list("data__via", flat=True)) == [
        "api", "api",
    ]
