"""Who may do what: each rule tried with the user it allows and one it refuses."""

import re
from collections.abc import Callable
from functools import partial

import pytest

from hotline.desk import ownership, services
from hotline.errors import CaseNotFound, DomainError, NotAllowed
from hotline.models import Case, CaseEvent, Message, Stage
from tests.factories import make_case

pytestmark = pytest.mark.django_db


def test_another_operators_case_is_not_found_for_every_action(operator, operator2):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    attempts = [
        lambda: services.case_reply(actor=operator2, case_id=case.pk, text="hi"),
        lambda: services.case_add_note(actor=operator2, case_id=case.pk, text="note"),
        lambda: services.case_log_call(actor=operator2, case_id=case.pk, summary="call"),
        lambda: services.case_advance(actor=operator2, case_id=case.pk, to_stage=Stage.VERIFIED),
        lambda: services.case_close(actor=operator2, case_id=case.pk, reason="withdrew"),
        lambda: ownership.case_unassign(actor=operator2, case_id=case.pk),
        lambda: ownership.case_take(actor=operator2, case_id=case.pk),
    ]
    for attempt in attempts:
        with pytest.raises(CaseNotFound):
            attempt()
    assert Case.objects.get(pk=case.pk).owner_id == operator.pk


def _refusal(attempt: Callable[[], object]) -> DomainError:
    with pytest.raises(DomainError) as refused:
        attempt()
    return refused.value


def _masked(message: str, case_id: int) -> str:
    return re.sub(rf"\b{case_id}\b", "<id>", message)


def test_missing_and_foreign_cases_give_the_same_error(operator, operator2):
    """Another operator's case is refused exactly like one that does not exist: the same
    exception class and the same words once the number is masked (nothing says the case
    exists, nor whose it is), and nothing is written."""
    case = make_case(Stage.ASSIGNED, owner=operator)
    missing_id = case.pk + 1000
    assert not Case.objects.filter(pk=missing_id).exists()
    actions = [
        lambda case_id: ownership.case_take(actor=operator2, case_id=case_id),
        lambda case_id: services.case_reply(actor=operator2, case_id=case_id, text="hi"),
        lambda case_id: services.case_close(actor=operator2, case_id=case_id, reason="withdrew"),
    ]
    before = (Case.objects.values().get(pk=case.pk), CaseEvent.objects.count(), Message.objects.count())
    for action in actions:
        foreign = _refusal(partial(action, case.pk))
        missing = _refusal(partial(action, missing_id))
        assert type(foreign) is CaseNotFound and type(missing) is CaseNotFound
        assert _masked(str(foreign), case.pk) == _masked(str(missing), missing_id), (str(foreign), str(missing))
        assert foreign.status_code == missing.status_code == 404
    assert (Case.objects.values().get(pk=case.pk), CaseEvent.objects.count(), Message.objects.count()) == before


def test_supervisor_acts_on_any_case(operator, supervisor):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    services.case_advance(actor=supervisor, case_id=case.pk, to_stage=Stage.VERIFIED)
    assert Case.objects.get(pk=case.pk).stage == Stage.VERIFIED


def test_only_supervisors_assign_to_others(operator, operator2, supervisor):
    case = make_case(Stage.NEW, owner=operator)
    with pytest.raises(NotAllowed):
        ownership.case_assign(actor=operator, case_id=case.pk, operator=operator2)
    ownership.case_assign(actor=supervisor, case_id=case.pk, operator=operator2)
    assert Case.objects.get(pk=case.pk).owner_id == operator2.pk


def test_only_supervisors_mark_rewards_paid(operator, supervisor):
    from django.utils import timezone

    from hotline.models import EquipmentType

    case = make_case(Stage.PLANNING, owner=operator)
    tank = EquipmentType.objects.get(name="Tank")
    services.case_record_surrender(
        actor=operator, case_id=case.pk, surrendered_at=timezone.now(), place="x", equipment={tank.pk: 1}
    )
    with pytest.raises(NotAllowed):
        services.case_mark_reward_paid(actor=operator, case_id=case.pk)
    services.case_mark_reward_paid(actor=supervisor, case_id=case.pk)


def test_a_user_without_a_role_can_do_nothing(operator, django_user_model):
    stranger = django_user_model.objects.create_user("stranger", password="x" * 12)
    case = make_case(Stage.NEW, owner=operator)
    with pytest.raises(NotAllowed):
        ownership.case_take(actor=stranger, case_id=case.pk)
    with pytest.raises(NotAllowed):
        ownership.case_take_next(actor=stranger)


def test_operator_cannot_exceed_capacity_by_taking(operator):
    profile = operator.operator
    profile.capacity = 1
    profile.save()
    make_case(Stage.ASSIGNED, owner=operator)
    second = make_case(Stage.NEW, owner=operator)
    from hotline.errors import InvalidTransition

    with pytest.raises(InvalidTransition, match="at your limit"):
        ownership.case_take(actor=operator, case_id=second.pk)


def test_phone_cases_cannot_be_written_to(operator):
    from hotline.errors import InvalidInput

    case = make_case(Stage.ASSIGNED, owner=operator, channel="phone")
    with pytest.raises(InvalidInput, match="log a call"):
        services.case_reply(actor=operator, case_id=case.pk, text="hello")
