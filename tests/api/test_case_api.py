"""GET /api/v1/cases/ and /api/v1/cases/<id>/: the pages' access rules, no identifiers in
lists, constant queries, documented in the OpenAPI schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hotline.desk import services
from hotline.models import Case, Stage
from tests.factories import make_case, make_operator, receive
from tests.pages import login

pytestmark = pytest.mark.django_db

LIST = "/api/v1/cases/"


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def cases(operator, operator2):
    """Olena's case, Taras's case, an unassigned one, Olena's closed one, an unassigned closed one."""
    mine = make_case(Stage.IN_CONTACT, owner=operator)
    theirs = make_case(Stage.IN_CONTACT, owner=operator2)
    waiting = services.request_receive(
        actor=None, channel="telegram", identifier="4455667788", display_name="Secret Name", text="help me",
    ).case
    closed = make_case(Stage.CLOSED, owner=operator)
    orphan = receive().case
    services.case_close(actor=operator, case_id=orphan.pk, reason="duplicate")
    return {"mine": mine, "theirs": theirs, "waiting": waiting, "closed": closed, "orphan": orphan}


def test_operators_list_their_cases_and_the_open_unassigned_ones_supervisors_all(client, cases, operator, supervisor):
    login(client, operator)
    assert _ids(client.get(LIST)) == {cases["mine"].pk, cases["waiting"].pk, cases["closed"].pk}
    login(client, supervisor)
    assert _ids(client.get(LIST)) == {case.pk for case in cases.values()}


def test_a_list_never_holds_an_identifier_or_a_name(client, cases, operator, supervisor):
    for user in (operator, supervisor):
        login(client, user)
        body = client.get(LIST).content.decode()
        assert "4455667788" not in body and "Secret Name" not in body and "help me" not in body
        assert "contact" not in client.get(LIST).json()["results"][0]


def test_filters_by_stage_channel_language_and_overdue(client, cases, supervisor):
    login(client, supervisor)
    assert _ids(client.get(LIST, {"stage": "closed"})) == {cases["closed"].pk, cases["orphan"].pk}
    assert _ids(client.get(LIST, {"channel": "phone"})) == set()
    assert _ids(client.get(LIST, {"language": "uk"})) == set()
    assert cases["waiting"].pk in _ids(client.get(LIST, {"language": "", "stage": "new"}))
    assert _ids(client.get(LIST, {"overdue": "true"})) == set()
    waited = timezone.now() - timedelta(hours=settings.SLA_HOURS)
    Case.objects.filter(pk=cases["waiting"].pk).update(awaiting_since=waited)
    assert _ids(client.get(LIST, {"overdue": "true"})) == {cases["waiting"].pk}
    response = client.get(LIST, {"stage": "nonsense"})
    assert response.status_code == 400 and "stage" in response.json()


def test_the_list_is_paginated_and_runs_constant_queries(client, supervisor):
    operator = make_operator("busy", capacity=100)
    login(client, supervisor)

    def queries(n: int) -> int:
        for _ in range(n):
            make_case(Stage.ASSIGNED, owner=operator)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx)

    few = queries(2)
    assert queries(60) == few
    page = client.get(LIST).json()
    assert page["count"] == 62 and len(page["results"]) == 50 and page["next"]


def test_the_detail_gives_the_owner_the_contact_conversation_and_timeline(client, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    services.case_add_note(actor=operator, case_id=case.pk, text="a note")
    login(client, operator)
    with CaptureQueriesContext(connection) as ctx:
        data = client.get(f"{LIST}{case.pk}/").json()
    assert data["contact"]["identifier"] == Case.objects.get(pk=case.pk).contact.identifier
    assert [m["body"] for m in data["conversation"]] == ["Хочу сдаться", "Здравствуйте, мы на связи.", "a note"]
    assert [e["kind"] for e in data["timeline"]][:3] == ["created", "request", "assigned"]
    assert "viewed" not in [e["kind"] for e in data["timeline"]]
    many = len(ctx)
    for n in range(10):
        services.case_add_note(actor=operator, case_id=case.pk, text=f"note {n}")
    with CaptureQueriesContext(connection) as ctx:
        client.get(f"{LIST}{case.pk}/")
    assert len(ctx) == many


def test_an_unassigned_case_shows_an_operator_the_conversation_but_not_the_contact(client, cases, operator):
    login(client, operator)
    data = client.get(f"{LIST}{cases['waiting'].pk}/").json()
    assert data["contact"] is None and data["triage"] is None and data["surrender_place"] is None
    assert [m["body"] for m in data["conversation"]] == ["help me"]
    assert "4455667788" not in str(data) and "Secret Name" not in str(data)


def test_a_case_that_is_not_yours_answers_exactly_like_one_that_does_not_exist(client, cases, operator):
    login(client, operator)
    for key in ("theirs", "orphan"):
        hidden = client.get(f"{LIST}{cases[key].pk}/")
        missing = client.get(f"{LIST}999999/")
        assert (hidden.status_code, hidden.content) == (missing.status_code, missing.content) == (404, missing.content)


def test_a_supervisor_reads_any_case_with_its_contact(client, cases, supervisor):
    login(client, supervisor)
    data = client.get(f"{LIST}{cases['waiting'].pk}/").json()
    assert data["contact"] == {"channel": "telegram", "identifier": "4455667788", "display_name": "Secret Name",
                               "erased": False}


def test_without_a_session_the_api_refuses(client, cases):
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}{cases['mine'].pk}/").status_code == 403


def test_an_intake_api_token_does_not_open_the_case_api(client, cases, supervisor):
    from hotline.intake.tokens import api_token_create

    token = api_token_create(actor=supervisor, name="form")[1]
    response = client.get(LIST, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


def test_the_case_api_is_in_the_openapi_schema(client, supervisor):
    login(client, supervisor)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert {"/api/v1/cases/", "/api/v1/cases/{case_id}/"} <= set(schema["paths"])
    parameters = {p["name"] for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    assert {"stage", "channel", "language", "overdue", "page"} <= parameters
    detail = schema["paths"]["/api/v1/cases/{case_id}/"]["get"]
    assert {"200", "404"} <= set(detail["responses"])


@pytest.mark.parametrize("path", [LIST, "detail"])
def test_a_password_only_session_is_refused_by_the_api_view_itself(client, cases, operator, path, settings):
    """Second factor enforced by the API's own authentication, not only by the middleware."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "operators.middleware.SecondFactorMiddleware"]
    client.force_login(operator)  # password step only: no device verified in this session
    url = LIST if path == LIST else f"{LIST}{cases['mine'].pk}/"
    response = client.get(url)
    assert response.status_code in (401, 403)
    assert "results" not in response.json()
