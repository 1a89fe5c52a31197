"""The 24-hour promise: every wait past a threshold is seen at once and recorded once.

A case is at risk or overdue by the clock: its wait (`awaiting_since`, the first unanswered
request) is older than SLA_WARNING_HOURS or SLA_HOURS (`sla_state`). Nothing has to run for
that to be true, so the queue, the header, the dashboard and the overdue list show a wait the
moment it passes a threshold, even while the sweep is down.

The sweep records it and tells supervisors. For each wait past a threshold it writes one
timeline event (kind at_risk or overdue, `sla_wait` = the wait's start): that event is the
flag. A wait is due for a flag when it is past the threshold and has no such event; the unique
constraint `event_one_flag_per_wait` makes a second one impossible. A human answer ends the
wait (desk/services.py clears `awaiting_since`), so it clears the flag too; a new request starts a
new wait, which is flagged anew.

The sweep writes nothing on case rows and takes no lock on them: an UPDATE of the flagged
cases, then the foreign-key check of each event (a row lock per case), cost four times what the
events themselves cost at a million cases (docs/notes/sweep.md). The case of an event is checked
by a statement trigger instead (migration 0015).

PostgreSQL (production): one INSERT ... SELECT ... WHERE NOT EXISTS, under a transaction-level
advisory lock. Two sweeps at once: the later one takes its snapshot after the first one
committed, and finds nothing left. A human answer committed while a sweep runs is not seen by
it: the event says the wait was past its threshold at the sweep's time, which it was.

SQLite (the embedded default) and any other database: the same INSERT per threshold. SQLite runs
one write transaction at a time (`transaction_mode` IMMEDIATE takes the lock at BEGIN).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline import queueing
from hotline.desk import live
from hotline.models import SLA_FLAG_KINDS, Case, CaseEvent, EventKind, Notification

# Key of the PostgreSQL advisory lock held by a running sweep (any constant unique to it).
SWEEP_LOCK_KEY = 0x534C_4153  # "SLAS"
SWEEP_LINK = "/?overdue=1"
SLA_STATE_LABELS = {"overdue": _("Overdue"), "at_risk": _("At risk")}


@dataclass(frozen=True)
class SweepResult:
    at_risk: int
    overdue: int


def sla_deadline(awaiting_since: datetime) -> datetime:
    return awaiting_since + timedelta(hours=settings.SLA_HOURS)


def sla_warning(awaiting_since: datetime) -> datetime:
    return awaiting_since + timedelta(hours=settings.SLA_WARNING_HOURS)


def overdue_cutoff(now: datetime | None = None) -> datetime:
    """A wait that started at or before this moment is overdue: the rule, in one place."""
    return (now or timezone.now()) - timedelta(hours=settings.SLA_HOURS)


def warning_cutoff(now: datetime | None = None) -> datetime:
    """A wait that started at or before this moment (and after `overdue_cutoff`) is at risk."""
    return (now or timezone.now()) - timedelta(hours=settings.SLA_WARNING_HOURS)


def sla_state(awaiting_since: datetime | None, now: datetime | None = None) -> str | None:
    """"overdue", "at_risk" or None (not waiting, or within the warning threshold).

    Pass None for a closed case: closed cases never flag."""
    if awaiting_since is None:
        return None
    now = now or timezone.now()
    if now >= sla_deadline(awaiting_since):
        return "overdue"
    if settings.SLA_WARNING_HOURS < settings.SLA_HOURS and now >= sla_warning(awaiting_since):
        return "at_risk"
    return None


def sla_crossings(awaiting_since: datetime | None, now: datetime | None = None) -> dict[str, datetime | None]:
    """When the current wait became at risk and overdue (None: not yet, or not waiting)."""
    if awaiting_since is None:
        return {"at_risk_since": None, "overdue_since": None}
    now = now or timezone.now()
    moments = {"at_risk_since": sla_warning(awaiting_since), "overdue_since": sla_deadline(awaiting_since)}
    return {key: moment if now >= moment else None for key, moment in moments.items()}


def _tables() -> tuple[str, str]:
    quote = connection.ops.quote_name
    return quote(Case._meta.db_table), quote(CaseEvent._meta.db_table)


def _thresholds(now: datetime) -> list[tuple[str, datetime, datetime | None]]:
    """(event kind, cutoff, floor) for each threshold in force, warning first.

    The warning's floor is the overdue cutoff: a wait already past the SLA when a sweep first
    sees it (the sweep was down, or the request arrived late) is flagged overdue only. A
    warning then would warn of nothing, and would double the events of a backlog."""
    thresholds: list[tuple[str, datetime, datetime | None]] = []
    if settings.SLA_WARNING_HOURS < settings.SLA_HOURS:
        thresholds.append((EventKind.AT_RISK.value, warning_cutoff(now), overdue_cutoff(now)))
    thresholds.append((EventKind.OVERDUE.value, overdue_cutoff(now), None))
    return thresholds


def _due_flags(kind: str, now: Any, cutoff: Any, floor: Any) -> tuple[str, list[Any]]:
    """SELECT the events of one threshold: open cases whose wait passed it and has no such flag.

    A range of `case_open_wait_idx`; the flags are probed in `event_one_flag_per_wait` (the
    repeated kind condition is that index's own, so the planner may use it)."""
    cases, events = _tables()
    flag_kinds = ", ".join(f"'{k.value}'" for k in SLA_FLAG_KINDS)
    empty = "'{}'::jsonb" if connection.vendor == "postgresql" else "'{}'"
    sql = (
        f"SELECT c.id, %s, {empty}, %s, c.awaiting_since FROM {cases} AS c "  # noqa: S608 (names are ours)
        "WHERE c.closed_at IS NULL AND c.awaiting_since <= %s"
        + ("" if floor is None else " AND c.awaiting_since > %s")
        + f" AND NOT EXISTS (SELECT 1 FROM {events} AS e WHERE e.case_id = c.id AND e.kind IN ({flag_kinds})"  # noqa: S608
        " AND e.kind = %s AND e.sla_wait = c.awaiting_since)"
    )
    return sql, [kind, now, cutoff, *([] if floor is None else [floor]), kind]


def postgresql_sweep_statement(now: datetime) -> tuple[str, list[Any]]:
    """One statement: write the due flags of every threshold and count them by kind."""
    _, events = _tables()
    selects = [_due_flags(kind, now, cutoff, floor) for kind, cutoff, floor in _thresholds(now)]
    counts = ", ".join(f"count(*) FILTER (WHERE kind = '{kind}')" for kind, _, _ in _thresholds(now))
    sql = (
        f"WITH written AS (INSERT INTO {events} (case_id, kind, data, created_at, sla_wait) "  # noqa: S608
        + " UNION ALL ".join(select for select, _ in selects)
        + f" RETURNING kind) SELECT {counts} FROM written"  # noqa: S608
    )
    return sql, [p for _, params in selects for p in params]


def _sweep_postgresql(now: datetime) -> dict[str, int]:
    sql, params = postgresql_sweep_statement(now)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])
        cursor.execute(sql, params)
        counts = cursor.fetchone()
    return {kind: count for (kind, *_), count in zip(_thresholds(now), counts, strict=True)}


def _sweep_portable(now: datetime) -> dict[str, int]:
    _, events = _tables()
    adapt = connection.ops.adapt_datetimefield_value  # SQLite stores naive UTC text
    flagged = {}
    with connection.cursor() as cursor:
        for kind, cutoff, floor in _thresholds(now):
            select, params = _due_flags(kind, adapt(now), adapt(cutoff), None if floor is None else adapt(floor))
            cursor.execute(f"INSERT INTO {events} (case_id, kind, data, created_at, sla_wait) {select}", params)
            flagged[kind] = cursor.rowcount
    return flagged


@transaction.atomic
def sla_sweep(now: datetime | None = None) -> SweepResult:
    """Flag waits at risk (SLA_WARNING_HOURS) and overdue (SLA_HOURS); tell supervisors once.

    Safe to run at any moment, twice, or on several workers at once: each wait is flagged
    once per threshold, by one event. The supervisors' chat message is queued after commit.
    """
    now = now or timezone.now()
    flagged = _sweep_postgresql(now) if connection.vendor == "postgresql" else _sweep_portable(now)
    result = SweepResult(at_risk=flagged.get(EventKind.AT_RISK.value, 0), overdue=flagged[EventKind.OVERDUE.value])
    if result.overdue or result.at_risk:
        _notify(result, now)
        # The header's counts and the queue's badges moved: open pages refresh them (the
        # flagged cases' own pages show the clock's state already).
        live.bump_after_commit()
    return result


def _notify(result: SweepResult, now: datetime) -> None:
    parts = []
    if result.overdue:
        parts.append(f"{result.overdue} case(s) became overdue")
    if result.at_risk:
        parts.append(f"{result.at_risk} case(s) are at risk")
    Notification.objects.create(
        kind="sla", count=result.overdue + result.at_risk, text="; ".join(parts) + ".", link=SWEEP_LINK,
        created_at=now,
    )
    queueing.enqueue_on_commit(queueing.NOTIFY_SUPERVISORS, overdue=result.overdue, at_risk=result.at_risk)
