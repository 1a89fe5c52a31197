"""Reads: queue lists, a case's conversation and timeline, header counts. Constant queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import connection
from django.db.models import Aggregate, Count, F, Max, Min, Q, QuerySet, Value
from django.utils import timezone

from operators.models import OperatorProfile
from operators.roles import PERM_WORK, can_work, is_supervisor

from .access import cases_visible_to
from .models import (
    OPEN_STAGES,
    SLA_FLAG_KINDS,
    CannedReply,
    Case,
    CaseEquipment,
    CaseEvent,
    EquipmentType,
    EventKind,
    Message,
    Notification,
    RewardState,
    Stage,
)
from .sla import overdue_cutoff, warning_cutoff

Actor = AbstractBaseUser | AnonymousUser


def queue_order(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """Overdue first, then the longest wait, then cases not waiting (oldest first).

    The oldest wait is always the first to breach, so ordering by `awaiting_since` puts the
    overdue cases first without a second sort key.
    """
    return queryset.order_by(F("awaiting_since").asc(nulls_last=True), "received_at", "pk")


@dataclass(frozen=True)
class QueueFilters:
    """What the queue page narrows by; empty values do not filter."""

    stage: str = ""
    channel: str = ""
    language: str = ""
    overdue: bool = False
    number: int | None = None


def queue_cases(actor: Actor, *, scope: str = "mine", filters: QueueFilters | None = None) -> QuerySet[Case]:
    """Open cases for the queue page: "mine", "unassigned", or (supervisors) "all".

    The contact is never joined: the queue shows nobody's identifier or name.
    """
    cases = cases_visible_to(actor).filter(closed_at__isnull=True)
    if scope == "unassigned":
        cases = cases.filter(owner__isnull=True)
    elif scope == "all" and is_supervisor(actor):
        cases = cases.select_related("owner")
    else:
        cases = cases.filter(owner_id=actor.pk)
    return queue_order(filter_cases(cases, filters)).defer(*CASE_PERSONAL_FIELDS)


def filter_cases(cases: QuerySet[Case], filters: QueueFilters | None) -> QuerySet[Case]:
    """Narrow by the queue's filters (pages and API alike); empty values do not filter."""
    filters = filters or QueueFilters()
    if filters.stage:
        cases = cases.filter(stage=filters.stage)
    if filters.channel:
        cases = cases.filter(channel=filters.channel)
    if filters.language:
        cases = cases.filter(language=filters.language)
    if filters.overdue:
        cases = cases.filter(awaiting_since__lte=overdue_cutoff())
    if filters.number is not None:
        cases = cases.filter(pk=filters.number)
    return cases


def case_conversation(case: Case) -> QuerySet[Message]:
    return case.messages.select_related("author").order_by("created_at", "pk")


def case_timeline(case: Case) -> QuerySet[CaseEvent]:
    """Everything that happened to the case; views are listed apart (case_viewers)."""
    flags = Q(kind__in=SLA_FLAG_KINDS)
    # Both halves named: the planner then reads each from its own partial index (models.py).
    events = case.events.filter(flags | ~flags).exclude(kind=EventKind.VIEWED)
    return events.select_related("actor").order_by("created_at", "pk")


def case_viewers(case: Case) -> list[dict]:
    """Who opened the case page, how often and when last: for supervisors."""
    return list(
        case.events.filter(kind=EventKind.VIEWED).values("actor_id", "actor__username")
        .annotate(views=Count("pk"), last=Max("created_at")).order_by("-last")
    )


def case_equipment(case: Case) -> list[CaseEquipment]:
    return list(case.equipment.select_related("equipment_type").order_by("role", "equipment_type__position"))


def equipment_types() -> list[EquipmentType]:
    return list(EquipmentType.objects.filter(active=True))


def canned_replies_for(language: str) -> QuerySet[CannedReply]:
    """Active canned replies in the case's language, and those for any language."""
    replies = CannedReply.objects.filter(active=True)
    if language:
        replies = replies.filter(language__in=[language, ""])
    return replies.order_by("title", "pk")


def workers() -> QuerySet[User]:
    """Staff who can work cases, for the reassign and release choices."""
    app_label, codename = PERM_WORK.split(".")
    perm = Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
    return (
        User.objects.filter(is_active=True).filter(perm | Q(is_superuser=True))
        .distinct().order_by("username")
    )


@dataclass(frozen=True)
class TeamRow:
    user: User
    profile: OperatorProfile
    active: int
    overdue: int
    languages: list[str] = field(default_factory=list)


def team(actor: Actor) -> list[TeamRow]:
    """Every operator with their shift, capacity and open cases: for supervisors."""
    if not is_supervisor(actor):
        return []
    overdue_cut = overdue_cutoff()
    profiles = (
        OperatorProfile.objects.filter(user__in=workers())
        .select_related("user").prefetch_related("languages")
        .annotate(
            active=Count("user__cases", filter=Q(user__cases__closed_at__isnull=True), distinct=True),
            # Overdue by the clock, as everywhere else (hotline.sla).
            overdue=Count(
                "user__cases",
                filter=Q(user__cases__closed_at__isnull=True, user__cases__awaiting_since__lte=overdue_cut),
                distinct=True,
            ),
        )
        .order_by("-on_shift", "user__username")
    )
    return [
        TeamRow(user=p.user, profile=p, active=p.active, overdue=p.overdue,
                languages=[language.code for language in p.languages.all()])
        for p in profiles
    ]


@dataclass(frozen=True)
class CaseActions:
    """Which actions the case page offers this actor now. The services still decide."""

    take: bool = False
    unassign: bool = False
    assign: bool = False
    reply: bool = False
    call: bool = False
    note: bool = False
    verify: bool = False
    plan: bool = False
    declare: bool = False
    surrender: bool = False
    close: bool = False
    reopen: bool = False
    reward_paid: bool = False
    see_contact: bool = False

    @property
    def stage_actions(self) -> bool:
        return any((self.verify, self.plan, self.declare, self.surrender, self.close, self.reopen))


def case_actions(actor: Actor, case: Case) -> CaseActions:
    from .services import REPLYABLE_CHANNELS

    if not can_work(actor):
        return CaseActions()
    supervisor = is_supervisor(actor)
    owner = case.owner_id is not None and case.owner_id == actor.pk
    manage = owner or supervisor
    answer = manage or case.owner_id is None
    is_open = case.stage in OPEN_STAGES
    return CaseActions(
        take=is_open and case.owner_id is None,
        unassign=is_open and case.owner_id is not None and manage,
        assign=is_open and supervisor,
        reply=is_open and answer and case.channel in REPLYABLE_CHANNELS,
        call=is_open and answer,
        note=answer,
        verify=manage and case.stage == Stage.IN_CONTACT,
        plan=manage and case.stage == Stage.VERIFIED,
        declare=manage and case.stage in (Stage.IN_CONTACT, Stage.VERIFIED, Stage.PLANNING),
        surrender=manage and case.stage == Stage.PLANNING,
        close=is_open and answer,
        reopen=manage and case.stage == Stage.CLOSED,
        reward_paid=supervisor and case.reward_state == RewardState.DUE,
        see_contact=manage,
    )


@dataclass(frozen=True)
class HeaderCounts:
    overdue: int
    at_risk: int
    unassigned: int


@dataclass(frozen=True)
class WaitCounts:
    """Open cases waiting for an answer, by how long, and open cases nobody owns."""

    waiting: int
    overdue: int
    at_risk: int
    unassigned: int
    longest_wait_since: datetime | None

    def header(self) -> HeaderCounts:
        return HeaderCounts(overdue=self.overdue, at_risk=self.at_risk, unassigned=self.unassigned)


def wait_counts(actor: Actor, *, now: datetime | None = None) -> WaitCounts:
    """Waiting, overdue, at risk and unassigned among the open cases the actor sees, in one query.

    Overdue and at risk are counted by the clock (how long `awaiting_since` is past), not by
    the sweep's flags: a flag is only ever set on a case that has waited past its threshold
    and is cleared with `awaiting_since`, so every flagged case is counted, and so is a case
    that passed a threshold since the last sweep (or while the sweep is down). The queue's
    "overdue" filter means the same. Counting by the clock reads only keys of the partial
    indexes on open cases (`case_open_wait_idx`, `case_owner_open_idx`,
    `case_unassigned_queue_idx`): ranges of index-only scans instead of every open case and
    its flags (the flags may not be indexed: the sweep's UPDATE must stay HOT).
    """
    open_cases = Case.objects.filter(closed_at__isnull=True)
    if is_supervisor(actor):
        return _wait_counts([open_cases], now)
    if can_work(actor):
        # The unassigned cases and their own: two index ranges, added up (an OR of the two
        # would make PostgreSQL read the table).
        return _wait_counts([open_cases.filter(owner=actor), open_cases.filter(owner__isnull=True)], now)
    return WaitCounts(waiting=0, overdue=0, at_risk=0, unassigned=0, longest_wait_since=None)


def wait_aggregates(now: datetime) -> dict[str, Aggregate]:
    """The aggregates of `wait_counts` over open cases: waiting, overdue, at risk, longest wait."""
    overdue_cut = overdue_cutoff(now)
    risk_cut = warning_cutoff(now)  # an empty range if warning >= SLA
    return {
        "waiting": Count("awaiting_since"),
        "overdue": Count("awaiting_since", filter=Q(awaiting_since__lte=overdue_cut)),
        "at_risk": Count("awaiting_since", filter=Q(awaiting_since__gt=overdue_cut, awaiting_since__lte=risk_cut)),
        "longest": Min("awaiting_since"),
    }


def _wait_counts(scopes: list[QuerySet[Case]], now: datetime | None) -> WaitCounts:
    """One statement: a row of counts per scope (disjoint sets of open cases), and the unassigned."""
    aggregates = wait_aggregates(now or timezone.now())
    # values() on a constant annotation: Django groups by nothing, so each part is one row.
    parts = [
        scope.filter(awaiting_since__isnull=False).order_by().annotate(one=Value(1)).values("one")
        .annotate(**aggregates).values(*aggregates)
        for scope in scopes
    ]
    parts.append(
        Case.objects.filter(closed_at__isnull=True, owner__isnull=True).order_by().annotate(one=Value(1))
        .values("one").annotate(unassigned=Count("*")).values("unassigned")
    )
    row = one_row(parts)
    scoped = [row[i:i + 4] for i in range(0, len(row) - 1, 4)]
    return WaitCounts(
        waiting=sum(r[0] for r in scoped), overdue=sum(r[1] for r in scoped), at_risk=sum(r[2] for r in scoped),
        unassigned=row[-1], longest_wait_since=min((_as_datetime(r[3]) for r in scoped if r[3]), default=None),
    )


def one_row(parts: list[QuerySet]) -> tuple:
    """Run queries that each return one row (aggregates) as one statement: their columns, in order.

    Each is a subquery of a CROSS JOIN, so the database plans each on its own (each its own
    index range) and the page makes one round trip.
    """
    sqls, params = [], []
    for part in parts:
        sql, part_params = part.query.sql_with_params()
        sqls.append(f"({sql}) AS p{len(sqls)}")
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {' CROSS JOIN '.join(sqls)}", params)  # noqa: S608 - our own compiled queries
        return cursor.fetchone()


def _as_datetime(value: datetime | str) -> datetime:
    """A MIN() of a datetime column read by a raw cursor: SQLite gives naive UTC text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


def header_counts(actor: Actor) -> HeaderCounts:
    """What stands in the header of every page (see `wait_counts`), in one query."""
    return wait_counts(actor).header()


def recent_notifications(limit: int = 5) -> QuerySet[Notification]:
    since = timezone.now() - timedelta(days=1)
    return Notification.objects.filter(created_at__gte=since).order_by("-created_at")[:limit]


# --- privacy: the read-only case API and the audit of reads (issue 7B) ------------------------


# Encrypted columns of a case that lists never show: not loaded, so not decrypted per row.
CASE_PERSONAL_FIELDS = ("triage", "surrender_place")


def case_list(actor: Actor, filters: QueueFilters | None = None) -> QuerySet[Case]:
    """Every case the actor may see (open or closed), latest request first: the case API.

    The contact is never joined: a list shows nobody's identifier or name.
    """
    cases = filter_cases(cases_visible_to(actor), filters).select_related("owner").defer(*CASE_PERSONAL_FIELDS)
    return cases.order_by("-last_request_at", "-pk")


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
