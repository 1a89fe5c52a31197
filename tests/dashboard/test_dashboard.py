"""The supervisors' dashboard: every figure checked against values worked out by hand."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hotline.dashboard import metrics
from hotline.desk import services
from hotline.desk.sla import sla_sweep
from hotline.intake.telegram import inbox
from hotline.models import EquipmentType, Stage
from tests.factories import login, make_operator, receive
from tests.pages import login as login_in_english

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # a Monday, 14:00 in Kyiv
HOUR = 3600.0


def _at(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def scenario(supervisor):
    """Six cases received in the last 7 days, with known first-response times.

    Answered: 1 h (olena, uk), 3 h (olena), 30 h (olena), 2 h (taras, phone call).
    Unanswered: one received 40 h ago (overdue), one received 1 h ago (still in time).
    """
    olena = make_operator("olena")
    taras = make_operator("taras")
    tank = EquipmentType.objects.get(name="Tank")

    def answered(start: datetime, hours: float, by, *, channel="telegram", language="ru"):
        with _at(start):
            case = receive(at=start, channel=channel, language=language).case
        with _at(start + timedelta(hours=hours)):
            if channel == "phone":
                services.case_log_call(actor=by, case_id=case.pk, summary="talked")
            else:
                services.case_reply(actor=by, case_id=case.pk, text="Мы на связи")
        return case

    day = NOW - timedelta(days=5)
    c1 = answered(day, 1, olena, language="uk")
    c2 = answered(day + timedelta(hours=2), 3, olena)
    answered(day + timedelta(hours=4), 30, olena)
    answered(day + timedelta(days=1), 2, taras, channel="phone")
    with _at(NOW - timedelta(hours=40)):
        receive(at=NOW - timedelta(hours=40))
    with _at(NOW - timedelta(hours=1)):
        receive(at=NOW - timedelta(hours=1))
    # c1 goes all the way, with a tank; c2 withdraws while in contact.
    with _at(day + timedelta(days=1)):
        services.case_advance(actor=olena, case_id=c1.pk, to_stage=Stage.VERIFIED)
        services.case_advance(actor=olena, case_id=c1.pk, to_stage=Stage.PLANNING)
    with _at(day + timedelta(days=2)):
        services.case_record_surrender(
            actor=olena, case_id=c1.pk, surrendered_at=day + timedelta(days=2), place="Sector 4",
            equipment={tank.pk: 1},
        )
        services.case_close(actor=olena, case_id=c2.pk, reason="withdrew")
    with _at(NOW):
        sla_sweep()
    return {"olena": olena, "taras": taras}


def _dashboard():
    with _at(NOW):
        return metrics.dashboard(metrics.period_for("7d"), now=NOW)


def test_overall_response_times(scenario):
    overall = _dashboard().overall
    # Answered: 1, 2, 3, 30 h. percentile_cont: median at rank 1.5 -> 2.5 h; p90 at rank 2.7 -> 3 + 0.7 * 27.
    assert overall.received == 6
    assert overall.answered == 4
    assert overall.median_s == pytest.approx(2.5 * HOUR)
    assert overall.p90_s == pytest.approx(21.9 * HOUR)
    assert overall.max_s == pytest.approx(30 * HOUR)
    # Within the SLA: 1, 2, 3 h; eligible: the four answered and the one waiting 40 h.
    assert (overall.within_sla, overall.eligible) == (3, 5)
    assert overall.share_within == pytest.approx(0.6)


def test_per_operator_channel_and_language(scenario):
    d = _dashboard()
    olena, taras = d.by_operator
    assert (olena.label, olena.received, olena.answered) == ("olena", 3, 3)
    assert olena.median_s == pytest.approx(3 * HOUR)
    assert olena.p90_s == pytest.approx((3 + 0.8 * 27) * HOUR)
    assert olena.share_within == pytest.approx(2 / 3)
    assert (taras.label, taras.share_within) == ("taras", 1.0)
    assert (taras.median_s, taras.p90_s) == (pytest.approx(2 * HOUR), pytest.approx(2 * HOUR))

    channels = {s.key: s for s in d.by_channel}
    assert channels["telegram"].received == 5
    assert channels["telegram"].median_s == pytest.approx(3 * HOUR)
    assert channels["phone"].median_s == pytest.approx(2 * HOUR)
    languages = {s.key: s for s in d.by_language}
    assert languages["uk"].median_s == pytest.approx(1 * HOUR)
    assert languages["ru"].received == 5


def test_trend_per_local_day(scenario):
    trend = _dashboard().trend
    first_day, second_day, *_ = trend
    # Day one: answers after 1, 3 and 30 h -> median 3 h. Day two: the 2 h phone call.
    assert first_day.median_s == pytest.approx(3 * HOUR)
    assert second_day.median_s == pytest.approx(2 * HOUR)
    assert [t.key for t in trend] == sorted(t.key for t in trend)


def test_now_flow_and_rewards(scenario):
    d = _dashboard()
    assert (d.now.waiting, d.now.overdue, d.now.at_risk, d.now.unassigned) == (2, 1, 0, 2)
    assert d.now.longest_wait_since == NOW - timedelta(hours=40)
    # Open cases per operator on shift: olena's 30-hour answer (c1 surrendered, c2 closed), taras's call.
    assert {row["username"]: row["active"] for row in d.now.on_shift} == {"olena": 1, "taras": 1, "sofia": 0}
    assert [c.awaiting_since for c in d.overdue] == [NOW - timedelta(hours=40)]

    funnel = {step["stage"]: step["count"] for step in d.flow.funnel}
    assert funnel == {"new": 6, "assigned": 4, "in_contact": 4, "verified": 1, "planning": 1, "surrendered": 1}
    assert d.flow.opened == 6
    assert d.flow.surrendered == 1
    assert d.flow.avg_to_surrender == timedelta(days=2)
    assert d.flow.closed_by_reason == [{"reason": "withdrew", "label": "Withdrew", "count": 1}]
    assert d.flow.stages_now == {
        str(Stage.NEW.label): 2, str(Stage.ASSIGNED.label): 0, str(Stage.IN_CONTACT.label): 2,
        str(Stage.VERIFIED.label): 0, str(Stage.PLANNING.label): 0, str(Stage.SURRENDERED.label): 1,
        str(Stage.CLOSED.label): 1,
    }

    assert d.rewards.equipment == [{"name": "Tank", "quantity": 1, "currency": "USD", "amount": 50000}]
    assert d.rewards.totals == [{"currency": "USD", "due": 50000, "due_cases": 1, "paid": 0, "paid_cases": 0}]


def test_now_counts_and_lists_a_wait_past_the_sla_before_the_sweep_flags_it(supervisor):
    """Overdue and at risk by the clock: a sweep that is late (or down) hides no wait."""
    with _at(NOW - timedelta(hours=30)):
        late = receive(at=NOW - timedelta(hours=30)).case
    with _at(NOW - timedelta(hours=22)):
        receive(at=NOW - timedelta(hours=22))
    d = _dashboard()  # no sweep has run
    assert (d.now.waiting, d.now.overdue, d.now.at_risk, d.now.unassigned) == (2, 1, 1, 2)
    assert [c.pk for c in d.overdue] == [late.pk]


def test_trend_per_local_day_and_week_across_the_change_to_summer_time(db):
    """Kyiv moves to UTC+3 at 03:00 on Sunday 29 March 2026: days and weeks are local ones."""
    from datetime import date
    from zoneinfo import ZoneInfo

    kyiv = ZoneInfo("Europe/Kyiv")
    for day, hour in ((28, 23), (29, 0), (29, 23), (30, 0)):
        moment = datetime(2026, 3, day, hour, 30, tzinfo=kyiv)
        with _at(moment):
            receive(at=moment)
    now = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)

    def trend(start: date, end: date) -> list[tuple[date, int]]:
        with _at(now):
            d = metrics.dashboard(metrics.period_for("custom", start=start, end=end, now=now), now=now)
        return [(t.key, t.received) for t in d.trend]

    assert trend(date(2026, 3, 28), date(2026, 3, 30)) == [
        (date(2026, 3, 28), 1), (date(2026, 3, 29), 2), (date(2026, 3, 30), 1),
    ]
    # Beyond 45 days, per week from Monday: Saturday and Sunday in the week of the 23rd.
    assert trend(date(2026, 2, 1), date(2026, 3, 31)) == [(date(2026, 3, 23), 3), (date(2026, 3, 30), 1)]


def test_a_paid_reward_moves_from_due_to_paid(scenario, supervisor):
    from hotline.models import Case

    case = Case.objects.get(stage=Stage.SURRENDERED)
    with _at(NOW - timedelta(hours=2)):
        services.case_mark_reward_paid(actor=supervisor, case_id=case.pk)
    totals = _dashboard().rewards.totals
    assert totals == [{"currency": "USD", "due": 0, "due_cases": 0, "paid": 50000, "paid_cases": 1}]


def test_empty_period_has_no_figures(db):
    with _at(NOW):
        d = metrics.dashboard(metrics.period_for("today"), now=NOW)
    assert (d.overall.received, d.overall.median_s, d.overall.share_within) == (0, None, None)
    assert d.trend == [] and d.by_operator == []


def test_custom_period_covers_whole_local_days():
    from datetime import date

    period = metrics.period_for("custom", start=date(2026, 3, 1), end=date(2026, 3, 2), now=NOW)
    assert period.start.isoformat() == "2026-03-01T00:00:00+02:00"
    assert period.end.isoformat() == "2026-03-03T00:00:00+02:00"
    with pytest.raises(ValueError):
        metrics.period_for("custom", start=date(2026, 3, 2), end=date(2026, 3, 1))


def test_dashboard_query_count_is_constant(scenario, client, supervisor):
    login(client, supervisor)

    def count() -> int:
        with _at(NOW), CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("dashboard")).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for n in range(5):
        make_operator(f"extra{n}")
        with _at(NOW - timedelta(hours=30 + n)):
            receive(at=NOW - timedelta(hours=30 + n))
    with _at(NOW):
        sla_sweep()
    # 16 + the second factor's device: the response tables and the funnel are one statement
    # (GROUPING SETS), the header's counts are the dashboard's own "now" figures, and one
    # indexed count of Telegram updates not yet applied; + the hourly rollups (PostgreSQL), read
    # first: a period this small is then computed exactly from the cases.
    assert count() == before == (18 if connection.vendor == "postgresql" else 27)  # SQLite: one query per table


def test_supervisors_are_warned_when_stored_telegram_updates_wait_for_a_worker(client, supervisor, settings):
    """Stored by the webhook but not applied: such a request is in no queue, so once the oldest
    has waited TELEGRAM_INBOX_LATE_SECONDS the dashboard (page and API) says so."""
    settings.TELEGRAM_INBOX_LATE_SECONDS = 60
    login_in_english(client, supervisor)
    with _at(NOW - timedelta(seconds=90)):
        inbox.accept(771, "message", '{"update_id": 771, "message": {}}')
    with _at(NOW - timedelta(seconds=10)):
        inbox.accept(772, "message", '{"update_id": 772, "message": {}}')
    with _at(NOW - timedelta(seconds=30)):
        page = client.get(reverse("dashboard")).content.decode()
        assert "Telegram updates have been received but not yet processed" not in page  # 60 s, not yet late
    with _at(NOW):
        page = client.get(reverse("dashboard")).content.decode()
        api = client.get(reverse("api-metrics")).json()
    assert "2 Telegram updates have been received but not yet processed, the oldest for 1" in page
    assert (api["now"]["unapplied_updates"], api["now"]["intake_late"]) == (2, True)
    inbox.process_pending()
    with _at(NOW):
        assert "not yet processed" not in client.get(reverse("dashboard")).content.decode()


def test_only_supervisors_see_the_dashboard_page_csv_and_api(scenario, client, supervisor):
    urls = [reverse("dashboard"), reverse("dashboard-csv"), reverse("api-metrics")]
    for url in urls:
        assert client.get(url).status_code in (302, 403)  # anonymous: login (pages) or refused (API)
    login(client, scenario["olena"])
    for url in urls:
        assert client.get(url).status_code == 403
    login(client, supervisor)
    for url in urls:
        assert client.get(url).status_code == 200


def test_page_csv_and_api_show_the_same_numbers(scenario, client, supervisor):
    login_in_english(client, supervisor)  # the assertions read English text
    with _at(NOW):
        page = client.get(reverse("dashboard"), {"period": "7d"})
        csv_body = client.get(reverse("dashboard-csv"), {"period": "7d"}).content.decode()
        api = client.get(reverse("api-metrics"), {"period": "7d"}).json()
    assert b"2 h 30 min" in page.content and b"60.0%" in page.content
    assert b"<svg" in page.content
    assert "all,all,6,4,9000,78840,108000,0.6000" in csv_body
    assert "operator,olena,3,3,10800" in csv_body
    assert api["response"]["overall"]["median_s"] == pytest.approx(9000)
    assert api["response"]["overall"]["share_within_sla"] == pytest.approx(0.6)
    assert api["now"]["overdue"] == 1
    late = api["overdue"][0]["case"]  # received 40 hours ago, nobody took it
    row = f'<a href="/cases/{late}/">#{late}</a></td><td>unassigned</td><td>1\xa0day, 16\xa0hours</td>'
    assert row in page.content.decode()


def test_bad_period_is_a_clear_400(client, supervisor):
    login_in_english(client, supervisor)  # the assertions read English text
    response = client.get(reverse("dashboard"), {"period": "custom", "start": "2026-03-05", "end": "2026-03-01"})
    assert response.status_code == 400
    assert b"on or after" in response.content
    api = client.get(reverse("api-metrics"), {"period": "year"})
    assert api.status_code == 400 and "period" in api.json()["errors"]


@pytest.mark.postgres
def test_the_sqlite_fallback_gives_the_same_figures():
    """Run this module's figure tests on SQLite, where percentiles use window functions."""
    if os.environ.get("TEST_FORCE_SQLITE"):
        pytest.skip("already on SQLite")
    env = {**os.environ, "TEST_FORCE_SQLITE": "1"}
    result = subprocess.run(  # noqa: S603 - our own test suite
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
         "-k", "response_times or per_operator or trend or now_"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "6 passed" in result.stdout
