"""call_log_inbound: an answered phone call is both the request and its human answer."""

import pytest
import time_machine
from django.utils import timezone

from hotline.desk import services
from hotline.errors import InvalidInput, NotAllowed
from hotline.models import Case, CaseEvent, Contact, EventKind, Message, Stage
from tests.factories import make_case, receive

pytestmark = pytest.mark.django_db


def test_a_new_caller_gets_a_case_owned_by_the_operator_and_answered(operator, django_capture_on_commit_callbacks):
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        with django_capture_on_commit_callbacks() as callbacks:
            received = services.call_log_inbound(
                actor=operator, identifier="+380 (67) 111-22-33", caller_name="Petro", language="uk",
                summary="Wants to know how to surrender",
            )
        now = timezone.now()
    case = Case.objects.get(pk=received.case.pk)
    assert (case.owner_id, case.stage, case.channel, case.language) == (operator.pk, Stage.IN_CONTACT, "phone", "uk")
    assert case.received_at == case.first_response_at == case.assigned_at == now
    assert case.awaiting_since is None
    message = Message.objects.get(case=case)
    assert (message.direction, message.is_call, message.author_id, message.created_at) == (
        "inbound", True, operator.pk, now)
    kinds = list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("kind", flat=True))
    assert kinds == [EventKind.CREATED, EventKind.REQUEST, EventKind.ASSIGNED, EventKind.CALL_LOGGED]
    assert CaseEvent.objects.get(case=case, kind=EventKind.CALL_LOGGED).data["waited_seconds"] == 0
    contact = Contact.objects.get()
    assert (contact.identifier, contact.display_name) == ("+380671112233", "Petro")
    assert callbacks == []  # the operator has it: nothing for auto-assignment to do


def test_a_caller_with_a_waiting_case_joins_it_and_the_operator_takes_it(operator):
    waiting = receive(channel="phone", identifier="+380500000001").case
    received = services.call_log_inbound(actor=operator, identifier="+380500000001", summary="Called in")
    assert received.case.pk == waiting.pk
    case = Case.objects.get(pk=waiting.pk)
    assert (case.owner_id, case.stage, case.awaiting_since) == (operator.pk, Stage.IN_CONTACT, None)


def test_a_caller_whose_case_a_colleague_owns_stays_with_the_colleague(operator, operator2):
    theirs = make_case(Stage.ASSIGNED, owner=operator2, channel="phone")
    received = services.call_log_inbound(actor=operator, identifier=theirs.contact.identifier, summary="Again")
    case = Case.objects.get(pk=theirs.pk)
    assert received.case.pk == theirs.pk
    assert case.owner_id == operator2.pk
    assert case.stage == Stage.IN_CONTACT and case.awaiting_since is None  # the person was answered live


def test_a_caller_with_a_closed_case_reopens_it(operator):
    closed = make_case(Stage.CLOSED, owner=operator, channel="phone")
    received = services.call_log_inbound(actor=operator, identifier=closed.contact.identifier, summary="Back")
    case = Case.objects.get(pk=closed.pk)
    assert received.case.pk == closed.pk and case.owner_id == operator.pk
    assert case.stage == Stage.PLANNING and case.closed_at is None  # back where it was closed from


def test_a_name_alone_identifies_a_caller_without_a_number(operator):
    first = services.call_log_inbound(actor=operator, identifier="Mykola from Kherson", summary="a")
    second = services.call_log_inbound(actor=operator, identifier="Mykola from Kherson", summary="b")
    assert first.case.pk == second.case.pk


def test_refusals_write_nothing(operator, django_user_model):
    stranger = django_user_model.objects.create_user("stranger", password="x" * 12)
    with pytest.raises(NotAllowed):
        services.call_log_inbound(actor=stranger, identifier="+380501", summary="x")
    with pytest.raises(InvalidInput):
        services.call_log_inbound(actor=operator, identifier="  ", summary="x")
    with pytest.raises(InvalidInput):
        services.call_log_inbound(actor=operator, identifier="+380501", summary=" ")
    assert not Contact.objects.exists() and not Case.objects.exists()
