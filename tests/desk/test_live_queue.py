"""A queue to work from (selectors.queue_rows): the person's name, the last message's start,
an unread marker and the last activity, only where the viewer may see identifiers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hotline.desk import ownership, services
from tests.pages import login

pytestmark = pytest.mark.django_db
QUEUE = reverse("queue")
LONG = "Здравствуйте, я хочу сдаться в плен вместе с товарищем, мы сейчас находимся недалеко от линии фронта и ждём"


def _received(identifier: str, name: str, text: str = "Хочу сдаться"):
    return services.request_receive(
        actor=None, channel="telegram", identifier=identifier, text=text, display_name=name, language="ru",
    ).case


def _row(response, case_id: int):
    return next(case for case in response.context["page"] if case.pk == case_id).row


def test_own_rows_show_the_person_the_last_message_and_unread(client, operator):
    case = _received("5001", "Виктор Гончар", LONG)
    ownership.case_take(actor=operator, case_id=case.pk)
    login(client, operator)
    response = client.get(QUEUE + "?scope=mine")
    row = _row(response, case.pk)
    assert row.name == "Виктор Гончар" and row.unread and row.last_at is not None
    assert row.preview == LONG[:80] + "…"
    html = response.content.decode()
    assert "Виктор Гончар" in html and "badge-unread" in html and LONG[:80] in html

    client.get(reverse("case", args=[case.pk]))  # the owner opens it: read
    assert not _row(client.get(QUEUE + "?scope=mine"), case.pk).unread
    services.case_add_note(actor=operator, case_id=case.pk, text="internal")  # a note is not a message to show
    assert _row(client.get(QUEUE + "?scope=mine"), case.pk).preview == LONG[:80] + "…"
    _received("5001", "Виктор Гончар", "Ещё одно")
    row = _row(client.get(QUEUE + "?scope=mine"), case.pk)
    assert row.unread and row.preview == "Ещё одно"


def test_a_supervisor_opening_the_case_does_not_mark_it_read_for_its_owner(client, operator, supervisor):
    case = _received("5002", "Анна")
    ownership.case_take(actor=operator, case_id=case.pk)
    login(client, supervisor)
    client.get(reverse("case", args=[case.pk]))
    row = _row(client.get(QUEUE + "?scope=all"), case.pk)
    assert row.name == "Анна" and row.unread


def test_unassigned_rows_stay_without_identifiers_for_operators(client, operator, supervisor):
    case = _received("5003", "Игорь Секретный", "Моё имя Игорь")
    login(client, operator)
    response = client.get(QUEUE + "?scope=unassigned")
    row = _row(response, case.pk)
    assert row.name == "" and row.preview == "" and not row.unread
    html = response.content.decode()
    assert "Секретный" not in html and "Моё имя" not in html
    login(client, supervisor)
    assert _row(client.get(QUEUE + "?scope=unassigned"), case.pk).name == "Игорь Секретный"
