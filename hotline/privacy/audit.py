"""The audit, for supervisors: who opened which case, what one person opened, and every
action taken on a staff account.

Every read of a case is a VIEWED event on its timeline (desk/services.py `case_record_view`);
every supervisor's action on an account is a StaffEvent (operators/services.py). These reads
list them without ever showing a case's content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import Count, Max, Q, QuerySet

from hotline.models import CASE_PERSONAL_FIELDS, Case, CaseEvent, EventKind
from operators.models import StaffEvent
from operators.selectors import workers


def case_reads(case: Case) -> QuerySet[CaseEvent]:
    """Every read of one case, latest first: for supervisors."""
    return case.events.filter(kind=EventKind.VIEWED).select_related("actor").order_by("-created_at", "-pk")


def operator_reads(user: User) -> QuerySet[CaseEvent]:
    """Every case one person read, latest first, with the case's stage: for supervisors."""
    return (
        CaseEvent.objects.filter(kind=EventKind.VIEWED, actor=user)
        .select_related("case").defer(*(f"case__{name}" for name in CASE_PERSONAL_FIELDS))
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class ReaderRow:
    user: User
    reads: int = 0
    cases: int = 0
    last: datetime | None = None


def reads_by_person(since: datetime) -> list[ReaderRow]:
    """Everyone who can work cases, or read any since `since`, with their reads since then:
    two queries whatever the numbers."""
    counts = {
        row["actor_id"]: row
        for row in CaseEvent.objects.filter(kind=EventKind.VIEWED, created_at__gte=since, actor__isnull=False)
        .values("actor_id").annotate(reads=Count("pk"), cases=Count("case_id", distinct=True), last=Max("created_at"))
        .order_by()
    }
    people = User.objects.filter(Q(pk__in=workers().values("pk")) | Q(pk__in=list(counts))).order_by("username")
    rows = [
        ReaderRow(user=u, reads=counts[u.pk]["reads"], cases=counts[u.pk]["cases"], last=counts[u.pk]["last"])
        if u.pk in counts else ReaderRow(user=u)
        for u in people
    ]
    return sorted(rows, key=lambda row: -row.reads)


def staff_events() -> QuerySet[StaffEvent]:
    """Every action on a staff account, latest first."""
    return StaffEvent.objects.select_related("actor", "subject").order_by("-created_at", "-pk")


def staff_events_of(user: User) -> QuerySet[StaffEvent]:
    """What was done to one person's account, and what they did to others', latest first."""
    return staff_events().filter(Q(subject=user) | Q(actor=user))
