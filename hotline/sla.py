"""The 24-hour promise: flag every case whose wait passed a threshold, in a few statements.

Set-based and idempotent. For each threshold one UPDATE marks the cases crossing it (a
concurrent sweep blocks on the same rows, then skips them once they are marked), and one
INSERT ... SELECT writes their timeline events; the unique constraint
`event_one_flag_per_wait` makes a second event for the same wait impossible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import Case, CaseEvent, EventKind, Notification


@dataclass(frozen=True)
class SweepResult:
    at_risk: int
    overdue: int


def sla_deadline(awaiting_since: datetime) -> datetime:
    return awaiting_since + timedelta(hours=settings.SLA_HOURS)


def _flag(column: str, kind: str, cutoff: datetime, now: datetime) -> int:
    flagged = Case.objects.filter(
        closed_at__isnull=True, awaiting_since__isnull=False, awaiting_since__lte=cutoff,
        **{f"{column}__isnull": True},
    ).update(**{column: now})
    if not flagged:
        return 0
    quote = connection.ops.quote_name
    events, cases = quote(CaseEvent._meta.db_table), quote(Case._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {events} (case_id, kind, data, created_at, sla_wait) "  # noqa: S608 (names are ours)
            f"SELECT id, %s, '{{}}', %s, awaiting_since FROM {cases} "
            f"WHERE {quote(column)} = %s AND closed_at IS NULL AND awaiting_since IS NOT NULL "
            "ON CONFLICT DO NOTHING",
            [kind, now, now],
        )
    return flagged


@transaction.atomic
def sla_sweep(now: datetime | None = None) -> SweepResult:
    """Flag cases at risk (SLA_WARNING_HOURS) and overdue (SLA_HOURS); tell supervisors once."""
    now = now or timezone.now()
    at_risk = 0
    if settings.SLA_WARNING_HOURS < settings.SLA_HOURS:
        at_risk = _flag("at_risk_since", EventKind.AT_RISK, now - timedelta(hours=settings.SLA_WARNING_HOURS), now)
    overdue = _flag("overdue_since", EventKind.OVERDUE, now - timedelta(hours=settings.SLA_HOURS), now)
    if overdue or at_risk:
        parts = []
        if overdue:
            parts.append(f"{overdue} case(s) became overdue")
        if at_risk:
            parts.append(f"{at_risk} case(s) are at risk")
        Notification.objects.create(
            kind="sla", count=overdue + at_risk, text="; ".join(parts) + ".", link="/?overdue=1", created_at=now,
        )
        from .tasks import notify_supervisors_task

        notify_supervisors_task.delay_on_commit(overdue=overdue, at_risk=at_risk)
    return SweepResult(at_risk=at_risk, overdue=overdue)
