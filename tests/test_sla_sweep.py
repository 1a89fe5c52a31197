"""The overdue sweep: exact thresholds, one event per wait, set-based, safe when run twice."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hotline import services
from hotline.models import Case, CaseEvent, Notification
from hotline.sla import sla_sweep
from tests.factories import receive

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
    assert Case.objects.get(pk=case.pk).overdue_since is None
    assert _sweep(T0 + timedelta(hours=24)).overdue == 1
    assert Case.objects.get(pk=case.pk).overdue_since == T0 + timedelta(hours=24)


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
    assert (case.awaiting_since, case.at_risk_since, case.overdue_since) == (None, None, None)
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
    _sweep(T0 + timedelta(hours=25))
    notice = Notification.objects.get()
    assert notice.count == 6  # 3 overdue + 3 at risk, flagged in the same sweep
    assert "3 case(s) became overdue" in notice.text


def test_query_count_does_not_grow_with_the_number_of_cases():
    def queries_for(n: int, start: datetime) -> int:
        for _ in range(n):
            _waiting_case(at=start)
        with time_machine.travel(start + timedelta(hours=25), tick=False), \
                CaptureQueriesContext(connection) as ctx:
            result = sla_sweep()
        assert result.overdue == n
        # Savepoints appear only because the test itself runs inside a transaction.
        return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])

    small = queries_for(2, T0)
    large = queries_for(40, T0 + timedelta(days=10))
    assert small == large == 5  # 2 updates, 2 inserts, 1 notification


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_the_same_moment_flag_each_case_once():
    import threading

    for _ in range(50):
        _waiting_case()
    barrier = threading.Barrier(2)
    results = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(_sweep(T0 + timedelta(hours=25)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.overdue for r in results) == 50
    assert CaseEvent.objects.filter(kind="overdue").count() == 50
    assert CaseEvent.objects.filter(kind="at_risk").count() == 50
