"""The SLA clock at its edges: when a wait starts, what stops it, what never flags."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from hotline.desk import ownership, services
from hotline.desk.sla import SWEEP_LINK, SweepResult, _sweep_portable, postgresql_sweep_statement, sla_sweep
from hotline.models import Case, CaseEvent, Notification
from tests.factories import current_flags, receive

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


def _request(at=T0, **kwargs) -> Case:
    with time_machine.travel(at, tick=False):
        return receive(at=at, **kwargs).case


def _sweep(at: datetime) -> SweepResult:
    with time_machine.travel(at, tick=False):
        return sla_sweep()


def _flags(case: Case) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(the wait's start, when the sweep flagged it at risk, when overdue): the flags are the
    events of the current wait (hotline.desk.sla)."""
    case.refresh_from_db()
    return case.awaiting_since, *current_flags(case)


def _flag_events(case: Case) -> list[tuple[str, datetime]]:
    return list(case.events.filter(kind__in=["at_risk", "overdue"]).order_by("pk").values_list("kind", "sla_wait"))


def test_at_risk_at_exactly_the_warning_threshold_and_not_a_second_before():
    case = _request()
    assert _sweep(T0 + 20 * HOUR - SECOND) == SweepResult(at_risk=0, overdue=0)
    assert _sweep(T0 + 20 * HOUR) == SweepResult(at_risk=1, overdue=0)
    assert _flags(case) == (T0, T0 + 20 * HOUR, None)
    assert _sweep(T0 + 24 * HOUR - SECOND) == SweepResult(at_risk=0, overdue=0)
    assert _sweep(T0 + 24 * HOUR) == SweepResult(at_risk=0, overdue=1)
    assert _flags(case) == (T0, T0 + 20 * HOUR, T0 + 24 * HOUR)
    assert _flag_events(case) == [("at_risk", T0), ("overdue", T0)]


def test_flag_events_name_the_wait_and_hold_no_personal_data():
    case = _request(text="Меня зовут Иван, позывной Ворон")
    _sweep(T0 + 21 * HOUR)
    _sweep(T0 + 25 * HOUR)
    events = CaseEvent.objects.filter(case=case, kind__in=["at_risk", "overdue"]).order_by("pk")
    assert [(e.kind, e.actor_id, e.data, e.sla_wait, e.created_at) for e in events] == [
        ("at_risk", None, {}, T0, T0 + 21 * HOUR), ("overdue", None, {}, T0, T0 + 25 * HOUR),
    ]


def test_a_second_request_while_waiting_does_not_restart_the_clock():
    case = _request()
    _request(at=T0 + 10 * HOUR, identifier=case.contact.identifier)
    assert _sweep(T0 + 24 * HOUR).overdue == 1
    assert _flags(case)[0] == T0


def test_a_logged_call_is_a_human_answer(operator):
    case = _request(channel="phone", identifier="+380501234567")
    _sweep(T0 + 21 * HOUR)
    with time_machine.travel(T0 + 22 * HOUR, tick=False):
        services.case_log_call(actor=operator, case_id=case.pk, summary="Called back, all clear")
    assert _flags(case) == (None, None, None)
    assert _sweep(T0 + 48 * HOUR) == SweepResult(at_risk=0, overdue=0)


def test_an_answered_case_never_flags(operator):
    case = _request()
    with time_machine.travel(T0 + HOUR, tick=False):
        services.case_reply(actor=operator, case_id=case.pk, text="Мы на связи")
    assert _sweep(T0 + 30 * 24 * HOUR) == SweepResult(at_risk=0, overdue=0)


def test_an_internal_note_alone_does_not_stop_the_clock(operator):
    case = _request()
    with time_machine.travel(T0 + HOUR, tick=False):
        services.case_add_note(actor=operator, case_id=case.pk, text="call tomorrow")
    assert _sweep(T0 + 24 * HOUR).overdue == 1


def test_an_automatic_acknowledgement_alone_does_not_stop_the_clock():
    case = _request()
    with time_machine.travel(T0 + SECOND, tick=False):
        services.message_record_automatic(case_id=case.pk, text="Ваше обращение принято")
    assert _sweep(T0 + 24 * HOUR).overdue == 1


def test_a_request_received_long_ago_is_overdue_at_the_next_sweep():
    """A request delivered late (queued in a phone system, replayed after an outage) carries
    its own received_at: the wait began then, not when it reached the desk."""
    with time_machine.travel(T0, tick=False):
        case = receive(at=T0 - 25 * HOUR).case
    assert _sweep(T0 + SECOND) == SweepResult(at_risk=0, overdue=1)
    assert _flag_events(case) == [("overdue", T0 - 25 * HOUR)]  # past the warning: no warning


def test_a_wait_first_seen_past_the_sla_is_flagged_overdue_only_and_a_warned_one_both():
    """The warning is for acting before the breach. A wait the sweep first sees already past
    24 h (the sweep was down) gets the overdue flag and event only; one seen at 20 h got its
    warning then, and keeps it when it becomes overdue."""
    early, warned = _request(), _request(at=T0 + 2 * HOUR)
    assert _sweep(T0 + 22 * HOUR) == SweepResult(at_risk=2, overdue=0)
    fresh = _request(at=T0 + 30 * HOUR)
    assert _sweep(T0 + 26 * HOUR + 5 * 24 * HOUR) == SweepResult(at_risk=0, overdue=3)
    assert _flag_events(early) == [("at_risk", T0), ("overdue", T0)]
    assert _flag_events(warned) == [("at_risk", T0 + 2 * HOUR), ("overdue", T0 + 2 * HOUR)]
    assert _flag_events(fresh) == [("overdue", T0 + 30 * HOUR)]
    assert _flags(fresh)[1:] == (None, T0 + 26 * HOUR + 5 * 24 * HOUR)


def test_closed_and_surrendered_cases_never_flag(operator):
    closed = _request()
    waiting = _request()
    with time_machine.travel(T0 + 25 * HOUR, tick=False):
        services.case_close(actor=operator, case_id=closed.pk, reason="duplicate")
    assert _sweep(T0 + 72 * HOUR) == SweepResult(at_risk=0, overdue=1)
    assert _flags(closed) == (None, None, None)
    assert _flags(waiting)[2] == T0 + 72 * HOUR


def test_closing_an_overdue_case_clears_its_flags(operator):
    case = _request()
    _sweep(T0 + 25 * HOUR)
    with time_machine.travel(T0 + 26 * HOUR, tick=False):
        services.case_close(actor=operator, case_id=case.pk, reason="lost_contact")
    assert _flags(case) == (None, None, None)
    assert _sweep(T0 + 72 * HOUR) == SweepResult(at_risk=0, overdue=0)


@pytest.mark.parametrize("setting", ["reopen", "new"])
def test_a_new_request_after_closing_starts_a_new_wait(operator, settings, setting):
    settings.CASE_NEW_REQUEST_ON_CLOSED = setting
    first = _request()
    _sweep(T0 + 25 * HOUR)
    with time_machine.travel(T0 + 26 * HOUR, tick=False):
        services.case_close(actor=operator, case_id=first.pk, reason="withdrew")
    again = _request(at=T0 + 100 * HOUR, identifier=first.contact.identifier)
    assert (again.pk == first.pk) is (setting == "reopen")
    assert _flags(again) == (T0 + 100 * HOUR, None, None)
    assert _sweep(T0 + 124 * HOUR - SECOND).overdue == 0
    assert _sweep(T0 + 124 * HOUR) == SweepResult(at_risk=0, overdue=1)
    assert _flag_events(again)[-1] == ("overdue", T0 + 100 * HOUR)
    assert CaseEvent.objects.filter(kind="overdue").count() == 2  # one per wait


def test_a_case_reopened_by_an_operator_without_a_request_does_not_wait(operator):
    case = _request()
    with time_machine.travel(T0 + HOUR, tick=False):
        ownership.case_take(actor=operator, case_id=case.pk)
        services.case_close(actor=operator, case_id=case.pk, reason="lost_contact")
    with time_machine.travel(T0 + 2 * HOUR, tick=False):
        services.case_reopen(actor=operator, case_id=case.pk)
    assert _flags(case) == (None, None, None)
    assert _sweep(T0 + 30 * 24 * HOUR) == SweepResult(at_risk=0, overdue=0)


def test_running_the_sweep_twice_flags_once():
    case = _request()
    assert _sweep(T0 + 21 * HOUR) == SweepResult(at_risk=1, overdue=0)
    assert _sweep(T0 + 21 * HOUR) == SweepResult(at_risk=0, overdue=0)
    assert _sweep(T0 + 25 * HOUR) == SweepResult(at_risk=0, overdue=1)
    assert _sweep(T0 + 25 * HOUR) == SweepResult(at_risk=0, overdue=0)
    assert _sweep(T0 + 26 * HOUR) == SweepResult(at_risk=0, overdue=0)
    assert len(_flag_events(case)) == 2
    assert Notification.objects.count() == 2  # one per sweep that flagged something


def test_thresholds_come_from_settings(settings):
    settings.SLA_HOURS, settings.SLA_WARNING_HOURS = 2.5, 2
    case = _request()
    assert _sweep(T0 + 2 * HOUR) == SweepResult(at_risk=1, overdue=0)
    assert _sweep(T0 + 150 * timedelta(minutes=1)) == SweepResult(at_risk=0, overdue=1)
    assert _flags(case)[2] == T0 + 150 * timedelta(minutes=1)


def test_no_warning_when_it_is_not_before_the_deadline(settings):
    settings.SLA_WARNING_HOURS = settings.SLA_HOURS
    case = _request()
    assert _sweep(T0 + 30 * HOUR) == SweepResult(at_risk=0, overdue=1)
    assert _flags(case)[1] is None
    assert _flag_events(case) == [("overdue", T0)]


def test_supervisors_notice_has_the_counts_and_a_link():
    _request()
    _request(at=T0 + 4 * HOUR)
    _request(at=T0 + 5 * HOUR)
    _sweep(T0 + 25 * HOUR)
    notice = Notification.objects.get()
    assert (notice.kind, notice.count, notice.link) == ("sla", 3, SWEEP_LINK)
    assert notice.text == "1 case(s) became overdue; 2 case(s) are at risk."


def test_the_supervisors_chat_message_is_queued_once_per_sweep_after_commit(django_capture_on_commit_callbacks):
    for _ in range(5):
        _request()
    with django_capture_on_commit_callbacks() as callbacks:
        _sweep(T0 + 25 * HOUR)
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks:
        _sweep(T0 + 26 * HOUR)
    assert callbacks == []


def test_the_path_sqlite_takes_gives_the_same_result_on_this_database():
    """The portable path (one INSERT per threshold) runs in CI too, whatever the database."""
    waiting, at_risk, fresh = _request(at=T0 - 30 * HOUR), _request(at=T0 - 21 * HOUR), _request(at=T0 - HOUR)
    with transaction.atomic():
        flagged = _sweep_portable(T0)
    assert flagged == {"at_risk": 1, "overdue": 1}
    assert _flags(waiting) == (T0 - 30 * HOUR, None, T0)  # first seen past the SLA: overdue only
    assert _flags(at_risk) == (T0 - 21 * HOUR, T0, None)
    assert _flags(fresh) == (T0 - HOUR, None, None)
    with transaction.atomic():
        assert _sweep_portable(T0) == {"at_risk": 0, "overdue": 0}
    assert CaseEvent.objects.filter(kind__in=["at_risk", "overdue"]).count() == 2


@pytest.mark.postgres
def test_postgresql_reaches_the_due_cases_through_the_partial_index():
    """The sweep's condition must match the partial index, or a sweep reads the whole table.

    The planner needs a table shaped like production (mostly closed cases, a few waiting) and
    its statistics; the rows are copied in SQL from one real case because building 20,000
    cases through the services would take minutes.
    """
    model = _request()
    copy = (
        "INSERT INTO hotline_case (contact_id, channel, language, stage, close_reason, stage_before_close, "
        "received_at, last_request_at, awaiting_since, closed_at, surrender_place, reward_state, triage, "
        "updated_at) SELECT contact_id, channel, language, stage, '', '', received_at, last_request_at, "
        "CASE WHEN g %% 40 = 0 THEN awaiting_since END, CASE WHEN g %% 40 > 1 THEN received_at END, '', "
        "reward_state, triage, updated_at FROM hotline_case, generate_series(1, 20000) AS g WHERE id = %s"
    )
    sql, params = postgresql_sweep_statement(T0 + 25 * HOUR)
    with connection.cursor() as cursor:
        cursor.execute(copy, [model.pk])
        cursor.execute("ANALYZE hotline_case")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan
    assert "case_open_wait_idx" in plan


def test_flag_overdue_command_prints_the_counts():
    _request()
    out = StringIO()
    call_command("flag_overdue", "--at", (T0 + 21 * HOUR).isoformat(), stdout=out)
    assert out.getvalue().split() == ["overdue", "0", "at_risk", "1"]
    out = StringIO()
    call_command("flag_overdue", "--at", "2026-03-03T09:00:00+00:00", stdout=out)
    assert out.getvalue().split() == ["overdue", "1", "at_risk", "0"]


def test_flag_overdue_command_without_a_time_uses_the_clock():
    _request()
    _request(at=T0 + 3 * HOUR)
    out = StringIO()
    with time_machine.travel(T0 + 24 * HOUR, tick=False):
        call_command("flag_overdue", stdout=out)
    assert out.getvalue().split() == ["overdue", "1", "at_risk", "1"]


def test_flag_overdue_command_rejects_a_malformed_time():
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("flag_overdue", "--at", "yesterday")
