"""Reads: queue lists, a case's conversation and timeline, header counts. Constant queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Permission, User
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    prefetch_related_objects,
)
from django.utils import timezone

from hotline.desk.access import cases_visible_to, may_answer, may_manage, open_cases_in_scope
from hotline.desk.sla import overdue_cutoff, warning_cutoff
from hotline.models import (
    CASE_PERSONAL_FIELDS,
    OPEN_STAGES,
    REPLYABLE_CHANNELS,
    SLA_FLAG_KINDS,
    CannedReply,
    Case,
    CaseCount,
    CaseEquipment,
    CaseEvent,
    Contact,
    Direction,
    EquipmentType,
    EventKind,
    Message,
    Notification,
    RewardState,
    Stage,
)
from operators.models import OperatorProfile
from operators.roles import PERM_SUPERVISE, can_work, is_supervisor
from operators.selectors import workers

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
    cases = open_cases_in_scope(actor, scope)
    if scope == "all" and is_supervisor(actor):
        cases = cases.select_related("owner")
    return queue_order(filter_cases(cases, filters)).defer(*CASE_PERSONAL_FIELDS)


def queue_total(actor: Actor, *, scope: str, filters: QueueFilters | None = None) -> int | None:
    """How many cases `queue_cases` lists, from the ledger of case counts (`CaseCount`, kept
    by PostgreSQL triggers, a few hundred rows) when that is exact: the unassigned queue and
    the supervisors' "all", unfiltered. None otherwise (the page counts the list: one range of
    a partial index, index-only). Counting 300,000 unassigned cases read as many index entries."""
    if connection.vendor != "postgresql" or (filters is not None and filters != QueueFilters()):
        return None
    ledger = CaseCount.objects.filter(open=True)
    if scope == "unassigned" and can_work(actor):
        ledger = ledger.filter(owner_id__isnull=True)
    elif not (scope == "all" and is_supervisor(actor)):
        return None
    return int(ledger.aggregate(total=Sum("n"))["total"] or 0)


# The most of one's own queue `next_case_after` reads: capacities stay far below it.
NEXT_CASE_WINDOW = 500


def next_case_after(actor: Actor, case_id: int) -> int | None:
    """The case after `case_id` in the actor's own queue, in the queue's order (the first one
    when `case_id` is not in it, wrapping around at the end); None when no other case is there."""
    ids = list(queue_cases(actor, scope="mine").values_list("pk", flat=True)[:NEXT_CASE_WINDOW])
    others = [pk for pk in ids if pk != case_id]
    if not others:
        return None
    if case_id not in ids:
        return others[0]
    position = ids.index(case_id)
    return ids[position + 1] if position + 1 < len(ids) else ids[0]


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


def case_conversation_with_media(case: Case) -> list[Message]:
    """The conversation for the case page: with each message's media (one more query), and the
    earlier texts of edited messages (one more query only when some message was edited)."""
    conversation = list(case_conversation(case).prefetch_related("media"))
    prefetch_related_objects([m for m in conversation if m.edited_at is not None], "revisions")
    return conversation


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


def canned_replies_all() -> QuerySet[CannedReply]:
    """Every canned reply, the active ones first: the supervisors' page."""
    return CannedReply.objects.order_by("-active", "title", "pk")


def canned_reply(canned_id: int) -> CannedReply | None:
    return CannedReply.objects.filter(pk=canned_id).first()


def canned_replies_for(language: str) -> QuerySet[CannedReply]:
    """Active canned replies in the case's language, and those for any language."""
    replies = CannedReply.objects.filter(active=True)
    if language:
        replies = replies.filter(language__in=[language, ""])
    return replies.order_by("title", "pk")


@dataclass(frozen=True)
class TeamRow:
    user: User
    profile: OperatorProfile
    active: int
    overdue: int
    languages: list[str] = field(default_factory=list)
    role: str = "operator"  # or "supervisor"

    @property
    def over_capacity(self) -> bool:
        return self.active > self.profile.capacity


def team(actor: Actor) -> list[TeamRow]:
    """Every operator with their shift, capacity and open cases: for supervisors."""
    if not is_supervisor(actor):
        return []
    return _team_rows(OperatorProfile.objects.filter(user__in=workers()))


def team_row(user: User) -> TeamRow | None:
    """One staff member's row of the Team page (the deactivation's confirmation step)."""
    rows = _team_rows(OperatorProfile.objects.filter(user=user))
    return rows[0] if rows else None


def _team_rows(profiles: QuerySet[OperatorProfile]) -> list[TeamRow]:
    overdue_cut = overdue_cutoff()
    profiles = (
        profiles
        .select_related("user").prefetch_related("languages")
        .annotate(
            active=Count("user__cases", filter=Q(user__cases__closed_at__isnull=True), distinct=True),
            # Overdue by the clock, as everywhere else (hotline.desk.sla).
            overdue=Count(
                "user__cases",
                filter=Q(user__cases__closed_at__isnull=True, user__cases__awaiting_since__lte=overdue_cut),
                distinct=True,
            ),
        )
        .annotate(supervises=_supervises(OuterRef("user_id")))
        .order_by("-on_shift", "user__username")
    )
    return [
        TeamRow(user=p.user, profile=p, active=p.active, overdue=p.overdue,
                languages=[language.code for language in p.languages.all()],
                role="supervisor" if p.supervises else "operator")
        for p in profiles
    ]


def _supervises(user_ref: OuterRef) -> Exists:
    """The SQL side of operators.roles.is_supervisor for a list (no query per row)."""
    app_label, codename = PERM_SUPERVISE.split(".")
    perms = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return Exists(perms.filter(Q(group__user=user_ref) | Q(user=user_ref)))


def inactive_staff() -> QuerySet[User]:
    """Deactivated staff (they have an operator profile), for the Team page's reactivation."""
    return User.objects.filter(is_active=False, operator__isnull=False).order_by("username")


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
    """The rights of desk/access.py, applied to the case's stage (the services check both)."""
    if not can_work(actor):
        return CaseActions()
    supervisor = is_supervisor(actor)
    manage = may_manage(actor, case)
    answer = may_answer(actor, case)
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
    """The header's badges, each counting exactly what the list it links to shows: overdue and
    at risk among all open cases (supervisors) or among the operator's own (operators, whose
    overdue unassigned cases are counted apart, beside the unassigned badge)."""

    overdue: int
    at_risk: int
    unassigned: int
    unassigned_overdue: int | None = None  # operators only
    notices: int = 0  # the person's unread notices (hotline.models.Notification)


@dataclass(frozen=True)
class WaitCounts:
    """Open cases waiting for an answer, by how long, and open cases nobody owns."""

    waiting: int
    overdue: int
    at_risk: int
    unassigned: int
    longest_wait_since: datetime | None
    notices: int = 0
    # An operator's own cases among the above (None for supervisors, who see one list of all).
    own_overdue: int | None = None
    own_at_risk: int | None = None

    def header(self) -> HeaderCounts:
        if self.own_overdue is None or self.own_at_risk is None:
            return HeaderCounts(
                overdue=self.overdue, at_risk=self.at_risk, unassigned=self.unassigned, notices=self.notices,
            )
        return HeaderCounts(
            overdue=self.own_overdue, at_risk=self.own_at_risk, unassigned=self.unassigned,
            unassigned_overdue=self.overdue - self.own_overdue, notices=self.notices,
        )


def wait_counts(actor: Actor, *, now: datetime | None = None, notices_of: Actor | None = None) -> WaitCounts:
    """Waiting, overdue, at risk and unassigned among the open cases the actor sees, in one query.

    Overdue and at risk are counted by the clock (how long `awaiting_since` is past), not by
    the sweep's flags: a flag is only ever set on a case that has waited past its threshold
    and is cleared with `awaiting_since`, so every flagged case is counted, and so is a case
    that passed a threshold since the last sweep (or while the sweep is down). The queue's
    "overdue" filter means the same. Counting by the clock reads only keys of the partial
    indexes on open cases (`case_open_wait_idx`, `case_owner_open_idx`,
    `case_unassigned_queue_idx`): ranges of index-only scans instead of every open case and
    its flags (the flags may not be indexed: the sweep's UPDATE must stay HOT).
    `notices_of`: also count that person's unread notices, in the same statement.
    """
    open_cases = Case.objects.filter(closed_at__isnull=True)
    if is_supervisor(actor):
        return _wait_counts([open_cases], now, notices_of)
    if can_work(actor):
        # The unassigned cases and their own: two index ranges, added up (an OR of the two
        # would make PostgreSQL read the table).
        mine_and_unassigned = [open_cases.filter(owner=actor), open_cases.filter(owner__isnull=True)]
        return _wait_counts(mine_and_unassigned, now, notices_of)
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


def _wait_counts(scopes: list[QuerySet[Case]], now: datetime | None, notices_of: Actor | None) -> WaitCounts:
    """One statement: a row of counts per scope (disjoint sets of open cases), the unassigned,
    and the unread notices of `notices_of`."""
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
    if notices_of is not None:
        parts.append(
            Notification.objects.filter(recipient=notices_of, read_at__isnull=True).order_by()
            .annotate(one=Value(1)).values("one").annotate(notices=Count("*")).values("notices")
        )
    row = one_row(parts)
    scoped = [row[i:i + 4] for i in range(0, 4 * len(scopes), 4)]
    own = scoped[0] if len(scoped) > 1 else None  # an operator's: their own cases, then the unassigned
    return WaitCounts(
        waiting=sum(r[0] for r in scoped), overdue=sum(r[1] for r in scoped), at_risk=sum(r[2] for r in scoped),
        unassigned=row[4 * len(scopes)],
        longest_wait_since=min((_as_datetime(r[3]) for r in scoped if r[3]), default=None),
        notices=row[-1] if notices_of is not None else 0,
        own_overdue=own[1] if own else None, own_at_risk=own[2] if own else None,
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
    """What stands in the header of every page (see `wait_counts`) and the person's unread
    notices, in one query."""
    return wait_counts(actor, notices_of=actor).header()


def recent_notifications(limit: int = 5) -> QuerySet[Notification]:
    since = timezone.now() - timedelta(days=1)
    return Notification.objects.filter(created_at__gte=since, recipient__isnull=True).order_by("-created_at")[:limit]


def notices_of(user: Actor, limit: int = 50) -> list[Notification]:
    """One person's notices, latest first (the unread ones stand out on the page)."""
    return list(
        Notification.objects.filter(recipient=user).select_related("actor", "case")
        .only("kind", "created_at", "read_at", "actor__username", "case__id")
        .order_by("-created_at", "-pk")[:limit]
    )


# --- privacy: the read-only case API and the audit of reads (issue 7B) ------------------------


def case_list(actor: Actor, filters: QueueFilters | None = None) -> QuerySet[Case]:
    """Every case the actor may see (open or closed), latest request first: the case API.

    The contact is never joined: a list shows nobody's identifier or name.
    """
    cases = filter_cases(cases_visible_to(actor), filters).select_related("owner").defer(*CASE_PERSONAL_FIELDS)
    return cases.order_by("-last_request_at", "-pk")


# --- live pages and the queue's rows (issue 15) ---------------------------------------------------


def newly_owned(actor: Actor, since: datetime) -> list[Case]:
    """The actor's open cases given to them after `since` (auto-assignment, a supervisor):
    the live header says so. Reads the actor's own open cases (case_owner_open_idx)."""
    return list(
        Case.objects.filter(owner_id=actor.pk, closed_at__isnull=True, assigned_at__gt=since)
        .only("pk", "assigned_at").order_by("assigned_at", "pk")[:10]
    )


PREVIEW_CHARS = 80


@dataclass(frozen=True)
class QueueRowDetails:
    """What a queue row shows about the person and the conversation, where the viewer may see
    identifiers (their own case; supervisors): never for another's or an unassigned case."""

    name: str = ""
    preview: str = ""
    last_at: datetime | None = None
    unread: bool = False


def queue_rows(actor: Actor, cases: list[Case]) -> list[Case]:
    """The page's rows with `row` (QueueRowDetails) set on each: two queries for the whole page
    (the last message of each shown case, the names of the shown people), none per row."""
    cases = list(cases)
    supervisor = is_supervisor(actor)
    shown = [case for case in cases if supervisor or (case.owner_id is not None and case.owner_id == actor.pk)]
    for case in cases:
        case.row = QueueRowDetails()
    if not shown:
        return cases
    ids = [case.pk for case in shown]
    last_ids = Case.objects.filter(pk__in=ids).annotate(
        last_message=Subquery(
            Message.objects.filter(case_id=OuterRef("pk")).exclude(direction=Direction.NOTE)
            .order_by("-created_at", "-pk").values("pk")[:1]
        ),
    ).values("last_message")
    last = {
        m.case_id: m for m in Message.objects.filter(pk__in=Subquery(last_ids)).only("case_id", "body", "created_at")
    }
    names = dict(Contact.objects.filter(pk__in={case.contact_id for case in shown}).values_list("pk", "display_name"))
    for case in shown:
        message = last.get(case.pk)
        body = " ".join((message.body or "").split()) if message else ""
        case.row = QueueRowDetails(
            name=names.get(case.contact_id, ""),
            preview=body[:PREVIEW_CHARS] + ("…" if len(body) > PREVIEW_CHARS else ""),
            last_at=message.created_at if message else None,
            unread=case.owner_id is not None
            and (case.owner_seen_at is None or case.owner_seen_at < case.last_request_at),
        )
    return cases
