"""Many operators at the same moment, on PostgreSQL with real row locks: no case taken twice,
no capacity exceeded, whether they press "take next" or auto-assignment runs at once."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import pytest

from hotline.desk import ownership
from hotline.models import Case, CaseEvent, EventKind
from tests.factories import make_operator, receive
from tests.threads import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

OPERATORS = 8
CASES = 40
CAPACITY = 4


def _setup(settings) -> tuple[list, list[int]]:
    settings.AUTO_ASSIGN = False  # the test drives assignment itself, not via the broker
    operators = [make_operator(f"op{i}", languages=["ru"], capacity=CAPACITY) for i in range(OPERATORS)]
    cases = [receive(language="ru").case.pk for _ in range(CASES)]
    return operators, cases


def _assert_invariants(operators: list, expect_assigned: int) -> None:
    owners = Counter(Case.objects.filter(owner__isnull=False).values_list("owner_id", flat=True))
    assert sum(owners.values()) == expect_assigned
    assert max(owners.values()) <= CAPACITY
    assigned_events = Counter(CaseEvent.objects.filter(kind=EventKind.ASSIGNED).values_list("case_id", flat=True))
    assert set(assigned_events.values()) == {1}, "a case was assigned more than once"
    assert len(assigned_events) == expect_assigned
    # Every event's operator is the case's final owner: no case changed hands silently.
    for case_id, operator_id in CaseEvent.objects.filter(kind=EventKind.ASSIGNED).values_list(
            "case_id", "data__operator_id"):
        assert Case.objects.get(pk=case_id).owner_id == operator_id


def test_take_next_at_once_never_gives_a_case_twice(settings):
    operators, _cases = _setup(settings)
    taken: dict[int, list[int]] = {op.pk: [] for op in operators}

    def presser(operator) -> Callable[[], None]:
        def work() -> None:
            while (case := ownership.case_take_next(actor=operator)) is not None:
                taken[operator.pk].append(case.pk)
        return work

    run_together(*[presser(op) for op in operators])
    every = [pk for pks in taken.values() for pk in pks]
    assert len(every) == len(set(every)) == OPERATORS * CAPACITY
    assert all(len(pks) == CAPACITY for pks in taken.values())
    _assert_invariants(operators, OPERATORS * CAPACITY)


def test_auto_assignment_at_once_never_exceeds_capacity_or_doubles_an_owner(settings):
    operators, cases = _setup(settings)

    def case_assigner(seed: int) -> Callable[[], None]:
        order = cases[:]
        random.Random(seed).shuffle(order)

        def work() -> None:
            for case_id in order:
                for _attempt in range(50):
                    try:
                        ownership.assign_case(case_id)
                        break
                    except ownership.CaseBusy:
                        continue
        return work

    def filler(operator) -> Callable[[], None]:
        return lambda: ownership.assign_waiting_to(operator.pk)

    workers = [case_assigner(i) for i in range(OPERATORS // 2)] + [filler(op) for op in operators[: OPERATORS // 2]]
    run_together(*workers)
    _assert_invariants(operators, OPERATORS * CAPACITY)
    assert Case.objects.filter(owner__isnull=True).count() == CASES - OPERATORS * CAPACITY


def test_take_next_and_auto_assignment_racing_each_other(settings):
    operators, _cases = _setup(settings)

    def presser(operator) -> Callable[[], None]:
        def work() -> None:
            while ownership.case_take_next(actor=operator) is not None:
                pass
        return work

    def sweeper() -> None:
        for _ in range(3):
            ownership.assign_waiting()

    run_together(*[presser(op) for op in operators[:4]], *[sweeper] * 4)
    _assert_invariants(operators, OPERATORS * CAPACITY)
