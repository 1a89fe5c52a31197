"""Supervisors' figures, computed by the database from stored timestamps.

Every figure is an aggregate (percentiles with PostgreSQL's `percentile_cont`; on SQLite,
which lacks it, the same interpolation done with window functions), so the number of
queries is constant whatever the number of cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Avg,
    BooleanField,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from hotline.dashboard import case_counts, rollups
from hotline.desk.selectors import wait_aggregates
from hotline.desk.sla import overdue_cutoff
from hotline.intake.telegram.inbox import backlog as telegram_backlog
from hotline.models import (
    Case,
    CaseEquipment,
    Channel,
    CloseReason,
    EquipmentRole,
    RewardState,
    Stage,
    name_in_language,
)
from operators.models import OperatorProfile

PERIODS = {"today": None, "7d": 7, "30d": 30}


class ResponseSeconds(Func):
    """Seconds from the first request to the first human answer (NULL while unanswered)."""

    output_field = FloatField()

    def __init__(self) -> None:
        super().__init__(F("first_response_at"), F("received_at"))

    def as_postgresql(self, compiler: Any, conn: Any, **extra: Any) -> Any:
        # date_part gives a double precision (EXTRACT a numeric since PostgreSQL 14): a value
        # held in place rather than allocated, half the memory of the groups' arrays of times,
        # and the type percentile_cont works in anyway.
        return self.as_sql(compiler, conn, template="date_part('epoch', %(expressions)s)", arg_joiner=" - ")

    def as_sqlite(self, compiler: Any, conn: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, conn, template="ROUND((julianday(%(expressions)s)) * 86400.0, 3)", arg_joiner=") - julianday(",
        )


# --- the period -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: str
    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400


def period_for(key: str, *, start: date | None = None, end: date | None = None, now: datetime | None = None) -> Period:
    """today / 7d / 30d end now; "custom" covers whole local days from start to end inclusive."""
    now = now or timezone.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    local_midnight = timezone.localtime(now, zone).replace(hour=0, minute=0, second=0, microsecond=0)
    if key == "custom":
        if start is None or end is None or end < start:
            raise ValueError("A custom period needs a start and an end on or after it.")
        begin = datetime.combine(start, datetime.min.time(), zone)
        finish = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone)
        return Period("custom", begin, min(finish, now) if begin < now else finish)
    if key == "today":
        return Period(key, local_midnight, now)
    days = PERIODS.get(key)
    if days is None:
        raise ValueError(f"Unknown period {key!r}: use today, 7d, 30d or custom.")
    return Period(key, now - timedelta(days=days), now)


# --- response times ------------------------------------------------------------------------------


@dataclass
class ResponseStats:
    key: Any
    label: str
    received: int = 0
    answered: int = 0
    eligible: int = 0  # answered, or waited past the SLA unanswered: the share's denominator
    within_sla: int = 0
    median_s: float | None = None
    p90_s: float | None = None
    max_s: float | None = None

    @property
    def share_within(self) -> float | None:
        return self.within_sla / self.eligible if self.eligible else None


def _counts(now: datetime) -> dict[str, Any]:
    sla = timedelta(hours=settings.SLA_HOURS)
    answered = Q(first_response_at__isnull=False)
    return {
        "received": Count("pk"),
        "answered": Count("pk", filter=answered),
        "within_sla": Count("pk", filter=answered & Q(first_response_at__lte=F("received_at") + sla)),
        "eligible": Count("pk", filter=answered | Q(received_at__lte=now - sla)),
        "max_s": Max("response_s"),
    }


def _percentiles_sqlite(grouped: QuerySet, fractions: dict[str, float]) -> dict[Any, dict[str, float]]:
    """The same interpolation as percentile_cont, with window functions over one query."""
    inner_sql, params = grouped.values_list("group_key", "response_s").query.sql_with_params()
    picks = []
    for name, fraction in fractions.items():
        pos = f"({fraction} * (n - 1))"
        picks.append(
            f"SUM(CASE WHEN i = CAST({pos} AS INTEGER) THEN s * (1 - ({pos} - CAST({pos} AS INTEGER))) "
            f"WHEN i = CAST({pos} AS INTEGER) + 1 THEN s * ({pos} - CAST({pos} AS INTEGER)) ELSE 0 END) AS {name}"
        )
    sql = (
        f"WITH v(g, s) AS ({inner_sql}), "  # noqa: S608 - only our own compiled query and numbers
        "r AS (SELECT g, s, ROW_NUMBER() OVER (PARTITION BY g ORDER BY s) - 1 AS i, "
        "COUNT(*) OVER (PARTITION BY g) AS n FROM v WHERE s IS NOT NULL) "
        f"SELECT g, {', '.join(picks)} FROM r GROUP BY g"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: dict(zip(fractions, row[1:], strict=True)) for row in cursor.fetchall()}


_STAT_FIELDS = ("received", "answered", "within_sla", "eligible", "max_s", "median_s", "p90_s")


def _response_stats(
    cases: QuerySet[Case], key: Any, now: datetime, same_key: Any = lambda k: k,
) -> dict[Any, ResponseStats]:
    """Figures per group, on a database without percentile_cont (SQLite): two queries.

    `same_key` maps a group key as the raw SQLite query returns it and as the ORM converts it
    (a date, say) to one value, so the two queries' rows can be matched."""
    grouped = cases.annotate(response_s=ResponseSeconds(), group_key=key)
    fractions = {"median_s": 0.5, "p90_s": 0.9}
    rows = grouped.values("group_key").annotate(**_counts(now)).order_by()
    stats = {row["group_key"]: ResponseStats(key=row.pop("group_key"), label="", **row) for row in rows}
    if stats:
        by_key = {same_key(k): stat for k, stat in stats.items()}
        for group, values in _percentiles_sqlite(grouped, fractions).items():
            if same_key(group) in by_key:
                for name, value in values.items():
                    setattr(by_key[same_key(group)], name, value)
    return stats


# The tables of response times, and the columns each is grouped by. "funnel" counts the cases
# of the period by stage (now, and before closing): the funnel is worked out from it.
_GROUP_COLUMNS = ["first_responder", "channel", "language", "bucket", "stage", "stage_before_close"]
_GROUPS = {
    "overall": (), "operator": ("first_responder",), "channel": ("channel",), "language": ("language",),
    "day": ("bucket",), "funnel": ("stage", "stage_before_close"),
}


# Read apart: each case is added to a table per operator and a table per day, and to one table
# per (channel, language, stage, stage before closing): a few hundred groups, from which the
# overall, per channel, per language and funnel tables are rolled up.
_READ_APART = ("first_responder", "bucket")
_ROLLED_UP = ("overall", "channel", "language", "funnel")


def _grouping_mask(columns: tuple[str, ...]) -> int:
    """What PostgreSQL's GROUPING(all columns) returns for the rows of a grouping set: one bit
    per column left out, the first column the most significant."""
    last = len(_GROUP_COLUMNS) - 1
    return sum(1 << (last - i) for i, column in enumerate(_GROUP_COLUMNS) if column not in columns)


def _bucket_starts(period: Period, weekly: bool) -> list[datetime]:
    """The start of every local day (or week, from Monday) the period touches, oldest first."""
    zone = ZoneInfo(settings.TIME_ZONE)
    first = timezone.localtime(period.start, zone).date()
    last = timezone.localtime(period.end, zone).date()
    if weekly:
        first -= timedelta(days=first.weekday())
    step = 7 if weekly else 1
    days = [first + timedelta(days=i) for i in range(0, (last - first).days + 1, step)]
    return [datetime.combine(day, datetime.min.time(), zone) for day in days]


def _response_groups_postgresql(
    cases: QuerySet[Case], period: Period, weekly: bool, now: datetime,
) -> dict[str, dict[Any, ResponseStats]]:
    """Every table in one statement and one read of the period: GROUP BY GROUPING SETS.

    Five GROUP BYs read the same cases of the period five times (306k at a million cases).
    Here each case is read once and added to three hash tables: per operator (who answered
    first), per day, and per (channel, language, stage, stage before closing), a few hundred
    groups at most whatever the period. The overall, per channel, per language and funnel
    tables are rolled up from that last one's rows (sums of counts, the maximum of maxima).
    Hashing each case into six sets (five hash tables) cost 40-60 ms more at a million cases:
    a case's cost is one hash lookup per table, and text keys cost the most.

    A group collects its response times (answered cases only) in an array;
    `percentile_cont(ARRAY[0.5, 0.9])` sorts that array alone (per operator, per day), or the
    arrays of the rows a rolled-up group covers, unnested (overall, channel, language): the
    same values, so the same percentiles. A GROUP BY with percentile_cont would sort every case
    of the period, which spills to disk at a million cases. Every column read is in
    `case_received_idx`, so the read can be an index-only scan.

    A case's local day is found by `width_bucket` among the local midnights of the period
    (computed here, daylight saving time included): the same day as
    `(received_at AT TIME ZONE zone)::date`, for a third of the cost (a binary search among a
    few timestamps instead of a time-zone conversion per case).

    The period's cases are read in a subquery that PostgreSQL may not flatten (OFFSET 0). It
    then knows nothing of the number of groups (a guess of 200 each) and hashes every set;
    flattened, it took each case's day for a group of its own (as many as cases), and
    sorted the cases on disk for it. One hash table of every column (then rolled up) was
    tried: its guess of 30,000 groups made the aggregate spill to disk past ~1,000 real ones
    (30 days) and the planner compile the statement (JIT, 300-650 ms).
    """
    starts = _bucket_starts(period, weekly)
    bucket = Func(F("received_at"), Value(starts), template="width_bucket(%(expressions)s::timestamptz[])",
                  output_field=IntegerField())
    sla = timedelta(hours=settings.SLA_HOURS)
    answered = Q(first_response_at__isnull=False)
    flags = {
        "is_answered": answered,
        "is_within": answered & Q(first_response_at__lte=F("received_at") + sla),
        "is_eligible": answered | Q(received_at__lte=now - sla),
    }
    rows = cases.annotate(
        response_s=ResponseSeconds(), bucket=bucket,
        **{name: ExpressionWrapper(q, output_field=BooleanField()) for name, q in flags.items()},
    )
    inner_sql, params = rows.values_list(*_GROUP_COLUMNS, "response_s", *flags).order_by().query.sql_with_params()
    keys = dict(zip(_GROUP_COLUMNS, (f"k{i}" for i in range(len(_GROUP_COLUMNS))), strict=True))
    key_list = ", ".join(keys.values())
    mixed = tuple(c for c in _GROUP_COLUMNS if c not in _READ_APART)
    mixed_mask = _grouping_mask(mixed)

    def bit(column: str) -> int:
        return 1 << (len(_GROUP_COLUMNS) - 1 - _GROUP_COLUMNS.index(column))

    counts = ("received", "answered", "within_sla", "eligible")
    percentiles = "percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY x)"
    read = (  # the three hash tables, one read of the period
        f"SELECT GROUPING({key_list}) AS grouping_mask, {key_list}, COUNT(*) AS received, "  # noqa: S608
        "COUNT(*) FILTER (WHERE answered) AS answered, COUNT(*) FILTER (WHERE within) AS within_sla, "
        "COUNT(*) FILTER (WHERE eligible) AS eligible, MAX(s) AS max_s, "
        "array_agg(s) FILTER (WHERE s IS NOT NULL) AS times "
        f"FROM ({inner_sql} OFFSET 0) AS v({key_list}, s, answered, within, eligible) "
        f"GROUP BY GROUPING SETS ({', '.join(f'({keys[c]})' for c in _READ_APART)}, "
        f"({', '.join(keys[c] for c in mixed)}))"
    )
    rolled = (  # the other tables from the mixed rows; masks as GROUPING(every column) gives them
        f"SELECT {' | '.join([str(mixed_mask), *(f'(GROUPING({keys[c]}) * {bit(c)})' for c in mixed)])} "  # noqa: S608
        "AS grouping_mask, "
        + ", ".join(keys[c] if c in mixed else f"NULL::integer AS {keys[c]}" for c in _GROUP_COLUMNS) + ", "
        + ", ".join(f"COALESCE(SUM({n}), 0)::bigint AS {n}" for n in counts)  # zeros for an empty period
        + ", MAX(max_s) AS max_s FROM m GROUP BY GROUPING SETS ("
        + ", ".join("(" + ", ".join(keys[c] for c in _GROUPS[name]) + ")" for name in _ROLLED_UP) + ")"
    )
    same_group = " AND ".join(f"((r.grouping_mask & {bit(c)}) <> 0 OR m.{keys[c]} = r.{keys[c]})" for c in mixed)
    figures = f"{', '.join(counts)}, max_s"
    sql = (
        f"WITH s AS MATERIALIZED ({read}), m AS (SELECT * FROM s WHERE grouping_mask = {mixed_mask}) "  # noqa: S608
        f"SELECT grouping_mask, {key_list}, {figures}, (SELECT {percentiles} FROM unnest(times) AS x) "
        f"FROM s WHERE grouping_mask <> {mixed_mask} "
        f"UNION ALL SELECT grouping_mask, {key_list}, {figures}, "
        f"CASE WHEN answered > 0 AND grouping_mask <> {_grouping_mask(_GROUPS['funnel'])} THEN "
        f"(SELECT {percentiles} FROM m, unnest(m.times) AS x WHERE {same_group}) END FROM ({rolled}) AS r"
    )
    by_mask = {_grouping_mask(columns): (name, columns) for name, columns in _GROUPS.items()}
    groups: dict[str, dict[Any, ResponseStats]] = {name: {} for name in _GROUPS}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for mask, *values in cursor.fetchall():
            name, columns = by_mask[mask]
            key_values = tuple(values[_GROUP_COLUMNS.index(c)] for c in columns)
            key = 1 if not columns else key_values[0] if len(columns) == 1 else key_values
            if name == "day":
                key = timezone.localtime(starts[key - 1], starts[key - 1].tzinfo).date()
            figures = values[len(keys):]
            figures = [*figures[:5], *(figures[5] or (None, None))]  # the percentiles: NULL if none answered
            groups[name][key] = ResponseStats(key=key, label="", **dict(zip(_STAT_FIELDS, figures, strict=True)))
    groups["operator"].pop(None, None)  # the cases nobody answered
    return groups


def _response_groups_rolled_up(
    period: Period, weekly: bool, now: datetime,
) -> dict[str, dict[Any, ResponseStats]] | None:
    """The tables from the hourly rollups (hotline/dashboard/rollups.py: exact counts,
    percentiles within the bound stated there), or None when the period holds at most
    DASHBOARD_EXACT_MAX_CASES cases: those are computed exactly, as cheap as the rollups."""
    starts = _bucket_starts(period, weekly)
    read = rollups.response_groups(period.start, period.end, now, starts)
    if read is None or read[1] <= settings.DASHBOARD_EXACT_MAX_CASES:
        return None
    tables, _total = read
    groups: dict[str, dict[Any, ResponseStats]] = {}
    for name, rows in tables.items():
        table = groups[name] = {}
        for key, group in rows.items():
            if name == "day":
                key = timezone.localtime(starts[key - 1], starts[key - 1].tzinfo).date()
            table[key] = ResponseStats(key=key, label="", **group.figures())
    groups["operator"].pop(None, None)  # the cases nobody answered
    return groups


def _response_groups_portable(
    cases: QuerySet[Case], bucket: Any, now: datetime,
) -> dict[str, dict[Any, ResponseStats]]:
    """The same tables, one group at a time (SQLite lacks GROUPING SETS and percentile_cont)."""
    funnel = cases.values_list("stage", "stage_before_close").annotate(n=Count("*")).order_by()
    return {
        "overall": _response_stats(cases, Value(1), now),
        "operator": _response_stats(cases.filter(first_responder__isnull=False), F("first_responder"), now),
        "channel": _response_stats(cases, F("channel"), now),
        "language": _response_stats(cases, F("language"), now),
        "day": _response_stats(cases, bucket, now, same_key=lambda k: str(k)[:10]),
        "funnel": {(stage, before): ResponseStats(key=(stage, before), label="", received=n)
                   for stage, before, n in funnel},
    }


@dataclass
class ResponseFigures:
    overall: ResponseStats
    by_operator: list[ResponseStats]
    by_channel: list[ResponseStats]
    by_language: list[ResponseStats]
    trend: list[ResponseStats]  # per local day (per week beyond 45 days), oldest first
    opened_by_stage: dict[tuple[str, str], int]  # cases of the period by (stage, stage before closing)


def response_figures(cases: QuerySet[Case], period: Period, now: datetime) -> ResponseFigures:
    """Response times overall, per operator (who answered first), channel, language and day."""
    weekly = period.days > 45
    if connection.vendor == "postgresql":
        groups = _response_groups_rolled_up(period, weekly, now)
        if groups is None:  # a small period (or rollups under another SLA): exact, from the cases
            groups = _response_groups_postgresql(cases, period, weekly, now)
    else:
        zone = ZoneInfo(settings.TIME_ZONE)
        bucket = TruncWeek("received_at", tzinfo=zone) if weekly else TruncDate("received_at", tzinfo=zone)
        groups = _response_groups_portable(cases, bucket, now)

    def ranked(stats: dict[Any, ResponseStats]) -> list[ResponseStats]:
        return sorted(stats.values(), key=lambda s: (-s.received, s.label))

    overall = groups["overall"].get(1) or ResponseStats(key=1, label="")
    overall.label = "all"
    operators = groups["operator"]
    names = dict(
        OperatorProfile.objects.filter(user_id__in=list(operators)).values_list("user_id", "user__username")
    ) if operators else {}
    for stat in operators.values():
        stat.label = names.get(stat.key, f"#{stat.key}")
    channels = dict(Channel.choices)
    for stat in groups["channel"].values():
        stat.label = str(channels.get(stat.key, stat.key))
    for stat in groups["language"].values():
        stat.label = stat.key or "—"
    for stat in groups["day"].values():
        day = stat.key.date() if isinstance(stat.key, datetime) else stat.key
        stat.key = day
        stat.label = day.isoformat()
    return ResponseFigures(
        overall=overall,
        by_operator=ranked(operators),
        by_channel=ranked(groups["channel"]),
        by_language=ranked(groups["language"]),
        trend=sorted(groups["day"].values(), key=lambda s: s.key),
        opened_by_stage={key: stat.received for key, stat in groups["funnel"].items()},
    )


# --- now, flow, rewards -------------------------------------------------------------------------


@dataclass
class NowFigures:
    waiting: int
    longest_wait_since: datetime | None
    overdue: int
    at_risk: int
    unassigned: int
    on_shift: list[dict[str, Any]]
    # Telegram updates stored by the webhook but not yet applied by a worker (inbox.py): a
    # request there is in no queue yet, so a backlog that ages means the workers need help.
    unapplied_updates: int = 0
    oldest_unapplied_since: datetime | None = None
    intake_late: bool = False


def now_figures(now: datetime | None = None, counts: case_counts.CaseCounts | None = None) -> NowFigures:
    """Open cases waiting (overdue and at risk by the clock, as `selectors.wait_counts` counts
    them), unassigned, and the operators on shift with their open cases.

    The open cases per owner (and the unassigned: no owner) come from the ledger the triggers
    keep (`case_counts`, a few hundred rows), so only the waiting cases are read: one range of
    `case_open_wait_idx`, index-only. Reading every open case grouped by owner instead cost
    700k index entries at a million cases.
    """
    now = now or timezone.now()
    counts = counts or case_counts.current()
    waits = _waits(now)
    shift = (
        OperatorProfile.objects.filter(on_shift=True, user__is_active=True)
        .values("user_id", "user__username", "capacity").order_by("user__username")
    )
    on_shift = []
    for row in shift:
        active = counts.open_of(row["user_id"])
        on_shift.append({"username": row["user__username"], "active": active, "capacity": row["capacity"],
                         "full": active >= row["capacity"], "over": active > row["capacity"]})
    unapplied = telegram_backlog()
    return NowFigures(
        waiting=waits["waiting"], longest_wait_since=waits["longest"], overdue=waits["overdue"],
        at_risk=waits["at_risk"], unassigned=counts.open_of(None), on_shift=on_shift,
        unapplied_updates=unapplied.count, oldest_unapplied_since=unapplied.oldest,
        intake_late=unapplied.late(now),
    )


def _waits(now: datetime) -> dict[str, Any]:
    """Waiting, overdue, at risk and the longest wait among open cases. Shared by every
    supervisor's dashboard for HEADER_COUNTS_CACHE_SECONDS, like the header's badges (the same
    stated staleness; 0 counts every time): the range of `case_open_wait_idx` it reads is every
    waiting case, 300,000 index entries and most of the page at a million cases."""
    seconds = settings.HEADER_COUNTS_CACHE_SECONDS
    if seconds > 0:
        cached = cache.get(_WAITS_KEY)
        if isinstance(cached, dict):
            return cached
    waits = Case.objects.filter(closed_at__isnull=True, awaiting_since__isnull=False).aggregate(**wait_aggregates(now))
    if seconds > 0:
        cache.set(_WAITS_KEY, waits, seconds)
    return waits


_WAITS_KEY = "hotline:dashboard-waits"


FUNNEL = [Stage.NEW, Stage.ASSIGNED, Stage.IN_CONTACT, Stage.VERIFIED, Stage.PLANNING, Stage.SURRENDERED]


def _reached(stage: str, now_at: str, before_close: str) -> bool:
    """A case reached `stage` if it is there or beyond now, or was closed from there or beyond."""
    later = FUNNEL[FUNNEL.index(Stage(stage)):]
    return now_at in later or (now_at == Stage.CLOSED and before_close in later)


@dataclass
class FlowFigures:
    opened: int
    funnel: list[dict[str, Any]]
    stages_now: dict[str, int]
    surrendered: int
    avg_to_surrender: timedelta | None
    closed_by_reason: list[dict[str, Any]]


def flow_figures(
    period: Period, opened_by_stage: dict[tuple[str, str], int], counts: case_counts.CaseCounts | None = None,
) -> FlowFigures:
    """The funnel of the cases opened in the period (counted by `response_figures`), stages now
    (from the ledger of `case_counts`, not by counting a million cases), outcomes in the period."""
    stages_now = (counts or case_counts.current()).by_stage
    surrendered = Case.objects.filter(
        stage=Stage.SURRENDERED, surrendered_at__gte=period.start, surrendered_at__lt=period.end
    ).aggregate(
        n=Count("surrendered_at"),  # columns of case_surrendered_idx only: an index-only read
        avg=Avg(ExpressionWrapper(F("surrendered_at") - F("received_at"), output_field=DurationField())),
    )
    closed = (
        Case.objects.filter(stage=Stage.CLOSED, closed_at__gte=period.start, closed_at__lt=period.end)
        .values("close_reason").annotate(n=Count("closed_at")).order_by("-n")  # index-only: case_closed_idx
    )
    reasons = dict(CloseReason.choices)
    total = sum(opened_by_stage.values())
    funnel = []
    for stage in FUNNEL:
        count = sum(n for (now_at, before), n in opened_by_stage.items() if _reached(stage, now_at, before))
        funnel.append({
            "stage": stage.value, "label": str(stage.label), "count": count,
            "share": count / total if total else None,
        })
    return FlowFigures(
        opened=total,
        funnel=funnel,
        stages_now={str(Stage(s).label): stages_now.get(s, 0) for s in Stage.values},
        surrendered=surrendered["n"],
        avg_to_surrender=surrendered["avg"],
        closed_by_reason=[
            {"reason": row["close_reason"], "label": str(reasons.get(row["close_reason"], row["close_reason"])),
             "count": row["n"]}
            for row in closed
        ],
    )


@dataclass
class RewardFigures:
    equipment: list[dict[str, Any]]
    totals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def paid(self) -> list[dict[str, Any]]:
        """Per currency, what was paid in the period."""
        return [row for row in self.totals if row["paid_cases"]]

    @property
    def due(self) -> list[dict[str, Any]]:
        """Per currency, what is due and not yet paid, whenever it became due (all time)."""
        return [row for row in self.totals if row["due_cases"]]


def reward_figures(period: Period) -> RewardFigures:
    """Equipment that came in the period, by type; rewards still due (any time) and paid in the period."""
    came = CaseEquipment.objects.filter(role=EquipmentRole.SURRENDERED)

    def amount() -> ExpressionWrapper:
        money = DecimalField(max_digits=16, decimal_places=2)
        return ExpressionWrapper(F("quantity") * F("unit_reward"), output_field=money)
    equipment = (
        came.filter(case__surrendered_at__gte=period.start, case__surrendered_at__lt=period.end)
        .values("equipment_type__name", "equipment_type__name_uk", "currency")
        .annotate(units=Sum("quantity"), amount=Sum(amount()))
        .order_by("equipment_type__position", "equipment_type__name")
    )
    paid_in_period = Q(case__reward_state=RewardState.PAID, case__reward_paid_at__gte=period.start,
                       case__reward_paid_at__lt=period.end)
    totals = (
        came.filter(Q(case__reward_state=RewardState.DUE) | paid_in_period)
        .values("currency")
        .annotate(
            due=Sum(amount(), filter=Q(case__reward_state=RewardState.DUE)),
            due_cases=Count("case", filter=Q(case__reward_state=RewardState.DUE), distinct=True),
            paid=Sum(amount(), filter=paid_in_period),
            paid_cases=Count("case", filter=paid_in_period, distinct=True),
        )
        .order_by("currency")
    )
    return RewardFigures(
        equipment=[
            {"name": name_in_language(row["equipment_type__name"], row["equipment_type__name_uk"]),
             "quantity": row["units"], "currency": row["currency"],
             "amount": Decimal(str(row["amount"] or 0)).quantize(Decimal("1"))}
            for row in equipment
        ],
        totals=[
            {"currency": row["currency"], "due": Decimal(str(row["due"] or 0)).quantize(Decimal("1")),
             "due_cases": row["due_cases"], "paid": Decimal(str(row["paid"] or 0)).quantize(Decimal("1")),
             "paid_cases": row["paid_cases"]}
            for row in totals
        ],
    )


OVERDUE_LIST_LIMIT = 200


@dataclass(frozen=True)
class OverdueCase:
    """A row of the overdue list: what the page, the API and the CSV show, nothing more."""

    pk: int
    stage: str
    owner: str | None  # the owner's username; None: unassigned
    awaiting_since: datetime

    @property
    def number(self) -> str:
        return f"#{self.pk}"


def overdue_cases(now: datetime, limit: int = OVERDUE_LIST_LIMIT) -> list[OverdueCase]:
    """Every overdue case, longest wait first (the page shows the first `limit`).

    Overdue by the clock, as the "now" figures count them (`selectors.wait_counts`): a case
    the sweep has not flagged yet is listed too. A range of `case_open_wait_idx` from the
    oldest wait; PostgreSQL stops after `limit` rows. Plain rows, not model instances: 200
    cases and their owners built as models were about 10 ms of the page.
    """
    rows = (
        Case.objects.filter(closed_at__isnull=True, awaiting_since__lte=overdue_cutoff(now))
        .order_by("awaiting_since", "pk").values_list("pk", "stage", "owner__username", "awaiting_since")[:limit]
    )
    return [OverdueCase(*row) for row in rows]


# --- all of it ------------------------------------------------------------------------------------


@dataclass
class Dashboard:
    period: Period
    now: NowFigures
    overall: ResponseStats
    by_operator: list[ResponseStats]
    by_channel: list[ResponseStats]
    by_language: list[ResponseStats]
    trend: list[ResponseStats]
    flow: FlowFigures
    rewards: RewardFigures
    overdue: list[OverdueCase]
    sla_seconds: float


def dashboard(period: Period, *, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    received = Case.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
    response = response_figures(received, period, now)
    counts = case_counts.current()  # one read for the "now" figures and the stages
    return Dashboard(
        period=period,
        now=now_figures(now, counts),
        overall=response.overall,
        by_operator=response.by_operator,
        by_channel=response.by_channel,
        by_language=response.by_language,
        trend=response.trend,
        flow=flow_figures(period, response.opened_by_stage, counts),
        rewards=reward_figures(period),
        overdue=overdue_cases(now),
        sla_seconds=settings.SLA_HOURS * 3600,
    )


__all__ = ["Dashboard", "Period", "ResponseStats", "dashboard", "period_for"]
