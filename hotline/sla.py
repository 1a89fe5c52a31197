"""The 24-hour promise: flag every case whose wait passed a threshold, in a few statements.

Set-based and idempotent; the number of statements never depends on the number of cases.

PostgreSQL (production): one statement flags both thresholds. An UPDATE driven by the
partial index `case_open_wait_idx` (open cases by `awaiting_since`) marks the cases and
RETURNs them to an INSERT that writes their timeline events. No index mentions the flag
columns and the table keeps free room on each page (migration 0006), so flagging a case is a
HOT update that touches no index; the sweep's cost is then mostly the events it writes. Two sweeps at once are
serialised by a transaction-level advisory lock, so the later one finds nothing left to
flag (and the two can never deadlock on case rows). A human answer committed while the
sweep runs either happens first (the UPDATE re-checks the row and skips it) or waits for the
sweep's commit and then clears the flag it set.

SQLite (the embedded default) and any other database: per threshold, an INSERT ... SELECT
writes the events of the cases about to be flagged, then an UPDATE with the same condition
flags them. SQLite runs one write transaction at a time (`transaction_mode` IMMEDIATE takes
the lock at BEGIN), so both statements see the same rows.

Whatever the path, the unique constraint `event_one_flag_per_wait` makes a second event
for the same wait and threshold impossible (ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import Case, CaseEvent, EventKind, Notification

# Key of the PostgreSQL advisory lock held by a running sweep (any constant unique to it).
SWEEP_LOCK_KEY = 0x534C_4153  # "SLAS"
SWEEP_LINK = "/?overdue=1"


@dataclass(frozen=True)
class SweepResult:
    at_risk: int
    overdue: int


def sla_deadline(awaiting_since: datetime) -> datetime:
    return awaiting_since + timedelta(hours=settings.SLA_HOURS)


def _tables() -> tuple[str, str]:
    quote = connection.ops.quote_name
    return quote(Case._meta.db_table), quote(CaseEvent._meta.db_table)


def _thresholds(now: datetime) -> list[tuple[str, str, datetime, datetime | None]]:
    """(flag column, event kind, cutoff, floor) for each threshold in force, warning first.

    The warning's floor is the overdue cutoff: a wait already past the SLA when a sweep first
    sees it (the sweep was down, or the request arrived late) is flagged overdue only. A
    warning then would warn of nothing, and would double the events of a backlog."""
    overdue_cutoff = now - timedelta(hours=settings.SLA_HOURS)
    thresholds: list[tuple[str, str, datetime, datetime | None]] = []
    if settings.SLA_WARNING_HOURS < settings.SLA_HOURS:
        warning_cutoff = now - timedelta(hours=settings.SLA_WARNING_HOURS)
        thresholds.append(("at_risk_since", EventKind.AT_RISK.value, warning_cutoff, overdue_cutoff))
    thresholds.append(("overdue_since", EventKind.OVERDUE.value, overdue_cutoff, None))
    return thresholds


def _due(column: str, cutoff: Any, floor: Any) -> tuple[str, list[Any]]:
    """The cases a threshold flags, with its parameters. A range of `case_open_wait_idx`, so
    the index serves it."""
    sql = f"closed_at IS NULL AND awaiting_since IS NOT NULL AND {column} IS NULL AND awaiting_since <= %s"
    if floor is None:
        return f"({sql})", [cutoff]
    return f"({sql} AND awaiting_since > %s)", [cutoff, floor]


def postgresql_sweep_statement(now: datetime) -> tuple[str, list[Any]]:
    """One statement: flag the due cases, write one event per case and threshold, count them.

    A case is returned as newly flagged for a threshold when the UPDATE set that flag to `now`.
    """
    cases, events = _tables()
    thresholds = _thresholds(now)
    due = [(column, *_due(column, cutoff, floor)) for column, _, cutoff, floor in thresholds]
    sets = [f"{column} = CASE WHEN {sql} THEN %s ELSE {column} END" for column, sql, _ in due]
    set_params = [p for _, _, params in due for p in (*params, now)]
    where = " OR ".join(sql for _, sql, _ in due)
    where_params = [p for _, _, params in due for p in params]
    returning = ", ".join(f"{column} = %s AS {column}_new" for column, *_ in thresholds)
    returning_params = [now for _ in thresholds]
    inserts = " UNION ALL ".join(
        f"SELECT id, %s, '{{}}'::jsonb, %s, awaiting_since FROM flagged WHERE {column}_new"  # noqa: S608
        for column, *_ in thresholds
    )
    insert_params = [p for _, kind, *_ in thresholds for p in (kind, now)]
    counts = ", ".join(f"count(*) FILTER (WHERE {column}_new)" for column, *_ in thresholds)
    sql = (
        f"WITH flagged AS (UPDATE {cases} SET {', '.join(sets)} WHERE {where} "  # noqa: S608 (names are ours)
        f"RETURNING id, awaiting_since, {returning}), "
        f"written AS (INSERT INTO {events} (case_id, kind, data, created_at, sla_wait) {inserts} "
        "ON CONFLICT DO NOTHING) "
        f"SELECT {counts} FROM flagged"
    )
    return sql, set_params + where_params + returning_params + insert_params


def _sweep_postgresql(now: datetime) -> dict[str, int]:
    sql, params = postgresql_sweep_statement(now)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])
        cursor.execute(sql, params)
        counts = cursor.fetchone()
    return {column: count for (column, *_), count in zip(_thresholds(now), counts, strict=True)}


def _sweep_portable(now: datetime) -> dict[str, int]:
    """Events first, then flags, under the same condition: right when writers are serialised."""
    cases, events = _tables()
    adapt = connection.ops.adapt_datetimefield_value  # SQLite stores naive UTC text
    flagged = {}
    with connection.cursor() as cursor:
        for column, kind, cutoff, floor in _thresholds(now):
            due, params = _due(column, adapt(cutoff), None if floor is None else adapt(floor))
            cursor.execute(
                f"INSERT INTO {events} (case_id, kind, data, created_at, sla_wait) "  # noqa: S608
                f"SELECT id, %s, '{{}}', %s, awaiting_since FROM {cases} WHERE {due} "
                "ON CONFLICT DO NOTHING",
                [kind, adapt(now), *params],
            )
            cursor.execute(f"UPDATE {cases} SET {column} = %s WHERE {due}", [adapt(now), *params])  # noqa: S608
            flagged[column] = cursor.rowcount
    return flagged


@transaction.atomic
def sla_sweep(now: datetime | None = None) -> SweepResult:
    """Flag cases at risk (SLA_WARNING_HOURS) and overdue (SLA_HOURS); tell supervisors once.

    Safe to run at any moment, twice, or on several workers at once: each wait is flagged
    once per threshold, with one event. The supervisors' chat message is queued after commit.
    """
    now = now or timezone.now()
    flagged = _sweep_postgresql(now) if connection.vendor == "postgresql" else _sweep_portable(now)
    result = SweepResult(at_risk=flagged.get("at_risk_since", 0), overdue=flagged["overdue_since"])
    if result.overdue or result.at_risk:
        _notify(result, now)
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
    from .queueing import enqueue_on_commit
    from .tasks import notify_supervisors_task

    enqueue_on_commit(notify_supervisors_task, overdue=result.overdue, at_risk=result.at_risk)
