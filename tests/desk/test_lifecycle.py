"""Every stage transition, allowed and forbidden, and the event each one writes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone

from hotline.desk import ownership, services
from hotline.errors import InvalidTransition
from hotline.models import Case, CaseEvent, EventKind, Stage
from tests.factories import make_case

pytestmark = pytest.mark.django_db

ACTIONS: dict[str, Callable] = {
    "take": lambda actor, case: ownership.case_take(actor=actor, case_id=case.pk),
    "verify": lambda actor, case: services.case_advance(actor=actor, case_id=case.pk, to_stage=Stage.VERIFIED),
    "plan": lambda actor, case: services.case_advance(actor=actor, case_id=case.pk, to_stage=Stage.PLANNING),
    "surrender": lambda actor, case: services.case_record_surrender(
        actor=actor, case_id=case.pk, surrendered_at=timezone.now(), place="Sector 7", equipment={}
    ),
    "close": lambda actor, case: services.case_close(actor=actor, case_id=case.pk, reason="withdrew"),
    "reopen": lambda actor, case: services.case_reopen(actor=actor, case_id=case.pk),
    "reply": lambda actor, case: services.case_reply(actor=actor, case_id=case.pk, text="Мы здесь."),
}

OK, NOOP, BAD = "ok", "noop", "bad"
# (stage the case is in) -> action -> (outcome, stage after, event kind written)
MATRIX = {
    Stage.NEW: {
        "take": (OK, Stage.ASSIGNED, EventKind.ASSIGNED), "verify": (BAD,), "plan": (BAD,), "surrender": (BAD,),
        "close": (OK, Stage.CLOSED, EventKind.CLOSED), "reopen": (NOOP,),
        "reply": (OK, Stage.IN_CONTACT, EventKind.REPLIED),
    },
    Stage.ASSIGNED: {
        "take": (BAD,), "verify": (BAD,), "plan": (BAD,), "surrender": (BAD,),
        "close": (OK, Stage.CLOSED, EventKind.CLOSED), "reopen": (NOOP,),
        "reply": (OK, Stage.IN_CONTACT, EventKind.REPLIED),
    },
    Stage.IN_CONTACT: {
        "take": (BAD,), "verify": (OK, Stage.VERIFIED, EventKind.STAGE_CHANGED), "plan": (BAD,),
        "surrender": (BAD,), "close": (OK, Stage.CLOSED, EventKind.CLOSED), "reopen": (NOOP,),
        "reply": (OK, Stage.IN_CONTACT, EventKind.REPLIED),
    },
    Stage.VERIFIED: {
        "take": (BAD,), "verify": (NOOP,), "plan": (OK, Stage.PLANNING, EventKind.STAGE_CHANGED),
        "surrender": (BAD,), "close": (OK, Stage.CLOSED, EventKind.CLOSED), "reopen": (NOOP,),
        "reply": (OK, Stage.VERIFIED, EventKind.REPLIED),
    },
    Stage.PLANNING: {
        "take": (BAD,), "verify": (BAD,), "plan": (NOOP,),
        "surrender": (OK, Stage.SURRENDERED, EventKind.SURRENDERED),
        "close": (OK, Stage.CLOSED, EventKind.CLOSED), "reopen": (NOOP,),
        "reply": (OK, Stage.PLANNING, EventKind.REPLIED),
    },
    Stage.SURRENDERED: {
        "take": (BAD,), "verify": (BAD,), "plan": (BAD,), "surrender": (BAD,), "close": (BAD,),
        "reopen": (BAD,), "reply": (BAD,),
    },
    Stage.CLOSED: {
        "take": (BAD,), "verify": (BAD,), "plan": (BAD,), "surrender": (BAD,), "close": (NOOP,),
        "reopen": (OK, Stage.PLANNING, EventKind.REOPENED), "reply": (BAD,),
    },
}
CASES = [(stage, action, *MATRIX[stage][action]) for stage in MATRIX for action in ACTIONS]


@pytest.mark.parametrize(("stage", "action", "outcome", "after", "kind"),
                         [((*c, None, None))[:5] for c in CASES],
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_transition(stage, action, outcome, after, kind, operator, supervisor):
    case = make_case(stage, owner=operator)
    before = Case.objects.get(pk=case.pk)
    events_before = CaseEvent.objects.filter(case=case).count()

    if outcome == BAD:
        with pytest.raises(InvalidTransition):
            ACTIONS[action](supervisor, case)
        after_case = Case.objects.get(pk=case.pk)
        assert (after_case.stage, after_case.owner_id, after_case.closed_at) == (
            before.stage, before.owner_id, before.closed_at)
        assert CaseEvent.objects.filter(case=case).count() == events_before
        return

    ACTIONS[action](supervisor, case)
    after_case = Case.objects.get(pk=case.pk)
    new_events = list(CaseEvent.objects.filter(case=case).order_by("pk")[events_before:])
    if outcome == NOOP:
        assert after_case.stage == before.stage
        assert new_events == []
    else:
        assert after_case.stage == after
        assert kind in [e.kind for e in new_events]
        assert all(e.actor_id == supervisor.pk for e in new_events)


def test_walk_to_surrender_with_a_tank_writes_a_full_timeline(operator, supervisor):
    from hotline.models import CaseEquipment, EquipmentType, RewardState

    tank = EquipmentType.objects.get(name="Tank")
    case = make_case(Stage.PLANNING, owner=operator)
    services.case_declare_equipment(actor=operator, case_id=case.pk, equipment={tank.pk: 1})
    services.case_record_surrender(
        actor=operator, case_id=case.pk, surrendered_at=timezone.now(), place="Sector 4", equipment={tank.pk: 1}
    )
    case.refresh_from_db()
    assert case.stage == Stage.SURRENDERED
    assert case.reward_state == RewardState.DUE
    assert case.closed_at is not None
    came = CaseEquipment.objects.get(case=case, role="surrendered")
    assert (came.quantity, came.unit_reward, came.currency) == (1, 50000, "USD")
    kinds = list(case.events.order_by("pk").values_list("kind", flat=True))
    assert kinds == [
        "created", "request", "assigned", "replied", "stage_changed", "stage_changed", "equipment_declared",
        "surrendered",
    ]
    # A price change later does not change what is owed.
    tank.reward_amount = 1
    tank.save()
    came.refresh_from_db()
    assert came.unit_reward == 50000

    services.case_mark_reward_paid(actor=supervisor, case_id=case.pk)
    services.case_mark_reward_paid(actor=supervisor, case_id=case.pk)  # done already: no second event
    case.refresh_from_db()
    assert case.reward_state == RewardState.PAID
    assert case.events.filter(kind="reward_paid").count() == 1


def test_surrender_without_equipment_owes_nothing(operator):
    from hotline.models import RewardState

    case = make_case(Stage.SURRENDERED, owner=operator)
    assert case.reward_state == RewardState.NONE


def test_reopened_case_returns_to_the_stage_it_was_closed_from(operator):
    case = make_case(Stage.VERIFIED, owner=operator)
    services.case_close(actor=operator, case_id=case.pk, reason="lost_contact")
    services.case_reopen(actor=operator, case_id=case.pk)
    case.refresh_from_db()
    assert (case.stage, case.close_reason, case.closed_at) == (Stage.VERIFIED, "", None)


def test_unassign_returns_an_assigned_case_to_new(operator):
    case = make_case(Stage.ASSIGNED, owner=operator)
    ownership.case_unassign(actor=operator, case_id=case.pk)
    case.refresh_from_db()
    assert (case.stage, case.owner_id) == (Stage.NEW, None)
    assert case.events.filter(kind="unassigned").count() == 1


def test_events_are_immutable(operator):
    from hotline.models import ImmutableError

    event = make_case(Stage.ASSIGNED, owner=operator).events.first()
    event.kind = "closed"
    with pytest.raises(ImmutableError):
        event.save()
    with pytest.raises(ImmutableError):
        event.delete()
