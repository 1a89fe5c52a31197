"""Pages: login everywhere, the queue and case page with their query counts pinned."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hotline.models import Stage
from tests.factories import login, make_case, receive

pytestmark = pytest.mark.django_db


def test_every_page_requires_login(client, operator):
    case = make_case(Stage.ASSIGNED, owner=operator)
    for url in (reverse("queue"), reverse("case", args=[case.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_login_page_answers(client):
    assert client.get(reverse("login")).status_code == 200


def test_queue_shows_unassigned_cases_overdue_first(client, operator):
    from datetime import timedelta

    from django.utils import timezone

    old = receive(at=timezone.now() - timedelta(hours=30)).case
    new = receive().case
    login(client, operator)
    response = client.get(reverse("queue") + "?scope=unassigned")
    assert response.status_code == 200
    rows = list(response.context["page"])
    assert [c.pk for c in rows] == [old.pk, new.pk]
    assert b"sla-overdue" in response.content


def test_case_page_of_another_operator_is_404(client, operator, operator2, supervisor):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator2)
    assert client.get(reverse("case", args=[case.pk])).status_code == 404
    login(client, supervisor)
    assert client.get(reverse("case", args=[case.pk])).status_code == 200
    login(client, operator)
    assert client.get(reverse("case", args=[case.pk])).status_code == 200


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_queue_and_case_page_queries_are_constant(client, operator, settings):
    settings.CASE_VIEW_VISIT_MINUTES = 0  # each load a new visit, which records its read
    login(client, operator)
    case = make_case(Stage.IN_CONTACT, owner=operator)
    queue_small = _queries(client, reverse("queue"))
    case_small = _queries(client, reverse("case", args=[case.pk]))
    for _ in range(8):
        make_case(Stage.IN_CONTACT, owner=operator)
        receive(identifier=case.contact.identifier)
    assert _queries(client, reverse("queue")) == queue_small
    assert _queries(client, reverse("case", args=[case.pk])) == case_small
