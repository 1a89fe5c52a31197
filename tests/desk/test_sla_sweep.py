"""The overdue sweep: exact thresholds, one event per wait, set-based, safe when run twice."""

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
import time_machine
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from hotline.desk import services
from hotline.desk.sla import SweepResult, sla_state, sla_sweep
from hotline.models import CaseEvent, Notification
from tests.factories import current_flags, receive
from tests.threads import run_together

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _waiting_case(at=T0, **kwargs):
    with time_machine.travel(at, tick=False):
        return receive(at=at, **kwargs).case


def _sweep(at):
    with time_machine.travel(at, tick=False):
        return sla_sweep()


def test_exactly_24_hours_is_overdue_and_a_second_less_is_not():
    case = _waiting_case()
    assert _sweep(T0 + timedelta(hours=24) - timedelta(seconds=1)).overdue == 0
    assert current_flags(case)[1] is None
    assert _sweep(T0 + timedelta(hours=24)).overdue == 1
    assert current_flags(case)[1] == T0 + timedelta(hours=24)


def test_at_risk_comes_first_then_overdue_each_once():
    case = _waiting_case()
    assert _sweep(T0 + timedelta(hours=20)).at_risk == 1
    assert _sweep(T0 + timedelta(hours=21)).at_risk == 0
    _sweep(T0 + timedelta(hours=24))
    _sweep(T0 + timedelta(hours=30))
    kinds = list(case.events.filter(kind__in=["at_risk", "overdue"]).values_list("kind", flat=True))
    assert sorted(kinds) == ["at_risk", "overdue"]


def test_answer_clears_flags_and_a_new_request_starts_a_new_wait(operator):
    case = _waiting_case()
    _sweep(T0 + timedelta(hours=25))
    with time_machine.travel(T0 + timedelta(hours=26), tick=False):
        services.case_reply(actor=operator, case_id=case.pk, text="Простите за задержку")
    case.refresh_from_db()
    assert (case.awaiting_since, *current_flags(case)) == (None, None, None)
    assert sla_state(case.awaiting_since) is None
    t1 = T0 + timedelta(hours=30)
    _waiting_case(at=t1, identifier=case.contact.identifier)
    assert _sweep(t1 + timedelta(hours=23)).overdue == 0
    assert _sweep(t1 + timedelta(hours=24)).overdue == 1
    assert case.events.filter(kind="overdue").count() == 2  # one per wait


def test_closed_cases_never_flag(operator):
    case = _waiting_case()
    services.case_close(actor=operator, case_id=case.pk, reason="duplicate")
    assert _sweep(T0 + timedelta(days=3)).overdue == 0


def test_internal_note_and_automatic_message_do_not_stop_the_clock(operator):
    case = _waiting_case()
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        services.message_record_automatic(case_id=case.pk, text="Ваше обращение принято")
        services.case_add_note(actor=operator, case_id=case.pk, text="call tomorrow")
    assert _sweep(T0 + timedelta(hours=24)).overdue == 1


def test_supervisors_get_one_notice_per_sweep_with_the_count():
    for _ in range(3):
        _waiting_case()
        _waiting_case(at=T0 + timedelta(hours=4))
    _sweep(T0 + timedelta(hours=25))
    notice = Notification.objects.get()
    assert notice.count == 6  # 3 overdue + 3 at risk, flagged in the same sweep
    assert "3 case(s) became overdue" in notice.text


def test_query_count_does_not_grow_with_the_number_of_cases():
    warned_before = [0]  # at-risk cases of an earlier call: overdue by the later sweep

    def queries_for(n: int, start: datetime) -> int:
        for _ in range(n):
            _waiting_case(at=start)
            _waiting_case(at=start + timedelta(hours=4))
        with time_machine.travel(start + timedelta(hours=25), tick=False), \
                CaptureQueriesContext(connection) as ctx:
            result = sla_sweep()
        assert (result.overdue, result.at_risk) == (n + warned_before[0], n)
        warned_before[0] += n
        # Savepoints appear only because the test itself runs inside a transaction.
        return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])

    small = queries_for(2, T0)
    large = queries_for(40, T0 + timedelta(days=10))
    # PostgreSQL: advisory lock, the one statement writing every flag, the notification.
    # Elsewhere (SQLite): an INSERT per threshold, the notification.
    assert small == large == 3


def test_a_sweep_with_nothing_to_flag_writes_nothing():
    _waiting_case()
    with time_machine.travel(T0 + timedelta(hours=1), tick=False), CaptureQueriesContext(connection) as ctx:
        assert sla_sweep() == SweepResult(at_risk=0, overdue=0)
    writes = [q for q in ctx.captured_queries if q["sql"].startswith("INSERT INTO \"hotline_notification")]
    assert writes == []
    assert not Notification.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sweeps_on_four_workers_at_once_flag_each_case_once_per_threshold():
    """Four sweeps start together, round after round: each wait gets one event per threshold,
    and supervisors get one notice per sweep that flagged something."""
    rounds, per_round = 3, 30
    results: list[SweepResult] = []
    for round_no in range(rounds):
        start = T0 + timedelta(days=3 * round_no)
        for _ in range(per_round):
            _waiting_case(at=start)  # overdue at the sweep
            _waiting_case(at=start + timedelta(hours=4))  # at risk at the sweep
        round_results = run_together(*[partial(sla_sweep, start + timedelta(hours=25))] * 4)
        # ...and the previous round's at-risk cases, now past the SLA too.
        assert sum(r.overdue for r in round_results) == per_round * (2 if round_no else 1)
        assert sum(r.at_risk for r in round_results) == per_round
        results += round_results

    cases = rounds * per_round
    flags = CaseEvent.objects.filter(kind__in=["at_risk", "overdue"])
    overdue = set(flags.filter(kind="overdue").values_list("case_id", flat=True))
    at_risk = set(flags.filter(kind="at_risk").values_list("case_id", flat=True))
    assert len(overdue - at_risk) == cases  # first seen past the SLA: overdue only
    assert len(at_risk) == cases
    per_case = flags.values("case_id", "kind").annotate(n=Count("pk"))
    assert len(per_case) == cases + cases + (rounds - 1) * per_round
    assert {row["n"] for row in per_case} == {1}
    assert Notification.objects.count() == len([r for r in results if r.overdue or r.at_risk]) >= rounds
