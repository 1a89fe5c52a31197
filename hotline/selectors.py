"""Reads: queue lists, a case's conversation and timeline, header counts. Constant queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from operators.roles import is_supervisor

from .access import cases_visible_to
from .models import Case, CaseEvent, Message, Notification

Actor = AbstractBaseUser | AnonymousUser


def queue_order(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """Overdue first, then the longest wait, then cases not waiting (oldest first).

    The oldest wait is always the first to breach, so ordering by `awaiting_since` puts the
    overdue cases first without a second sort key.
    """
    return queryset.order_by(F("awaiting_since").asc(nulls_last=True), "received_at", "pk")


def queue_cases(actor: Actor, *, scope: str = "mine") -> QuerySet[Case]:
    """Open cases for the queue page: "mine", "unassigned", or (supervisors) "all"."""
    cases = cases_visible_to(actor).filter(closed_at__isnull=True)
    if scope == "unassigned":
        cases = cases.filter(owner__isnull=True)
    elif scope == "all" and is_supervisor(actor):
        pass
    else:
        cases = cases.filter(owner_id=actor.pk)
    return queue_order(cases.select_related("owner"))


def case_conversation(case: Case) -> QuerySet[Message]:
    return case.messages.select_related("author").order_by("created_at", "pk")


def case_timeline(case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor").order_by("created_at", "pk")


@dataclass(frozen=True)
class HeaderCounts:
    overdue: int
    at_risk: int
    unassigned: int


def header_counts(actor: Actor) -> HeaderCounts:
    """What stands in the header of every page, in one query."""
    counts = cases_visible_to(actor).filter(closed_at__isnull=True).aggregate(
        overdue=Count("pk", filter=Q(overdue_since__isnull=False)),
        at_risk=Count("pk", filter=Q(at_risk_since__isnull=False, overdue_since__isnull=True)),
        unassigned=Count("pk", filter=Q(owner__isnull=True)),
    )
    return HeaderCounts(**counts)


def recent_notifications(limit: int = 5) -> QuerySet[Notification]:
    since = timezone.now() - timedelta(days=1)
    return Notification.objects.filter(created_at__gte=since).order_by("-created_at")[:limit]
