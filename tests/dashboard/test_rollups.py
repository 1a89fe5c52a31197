"""Issue 18: the dashboard's response figures from hourly rollups (hotline/dashboard/rollups.py)
equal the raw computation: counts exactly, percentiles and maxima within the stated bound
(0.5 s + 1.1 %), after inserts, answers, stage changes and compaction; the triggers that keep
the rollups are in place on PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from hotline.dashboard import case_counts, metrics, rollups
from hotline.desk import ownership, services
from hotline.models import Case, ResponseRollup, Stage
from tests.factories import make_operator, receive

NOW = datetime(2026, 3, 9, 12, 25, 17, tzinfo=UTC)  # mid-hour: every edge of a period is a part-hour
TRIGGERS = {"hotline_response_rollup_insert", "hotline_response_rollup_update", "hotline_response_rollup_truncate"}


def within_bound(estimate: float | None, exact: float | None) -> bool:
    if exact is None or estimate is None:
        return estimate is exact
    return abs(estimate - exact) <= rollups.ABS_BOUND_S + rollups.REL_BOUND * exact + 1e-9


def _percentile_cont(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_histogram_percentiles_are_within_the_bound_of_the_exact_ones():
    """The bound itself, on many draws from 0 s to weeks (no database)."""
    rng = random.Random(18)
    for _ in range(300):
        values = [rng.choice([rng.uniform(0, 64), rng.lognormvariate(8, 2.5)]) for _ in range(rng.randint(1, 60))]
        histogram: dict[int, int] = {}
        for value in values:
            histogram[rollups.bucket_of(value)] = histogram.get(rollups.bucket_of(value), 0) + 1
        for fraction in (0.0, 0.5, 0.9, 1.0):
            assert within_bound(rollups.percentile(histogram, fraction), _percentile_cont(values, fraction))
    for value in (0.2, 63.99, 64.0, 600.0, 7200.0, 86400.0, 3e7):
        assert within_bound(rollups.value_of(rollups.bucket_of(value)), value)


def _at(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def desk(supervisor):
    """~60 cases over 40 days: answered after 3 s to 3 days by three operators, on two channels
    and three languages, some closed; unanswered ones on both sides of the SLA."""
    rng = random.Random(7)
    operators = [make_operator(name, capacity=100) for name in ("olena", "taras", "ivan")]
    cases = []
    for i in range(60):
        received = NOW - timedelta(seconds=rng.randint(60, 40 * 86400))
        channel = "phone" if i % 5 == 0 else "telegram"
        with _at(received):
            case = receive(at=received, channel=channel, language=["ru", "uk", "en"][i % 3]).case
        cases.append(case)
        if i % 4 == 3:
            continue  # unanswered
        seconds = rng.choice([rng.randint(3, 63), rng.randint(64, 3 * 86400)])
        answered = min(received + timedelta(seconds=seconds), NOW - timedelta(seconds=1))
        who = operators[i % 3]
        with _at(answered):
            if channel == "phone":
                services.case_log_call(actor=who, case_id=case.pk, summary="talked")
            else:
                services.case_reply(actor=who, case_id=case.pk, text="Мы на связи")
            if i % 7 == 0:
                services.case_close(actor=who, case_id=case.pk, reason="withdrew")
    # Unanswered, in the hour that holds NOW - SLA: one waited past the SLA (it counts in the
    # share's denominator), one did not yet; the hour alone cannot tell them apart.
    for minutes in (-10, 10):
        received = NOW - timedelta(hours=24) + timedelta(minutes=minutes)
        with _at(received):
            cases.append(receive(at=received).case)
    return {"operators": operators, "cases": cases, "supervisor": supervisor}


def _figures(period: metrics.Period, settings, *, rolled: bool) -> metrics.ResponseFigures:
    settings.DASHBOARD_EXACT_MAX_CASES = -1 if rolled else 10**9
    cases = Case.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
    return metrics.response_figures(cases, period, NOW)


def _compare(settings) -> int:
    """Every table of every period: the rollups' figures against the exact ones."""
    compared = 0
    periods = [metrics.period_for(key, now=NOW) for key in ("today", "7d", "30d")]
    periods.append(metrics.period_for("custom", start=datetime(2026, 2, 1).date(), end=datetime(2026, 3, 9).date(),
                                      now=NOW))
    for period in periods:
        with _at(NOW):
            exact, rolled = _figures(period, settings, rolled=False), _figures(period, settings, rolled=True)
        assert rolled.opened_by_stage == exact.opened_by_stage
        for name in ("by_operator", "by_channel", "by_language", "trend"):
            assert [s.key for s in getattr(rolled, name)] == [s.key for s in getattr(exact, name)], (period, name)
        for got, want in zip(
            [rolled.overall, *rolled.by_operator, *rolled.by_channel, *rolled.by_language, *rolled.trend],
            [exact.overall, *exact.by_operator, *exact.by_channel, *exact.by_language, *exact.trend], strict=True,
        ):
            assert (got.key, got.received, got.answered, got.within_sla, got.eligible) == (
                want.key, want.received, want.answered, want.within_sla, want.eligible), (period.key, got, want)
            for figure in ("median_s", "p90_s", "max_s"):
                assert within_bound(getattr(got, figure), getattr(want, figure)), (period.key, figure, got, want)
            compared += 1
    return compared


@pytest.mark.postgres
@pytest.mark.django_db
def test_rollups_equal_the_raw_computation_after_inserts_answers_and_changes(desk, settings):
    assert _compare(settings) > 20
    olena, taras, _ivan = desk["operators"]
    unanswered = [c for c in desk["cases"] if Case.objects.get(pk=c.pk).first_response_at is None]
    with _at(NOW - timedelta(minutes=5)):
        services.case_reply(actor=olena, case_id=unanswered[0].pk, text="Ответ")  # an answer, late
        case = Case.objects.get(pk=unanswered[1].pk)
        ownership.case_take(actor=taras, case_id=case.pk)  # a stage change without an answer
        answered = Case.objects.filter(first_response_at__isnull=False, closed_at__isnull=True).first()
        services.case_close(actor=answered.owner, case_id=answered.pk, reason="lost_contact")
    _compare(settings)
    with connection.cursor() as cursor:  # a writer outside the services: a bulk change of channel
        cursor.execute("UPDATE hotline_case SET channel = 'web' WHERE id %% %s = 0", [3])
    _compare(settings)
    ledger = ResponseRollup.objects.count()
    case_counts.compact()  # folds the rollups too
    assert ResponseRollup.objects.count() < ledger
    _compare(settings)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_rebuild_command_writes_what_the_triggers_wrote(desk, settings, capsys):
    def sums() -> dict:
        rows = ResponseRollup.objects.values_list(
            "hour", "first_responder_id", "channel", "language", "stage", "stage_before_close", "bucket", "within_sla",
        ).order_by()
        totals: dict = {}
        for *key, n in rows.values_list(*rows.query.values_select, "n"):
            totals[tuple(key)] = totals.get(tuple(key), 0) + n
        return {k: v for k, v in totals.items() if v}

    kept = sums()
    call_command("dashboard_rollups_rebuild")
    assert "rollup_rows" in capsys.readouterr().out
    assert sums() == kept
    _compare(settings)


@pytest.mark.postgres
@pytest.mark.django_db
def test_rollups_under_another_sla_are_not_used_until_rebuilt(desk, settings):
    settings.SLA_HOURS = 12
    period = metrics.period_for("30d", now=NOW)
    assert rollups.response_groups(period.start, period.end, NOW, [period.start]) is None
    with _at(NOW):
        exact = _figures(period, settings, rolled=False)
        assert _figures(period, settings, rolled=True).overall == exact.overall  # computed from the cases
    rollups.rebuild()
    assert rollups.response_groups(period.start, period.end, NOW, [period.start]) is not None
    _compare(settings)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_triggers_keep_the_rollups_and_skip_other_updates():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'hotline_case'::regclass AND NOT tgisinternal")
        assert {row[0] for row in cursor.fetchall()} >= TRIGGERS
    case = receive().case
    assert sum(ResponseRollup.objects.values_list("n", flat=True)) == Case.objects.count()
    rows = ResponseRollup.objects.count()
    with connection.cursor() as cursor:  # the SLA sweep's kind of update: no rolled-up column
        cursor.execute("UPDATE hotline_case SET awaiting_since = now() - interval '2 days' WHERE id = %s", [case.pk])
    assert ResponseRollup.objects.count() == rows
    Case.objects.filter(pk=case.pk).update(stage=Stage.ASSIGNED)
    assert ResponseRollup.objects.count() == rows + 2
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE hotline_case CASCADE")
    assert not ResponseRollup.objects.exists()


@pytest.mark.django_db
def test_the_waiting_figures_are_shared_for_the_stated_time(settings):
    """Like the header's badges: HEADER_COUNTS_CACHE_SECONDS of staleness, 0 counts every time."""
    receive()
    settings.HEADER_COUNTS_CACHE_SECONDS = 15
    assert metrics.now_figures().waiting == 1
    receive()
    assert metrics.now_figures().waiting == 1  # cached, as stated
    settings.HEADER_COUNTS_CACHE_SECONDS = 0
    assert metrics.now_figures().waiting == 2
