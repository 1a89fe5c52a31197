"""Auto-assignment: who gets a waiting case, filling freed capacity, releasing an operator's
cases, and the after-commit hooks that start it. Called directly (no eager Celery)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from hotline.desk import ownership, services
from hotline.errors import InvalidInput, NotAllowed
from hotline.models import Case, CaseEvent, EventKind, Stage
from operators.models import OperatorProfile
from operators.services import operator_set_shift
from tests.factories import make_case, make_operator, profile, receive

pytestmark = pytest.mark.django_db


def _active(user) -> int:
    return Case.objects.filter(owner=user, closed_at__isnull=True).count()


def test_the_operator_with_fewest_active_cases_who_speaks_the_language_gets_it():
    busy = make_operator("busy", languages=["ru"])
    free = make_operator("free", languages=["ru"])
    make_operator("ukrainian_only", languages=["uk"])
    make_operator("off_shift", languages=["ru"], on_shift=False)
    make_case(Stage.ASSIGNED, owner=busy)
    case = receive(language="ru").case
    assert ownership.assign_case(case.pk) == free
    case.refresh_from_db()
    assert (case.owner_id, case.stage) == (free.pk, Stage.ASSIGNED)
    event = CaseEvent.objects.get(case=case, kind=EventKind.ASSIGNED)
    assert event.actor_id is None and event.data["operator_id"] == free.pk


def test_ties_go_to_the_longest_since_last_assignment():
    first = make_operator("first", languages=["ru"])
    second = make_operator("second", languages=["ru"])
    OperatorProfile.objects.filter(user=first).update(last_assigned_at=timezone.now() - timedelta(hours=1))
    OperatorProfile.objects.filter(user=second).update(last_assigned_at=timezone.now() - timedelta(hours=5))
    assert ownership.assign_case(receive().case.pk) == second
    # Then the one with fewer active cases, whatever the time.
    assert ownership.assign_case(receive().case.pk) == first


def test_nobody_fitting_leaves_the_case_waiting():
    full = make_operator("full", languages=["ru"], capacity=1)
    make_operator("offshift", languages=["ru"], on_shift=False)
    make_operator("wrong_language", languages=["uk"])
    make_case(Stage.ASSIGNED, owner=full)
    case = receive(language="ru").case
    assert ownership.assign_case(case.pk) is None
    assert Case.objects.get(pk=case.pk).owner_id is None
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.ASSIGNED).exists()


def test_a_user_without_the_operator_role_is_never_chosen(django_user_model):
    stranger = django_user_model.objects.create_user("stranger", password="x" * 12)
    OperatorProfile.objects.create(user=stranger, on_shift=True)
    case = receive().case
    assert ownership.assign_case(case.pk) is None


def test_an_owned_or_closed_case_is_left_alone(operator):
    owned = make_case(Stage.ASSIGNED, owner=operator)
    closed = make_case(Stage.CLOSED, owner=operator)
    make_operator("other", languages=["ru"])
    assert ownership.assign_case(owned.pk) is None
    assert ownership.assign_case(closed.pk) is None
    assert Case.objects.get(pk=owned.pk).owner_id == operator.pk


def test_exclude_keeps_a_returned_case_from_its_previous_owner(operator):
    case = receive().case
    assert ownership.assign_case(case.pk, exclude_user_id=operator.pk) is None
    assert ownership.assign_case(case.pk) == operator


def test_filling_freed_capacity_takes_waiting_cases_in_waiting_order():
    now = timezone.now()
    newest = receive(at=now - timedelta(hours=1), language="ru").case
    oldest = receive(at=now - timedelta(hours=9), language="ru").case
    other_language = receive(at=now - timedelta(hours=20), language="en").case
    middle = receive(at=now - timedelta(hours=5), language="").case
    worker = make_operator("worker", languages=["ru"], capacity=3)
    make_case(Stage.ASSIGNED, owner=worker)
    assert ownership.assign_waiting_to(worker.pk) == [oldest.pk, middle.pk]
    assert _active(worker) == 3
    assert Case.objects.get(pk=newest.pk).owner_id is None
    assert Case.objects.get(pk=other_language.pk).owner_id is None
    assert ownership.assign_waiting_to(worker.pk) == []  # full


def test_filling_skips_off_shift_operators_and_excluded_cases():
    case = receive().case
    resting = make_operator("resting", on_shift=False)
    assert ownership.assign_waiting_to(resting.pk) == []
    working = make_operator("working")
    assert ownership.assign_waiting_to(working.pk, exclude_case_ids=[case.pk]) == []
    assert ownership.assign_waiting_to(working.pk) == [case.pk]


def test_the_safety_sweep_spreads_waiting_cases_over_operators():
    a = make_operator("a", languages=["ru"], capacity=2)
    b = make_operator("b", languages=["ru"], capacity=2)
    for _ in range(5):
        receive()
    assert ownership.assign_waiting() == 4
    assert (_active(a), _active(b)) == (2, 2)
    assert Case.objects.filter(owner__isnull=True).count() == 1


def test_release_to_the_queue_one_event_per_case(operator, supervisor):
    assigned = make_case(Stage.ASSIGNED, owner=operator)
    in_contact = make_case(Stage.IN_CONTACT, owner=operator)
    closed = make_case(Stage.CLOSED, owner=operator)
    released = ownership.operator_release_cases(actor=supervisor, operator=operator)
    assert sorted(released) == sorted([assigned.pk, in_contact.pk])
    assert Case.objects.get(pk=assigned.pk).stage == Stage.NEW
    assert Case.objects.get(pk=in_contact.pk).stage == Stage.IN_CONTACT
    assert Case.objects.filter(owner=operator, closed_at__isnull=True).count() == 0
    assert Case.objects.get(pk=closed.pk).owner_id == operator.pk
    events = CaseEvent.objects.filter(kind=EventKind.UNASSIGNED, actor=supervisor)
    assert sorted(events.values_list("case_id", flat=True)) == sorted(released)
    assert all(e.data == {"previous_owner_id": operator.pk, "released": True} for e in events)


def test_release_to_a_colleague(operator, operator2, supervisor):
    cases = [make_case(Stage.IN_CONTACT, owner=operator) for _ in range(3)]
    ownership.operator_release_cases(actor=supervisor, operator=operator, to=operator2)
    assert set(Case.objects.filter(owner=operator2).values_list("pk", flat=True)) == {c.pk for c in cases}
    moved = CaseEvent.objects.filter(kind=EventKind.ASSIGNED, actor=supervisor, data__operator_id=operator2.pk)
    assert moved.count() == 3
    assert profile(operator2).last_assigned_at is not None


def test_only_supervisors_release_and_not_to_the_same_operator(operator, operator2, supervisor):
    make_case(Stage.IN_CONTACT, owner=operator)
    with pytest.raises(NotAllowed):
        ownership.operator_release_cases(actor=operator2, operator=operator)
    with pytest.raises(NotAllowed):
        ownership.operator_release_cases(actor=operator, operator=operator)
    with pytest.raises(InvalidInput):
        ownership.operator_release_cases(actor=supervisor, operator=operator, to=operator)
    assert _active(operator) == 1


# --- the hooks: which writes queue auto-assignment after commit -------------------------------------


def _hooks(capture, settings, enabled: bool, write) -> int:
    settings.AUTO_ASSIGN = enabled
    with capture() as callbacks:
        write()
    return len(callbacks)


@pytest.mark.parametrize("enabled", [True, False])
def test_a_new_request_queues_auto_assignment_when_enabled(enabled, settings, django_capture_on_commit_callbacks):
    assert _hooks(django_capture_on_commit_callbacks, settings, enabled, lambda: receive()) == int(enabled)


def test_a_request_on_an_owned_case_or_a_duplicate_queues_nothing(
    operator, settings, django_capture_on_commit_callbacks,
):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    receive(intake_key="k1")
    assert _hooks(django_capture_on_commit_callbacks, settings, True,
                  lambda: receive(identifier=case.contact.identifier)) == 0
    assert _hooks(django_capture_on_commit_callbacks, settings, True, lambda: receive(intake_key="k1")) == 0


def test_freeing_capacity_and_starting_a_shift_queue_filling(operator, operator2, supervisor, settings,
                                                             django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    a, b, c = (make_case(Stage.IN_CONTACT, owner=operator) for _ in range(3))
    assert _hooks(capture, settings, True, lambda: services.case_close(actor=operator, case_id=a.pk,
                                                                       reason="withdrew")) == 1
    # Returned: offered to others, and its previous owner gets other work.
    assert _hooks(capture, settings, True, lambda: ownership.case_unassign(actor=operator, case_id=b.pk)) == 2
    assert _hooks(capture, settings, True, lambda: ownership.case_assign(actor=supervisor, case_id=c.pk,
                                                                        operator=operator2)) == 1
    operator_set_shift(actor=operator, operator=operator, on_shift=False)
    assert _hooks(capture, settings, True, lambda: operator_set_shift(actor=operator, operator=operator,
                                                                      on_shift=True)) == 1
    assert _hooks(capture, settings, False, lambda: operator_set_shift(actor=operator, operator=operator,
                                                                       on_shift=False)) == 0


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_hook_publishes_the_task_to_the_broker_after_commit(settings):
    """The real broker: what a worker would receive after request_receive commits."""
    import redis

    settings.AUTO_ASSIGN = True
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete("celery")
    case = receive().case
    raw = client.lrange("celery", 0, -1)
    client.delete("celery")
    tasks = []
    for item in raw:
        message = json.loads(item)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        tasks.append((message["headers"]["task"], args))
    assert ("hotline.tasks.auto_assign_case_task", [case.pk, None]) in tasks
