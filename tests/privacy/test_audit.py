"""The audit of reads: every read of a case is an event, supervisors see who read what, and
events cannot be changed or deleted (models, admin, and a PostgreSQL trigger)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext

from hotline.desk import services
from hotline.models import Case, CaseEvent, EventKind, ImmutableError, Stage
from tests.factories import make_case, make_operator, receive
from tests.pages import HTMX, assert_supervisors_only, login

pytestmark = pytest.mark.django_db


def _views(case: Case, **filters) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, kind=EventKind.VIEWED, **filters).order_by("pk"))


def test_a_case_page_load_is_one_read_by_page_and_an_api_detail_one_by_api(client, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    client.get(f"/cases/{case.pk}/")
    client.get(f"/cases/{case.pk}/", **HTMX, HTTP_HX_BOOSTED="true")  # the same visit (tests/privacy)
    client.get(f"/api/v1/cases/{case.pk}/")
    assert [(e.actor_id, e.data["via"]) for e in _views(case)] == [(operator.pk, "page"), (operator.pk, "api")]


def test_lists_and_audit_pages_are_not_reads_of_a_case(client, operator, supervisor):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, supervisor)
    for url in ("/", "/?scope=all", "/api/v1/cases/", f"/cases/{case.pk}/reads/", f"/audit/operators/{operator.pk}/",
                "/audit/"):
        assert client.get(url).status_code == 200, url
    assert _views(case) == []


def test_a_refused_read_records_nothing(client, operator, operator2):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator2)
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert _views(case) == []


def test_supervisors_see_who_read_a_case_on_its_page_and_on_the_reads_page(
    client, operator, operator2, supervisor, settings,
):
    settings.CASE_VIEW_VISIT_MINUTES = 0  # every load a visit of its own
    case = make_case(Stage.NEW, owner=operator)
    for reader in (operator, operator2, operator):
        login(client, reader)
        client.get(f"/cases/{case.pk}/")
    login(client, operator)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Seen by" not in page  # operators do not see the audit
    login(client, supervisor)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Seen by" in page and "olena" in page and "taras" in page and f"/cases/{case.pk}/reads/" in page
    reads = client.get(f"/cases/{case.pk}/reads/")
    rows = [e.actor.username for e in reads.context["page"]]
    assert rows == ["sofia", "olena", "olena", "taras", "olena"]  # latest first


def test_audit_pages_are_for_supervisors_only_and_403_for_others(client, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    for url in (f"/cases/{case.pk}/reads/", "/cases/987654321/reads/", f"/audit/operators/{operator.pk}/", "/audit/"):
        assert_supervisors_only(client.get(url))


def test_what_an_operator_read_is_listed_paginated_with_constant_queries(client, operator, supervisor):
    login(client, supervisor)

    def queries(n: int) -> int:
        for _ in range(n):
            case = receive().case
            services.case_record_view(actor=operator, case=case)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/audit/operators/{operator.pk}/")
        assert response.status_code == 200
        return len(ctx)

    few = queries(3)
    assert queries(60) == few
    page = client.get(f"/audit/operators/{operator.pk}/").context["page"]
    assert page.paginator.count == 63 and len(page.object_list) == 50
    assert client.get(f"/audit/operators/{operator.pk}/?page=2").context["page"].object_list.__len__() == 13
    assert client.get("/audit/operators/999999/").status_code == 404


def test_who_read_a_case_is_listed_with_constant_queries(client, operator, operator2, supervisor):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, supervisor)

    def queries(readers: list) -> int:
        for reader in readers:
            services.case_record_view(actor=reader, case=Case.objects.get(pk=case.pk))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/cases/{case.pk}/reads/").status_code == 200
        return len(ctx)

    few = queries([operator])
    assert queries([operator, operator2, supervisor] * 10) == few


def test_the_audit_index_counts_reads_per_person(client, operator, operator2, supervisor):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    for _ in range(3):
        services.case_record_view(actor=operator, case=case, via="api")
    services.case_record_view(actor=operator2, case=case)
    login(client, supervisor)
    rows = {row.user.username: (row.reads, row.cases) for row in client.get("/audit/").context["people"]}
    assert rows["olena"] == (3, 1) and rows["taras"] == (1, 1) and rows["sofia"] == (0, 0)


def test_events_cannot_be_changed_or_deleted_through_the_models_or_the_admin(operator):
    event = CaseEvent.objects.filter(case=make_case(Stage.ASSIGNED, owner=operator)).first()
    event.kind = EventKind.CLOSED
    with pytest.raises(ImmutableError):
        event.save()
    with pytest.raises(ImmutableError):
        event.delete()
    for model in (Case, CaseEvent):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_delete_permission(None) and not model_admin.has_change_permission(None)


@pytest.mark.postgres
def test_the_database_refuses_to_update_or_delete_an_event(operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    event = CaseEvent.objects.filter(case=case).first()
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).update(data={"rewritten": True})
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM hotline_caseevent WHERE id = %s", [event.pk])
    # Deleting a case would orphan its events: the ORM refuses, and so does the database.
    with pytest.raises(ProtectedError), transaction.atomic():
        Case.objects.filter(pk=case.pk).delete()
    with pytest.raises(IntegrityError, match="never deleted"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM hotline_case WHERE id = %s", [case.pk])
    assert CaseEvent.objects.get(pk=event.pk).data == event.data
    # Adding events is what the product does all day.
    services.case_record_view(actor=operator, case=case)


def test_a_close_comment_is_kept_as_a_note_not_in_the_event(operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    services.case_close(actor=operator, case_id=case.pk, reason="withdrew", comment="  went to Kharkiv  ")
    event = CaseEvent.objects.get(case=case, kind=EventKind.CLOSED)
    note = case.messages.get(pk=event.data["note_id"])
    assert (note.direction, note.body, note.author_id) == ("note", "went to Kharkiv", operator.pk)
    assert "comment" not in event.data
    other = make_case(Stage.IN_CONTACT, owner=make_operator("petro"))
    services.case_close(actor=Case.objects.get(pk=other.pk).owner, case_id=other.pk, reason="withdrew")
    assert CaseEvent.objects.get(case=other, kind=EventKind.CLOSED).data["note_id"] is None
