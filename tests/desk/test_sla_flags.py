"""SLA flags are the timeline's events and the clock, never case columns (hotline/sla.py).

What matters: a wait is at risk or overdue the moment it passes a threshold, everywhere, sweep
or no sweep; the sweep's events keep integrity without locking case rows (migration 0003_database_rules), so
an operator never waits for a sweep and a sweep never waits for an operator; the API and the
team page read the same clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from hotline.desk import ownership, selectors, services
from hotline.desk.sla import sla_crossings, sla_state, sla_sweep
from hotline.models import Case, CaseEvent, EventKind
from tests.factories import current_flags, make_operator, receive
from tests.pages import login
from tests.sessions import another_connection

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _waiting(at: datetime = T0, **kwargs) -> Case:
    with time_machine.travel(at, tick=False):
        return receive(at=at, **kwargs).case


def test_the_state_is_read_from_the_wait_and_the_clock():
    assert sla_state(None, T0) is None
    assert sla_state(T0, T0 + 20 * HOUR - timedelta(seconds=1)) is None
    assert sla_state(T0, T0 + 20 * HOUR) == "at_risk"
    assert sla_state(T0, T0 + 24 * HOUR) == "overdue"
    assert sla_crossings(T0, T0 + 21 * HOUR) == {"at_risk_since": T0 + 20 * HOUR, "overdue_since": None}
    assert sla_crossings(T0, T0 + 30 * HOUR) == {"at_risk_since": T0 + 20 * HOUR, "overdue_since": T0 + 24 * HOUR}
    assert sla_crossings(None, T0) == {"at_risk_since": None, "overdue_since": None}


def test_an_event_for_a_case_that_does_not_exist_is_refused():
    case = _waiting()
    missing = Case.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    with pytest.raises(IntegrityError, match="does not exist"), transaction.atomic():
        CaseEvent.objects.create(case_id=missing, kind=EventKind.NOTE_ADDED, created_at=T0)
    # One bad row among good ones: the whole statement is refused.
    rows = [CaseEvent(case_id=case.pk, kind=EventKind.NOTE_ADDED, created_at=T0) for _ in range(3)]
    rows.append(CaseEvent(case_id=missing, kind=EventKind.NOTE_ADDED, created_at=T0))
    before = CaseEvent.objects.count()
    with pytest.raises(IntegrityError, match="does not exist"), transaction.atomic():
        CaseEvent.objects.bulk_create(rows)
    assert CaseEvent.objects.count() == before
    CaseEvent.objects.create(case=case, kind=EventKind.NOTE_ADDED, created_at=T0)  # a real case: fine


def test_a_case_is_never_deleted_nor_renumbered_even_by_sql():
    case = _waiting()
    events = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(IntegrityError, match="never deleted"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM hotline_case WHERE id = %s", [case.pk])
    with pytest.raises(IntegrityError, match="never deleted"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE hotline_case SET id = id + 100000 WHERE id = %s", [case.pk])
    assert CaseEvent.objects.filter(case_id=case.pk).count() == events
    Case.objects.filter(pk=case.pk).update(language="uk")  # other columns change as always


def test_the_queue_filter_the_api_and_the_team_page_read_the_clock_without_a_sweep(client, operator, supervisor):
    now = T0 + 30 * HOUR
    late = _waiting(T0)  # 30 h: overdue
    warned = _waiting(T0 + 9 * HOUR)  # 21 h: at risk
    fresh = _waiting(T0 + 29 * HOUR)  # 1 h
    with time_machine.travel(now, tick=False):
        for case in (late, warned):
            ownership.case_assign(actor=supervisor, case_id=case.pk, operator=operator)
        assert not CaseEvent.objects.filter(kind__in=["at_risk", "overdue"]).exists()  # no sweep ran
        overdue = selectors.filter_cases(Case.objects.all(), selectors.QueueFilters(overdue=True))
        assert list(overdue.values_list("pk", flat=True)) == [late.pk]
        row = next(r for r in selectors.team(supervisor) if r.user == operator)
        assert (row.active, row.overdue) == (2, 1)

        login(client, supervisor)
        listed = {r["id"]: r for r in client.get("/api/v1/cases/").json()["results"]}
    assert (listed[late.pk]["at_risk_since"], listed[late.pk]["overdue_since"]) == (
        "2026-03-03T07:00:00+02:00", "2026-03-03T11:00:00+02:00",  # Kyiv time, as every datetime
    )
    assert (listed[warned.pk]["at_risk_since"], listed[warned.pk]["overdue_since"]) == (
        "2026-03-03T16:00:00+02:00", None,
    )
    assert (listed[fresh.pk]["at_risk_since"], listed[fresh.pk]["overdue_since"]) == (None, None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_operator_never_waits_for_a_sweep_nor_a_sweep_for_an_operator(operator):
    """The sweep writes no case row and locks none: an answer in flight does not hold it up,
    and an answer while a big sweep is still open does not wait for its commit."""
    late, other = _waiting(T0), _waiting(T0 + HOUR)
    with another_connection() as session:
        session.execute("SET lock_timeout = '2s'")
        # An operator's transaction holds the row, as an answer being saved does.
        session.execute("SELECT 1 FROM hotline_case WHERE id = %s FOR UPDATE", [late.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        result = sla_sweep(T0 + 30 * HOUR)  # would time out if it needed the row
        assert (result.overdue, result.at_risk) == (2, 0)
        session.rollback()

        with transaction.atomic():
            sla_sweep(T0 + 60 * HOUR)  # nothing new: both are flagged
            CaseEvent.objects.create(case=other, kind=EventKind.NOTE_ADDED, created_at=T0)
            # The sweep's transaction is still open: an answer changes the case without waiting.
            session.execute("UPDATE hotline_case SET awaiting_since = NULL WHERE id = %s", [other.pk])
            session.commit()
    assert current_flags(Case.objects.get(pk=late.pk))[1] == T0 + 30 * HOUR
    assert Case.objects.get(pk=other.pk).awaiting_since is None


@pytest.mark.postgres
def test_events_have_no_foreign_key_to_cases_so_a_sweep_locks_no_case_row():
    """Pinned because it is the sweep's cost at scale: a constraint locks each referenced case
    row at COMMIT (docs/notes/sweep.md). Its integrity is the two triggers', tested above."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'hotline_caseevent'::regclass AND contype = 'f' "
            "AND confrelid = 'hotline_case'::regclass"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN "
            "('hotline_caseevent'::regclass, 'hotline_case'::regclass) ORDER BY tgname"
        )
        names = [row[0] for row in cursor.fetchall()]
    assert {"hotline_caseevent_case_exists", "hotline_case_kept", "hotline_case_kept_id"} <= set(names)


def test_an_old_wait_seen_by_a_new_operator_is_flagged_once_and_cleared_by_the_answer():
    operator = make_operator("mykola")
    case = _waiting(T0)
    with time_machine.travel(T0 + 25 * HOUR, tick=False):
        assert sla_sweep().overdue == 1
        assert sla_sweep().overdue == 0
        services.case_reply(actor=operator, case_id=case.pk, text="Ми тут")
    case.refresh_from_db()
    assert sla_state(case.awaiting_since, T0 + 26 * HOUR) is None
    assert current_flags(case) == (None, None)
    assert CaseEvent.objects.filter(case=case, kind="overdue").count() == 1  # the timeline keeps it
