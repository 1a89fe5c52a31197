"""Logging an inbound call is no oracle into colleagues' cases (issue 17, item 1).

Before: operator A typing the number of operator B's case into "Log an inbound call" read
"Call logged on case #8, which another operator owns". Now the call still lands on B's case
(nothing is lost), A learns neither its number nor its owner, B is told in the header, and the
lookup is an audited read that supervisors see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hotline.desk import services
from hotline.desk.selectors import header_counts
from hotline.models import Case, CaseEvent, EventKind, Message, NoticeKind, Notification, Stage
from tests.factories import make_case
from tests.pages import flash, login

pytestmark = pytest.mark.django_db


def log_call(client, number: str, summary: str = "Called again, wants to talk to his operator"):
    return client.post(reverse("call_log"), {"number": number, "caller_name": "", "language": "", "summary": summary})


@pytest.fixture
def theirs(operator2) -> Case:
    """taras's case of a person who phones the hotline."""
    return make_case(Stage.IN_CONTACT, owner=operator2, channel="phone")


def test_the_logger_learns_neither_the_case_number_nor_its_owner(client, operator, operator2, theirs):
    login(client, operator)
    response = log_call(client, theirs.contact.identifier)
    assert response.status_code == 302 and response.url == reverse("queue")
    [said] = flash(response)
    assert said == "Call logged. The caller already has a case with a colleague, who has been told."
    assert f"#{theirs.pk}" not in said and str(theirs.pk) not in said and operator2.username not in said
    page = client.get(response.url).content.decode()
    assert f"#{theirs.pk}" not in page and operator2.username not in page
    assert client.get(reverse("case", args=[theirs.pk])).status_code == 404  # still not theirs to open


def test_the_call_still_lands_on_the_colleagues_case(client, operator, operator2, theirs):
    login(client, operator)
    log_call(client, theirs.contact.identifier, summary="Asked for Taras")
    call = Message.objects.get(case=theirs, is_call=True, direction="inbound")
    assert (call.body, call.author_id) == ("Asked for Taras", operator.pk)
    case = Case.objects.get(pk=theirs.pk)
    assert case.owner_id == operator2.pk and case.awaiting_since is None  # answered live, still taras's


def test_the_owner_is_told_in_the_header_until_they_read_it(client, operator, operator2, theirs):
    login(client, operator)
    log_call(client, theirs.contact.identifier)
    notice = Notification.objects.get()
    assert (notice.kind, notice.recipient_id, notice.actor_id, notice.case_id, notice.read_at) == (
        NoticeKind.CALL_ON_YOUR_CASE, operator2.pk, operator.pk, theirs.pk, None)
    assert header_counts(operator2).notices == 1 and header_counts(operator).notices == 0
    login(client, operator2)
    assert "1 notice" in client.get(reverse("queue")).content.decode()
    page = client.get(reverse("notices")).content.decode()
    link = f'<a href="{reverse("case", args=[theirs.pk])}">#{theirs.pk}</a>'
    assert f"olena logged an inbound call from the person of your case {link}" in page
    assert client.post(reverse("notices_read")).status_code == 302
    assert header_counts(operator2).notices == 0
    assert "1 notice" not in client.get(reverse("queue")).content.decode()


def test_the_lookup_is_an_audited_read_that_supervisors_see(client, operator, theirs, supervisor):
    login(client, operator)
    log_call(client, theirs.contact.identifier)
    lookup = CaseEvent.objects.get(case=theirs, kind=EventKind.VIEWED)
    assert (lookup.actor_id, lookup.data) == (operator.pk, {"via": "call"})
    login(client, supervisor)
    for url in (reverse("operator_reads", args=[operator.pk]), reverse("case_reads", args=[theirs.pk])):
        page = client.get(url).content.decode()
        assert "Inbound call (the caller's case)" in page, url


def test_a_new_caller_or_an_unassigned_case_is_the_loggers_own_without_notice_or_lookup(client, operator):
    login(client, operator)
    response = log_call(client, "+380 50 000 00 01")
    case = Case.objects.get()
    assert response.url == reverse("case", args=[case.pk])
    assert flash(response) == [f"Call logged on case #{case.pk}."]
    assert not Notification.objects.exists()
    assert not CaseEvent.objects.filter(kind=EventKind.VIEWED).exists()


def test_a_supervisor_sees_the_number_and_the_owner_is_still_told(client, supervisor, operator2, theirs):
    login(client, supervisor)
    response = log_call(client, theirs.contact.identifier)
    assert flash(response) == [f"Call logged on case #{theirs.pk}."]
    assert Notification.objects.get().recipient_id == operator2.pk


def test_the_service_tells_the_owner_in_the_same_transaction(operator, operator2, theirs):
    services.call_log_inbound(actor=operator, identifier=theirs.contact.identifier, summary="Again")
    assert Notification.objects.filter(recipient=operator2, case=theirs).count() == 1
    assert CaseEvent.objects.filter(case=theirs, kind=EventKind.VIEWED, actor=operator).count() == 1
