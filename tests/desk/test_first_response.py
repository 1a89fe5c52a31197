"""The first human answer: replies and calls count; bot messages and notes never do."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from hotline.desk import services
from hotline.models import Case, Stage
from tests.factories import receive

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _case(at=T0):
    with time_machine.travel(at, tick=False):
        return receive(at=at).case


def test_reply_sets_first_response_and_ends_the_wait(operator):
    case = _case()
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        services.case_reply(actor=operator, case_id=case.pk, text="Здравствуйте")
    case.refresh_from_db()
    assert case.first_response_at == T0 + timedelta(hours=3)
    assert case.awaiting_since is None
    assert case.stage == Stage.IN_CONTACT
    assert case.owner_id == operator.pk  # who answers an unassigned case owns it
    replied = case.events.get(kind="replied")
    assert replied.data["waited_seconds"] == 3 * 3600


def test_automatic_acknowledgement_and_notes_are_not_an_answer(operator):
    case = _case()
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        services.message_record_automatic(case_id=case.pk, text="Ваше обращение принято.")
        services.case_add_note(actor=operator, case_id=case.pk, text="Looks genuine")
    case.refresh_from_db()
    assert case.first_response_at is None
    assert case.awaiting_since == T0
    assert case.stage == Stage.NEW


def test_a_logged_call_is_a_human_answer(operator):
    case = _case()
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        services.case_log_call(actor=operator, case_id=case.pk, summary="Spoke 5 minutes", duration_seconds=300)
    case.refresh_from_db()
    assert case.first_response_at == T0 + timedelta(hours=1)
    assert case.awaiting_since is None


def test_later_answers_do_not_move_the_first_response(operator):
    case = _case()
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        services.case_reply(actor=operator, case_id=case.pk, text="one")
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        receive(identifier=case.contact.identifier, at=T0 + timedelta(hours=5))
    with time_machine.travel(T0 + timedelta(hours=6), tick=False):
        services.case_reply(actor=operator, case_id=case.pk, text="two")
    case.refresh_from_db()
    assert case.first_response_at == T0 + timedelta(hours=1)


def test_new_request_after_an_answer_starts_a_new_wait(operator):
    case = _case()
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        services.case_reply(actor=operator, case_id=case.pk, text="one")
    later = T0 + timedelta(hours=8)
    with time_machine.travel(later, tick=False):
        receive(identifier=case.contact.identifier, at=later)
        receive(identifier=case.contact.identifier, at=later + timedelta(minutes=5))
    case.refresh_from_db()
    assert case.awaiting_since == later  # the first unanswered request starts the wait


def test_empty_reply_is_refused_and_nothing_written(operator):
    from hotline.errors import InvalidInput

    case = _case()
    with pytest.raises(InvalidInput):
        services.case_reply(actor=operator, case_id=case.pk, text="   ")
    assert Case.objects.get(pk=case.pk).first_response_at is None
    assert case.messages.count() == 1
