"""The dashboard's response figures from hourly rollups (PostgreSQL): a period costs its hours,
not its cases.

`ResponseRollup` (kept by the triggers of migration 0008_dashboard_rollups) counts the cases
received per hour and key (first responder, channel, language, stage, stage before closing,
response bucket, answered within the SLA). A period reads its whole hours from the rollups and
only its edges from the cases: the part-hours at its start and end, and the hour holding
`now - SLA` (an unanswered case counts toward the share within the SLA once it has waited
that long, which the hour alone does not tell). Each edge is at most an hour of cases, read
from `case_received_idx`.

Counts (received, answered, within the SLA, eligible, the funnel) are exact. Percentiles and
the maximum are read from a histogram of log-spaced buckets of the first-response time:
one-second buckets below 64 s, then 32 buckets per doubling. A bucket's value is its middle
(geometric above 64 s), so each reported figure is within **0.5 s + 1.1 % of the exact
value** (2^(1/64) - 1 = 1.09 %; percentile_cont's interpolation between two ranks keeps the
bound). tests/dashboard/test_rollups.py checks it against the raw computation.

Periods of at most DASHBOARD_EXACT_MAX_CASES cases are computed exactly from the cases
instead (hotline.dashboard.metrics): the bound only applies to the large ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

# Buckets: [b, b+1) seconds below LINEAR_LIMIT; above it, PER_DOUBLING buckets per doubling.
LINEAR_LIMIT = 64
PER_DOUBLING = 32
# How far a reported percentile may be from the exact one: ABS_BOUND_S + REL_BOUND * exact.
ABS_BOUND_S = 0.5
REL_BOUND = 2 ** (1 / (2 * PER_DOUBLING)) - 1

# The key of a case row: the same expressions as the triggers (migration 0008_dashboard_rollups).
KEY = """date_trunc('hour', {c}.received_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', {c}.first_responder_id,
        {c}.channel, {c}.language, {c}.stage, {c}.stage_before_close,
        hotline_response_bucket(date_part('epoch', {c}.first_response_at - {c}.received_at)),
        COALESCE({c}.first_response_at <= {c}.received_at + make_interval(secs => hotline_rollup_sla_seconds()),
                 false)"""
COLUMNS = "hour, first_responder_id, channel, language, stage, stage_before_close, bucket, within_sla, n"


def bucket_of(seconds: float) -> int:
    """The bucket of a response time (hotline_response_bucket in SQL)."""
    if seconds < LINEAR_LIMIT:
        return max(math.floor(seconds), 0)
    return LINEAR_LIMIT + math.floor(PER_DOUBLING * math.log(seconds / LINEAR_LIMIT) / math.log(2))


def value_of(bucket: int) -> float:
    """The value a bucket stands for: its middle (geometric above LINEAR_LIMIT)."""
    if bucket < LINEAR_LIMIT:
        return bucket + 0.5
    return LINEAR_LIMIT * 2 ** ((bucket - LINEAR_LIMIT + 0.5) / PER_DOUBLING)


def percentile(histogram: dict[int, int], fraction: float) -> float | None:
    """percentile_cont(fraction) of the values the histogram counts, each at its bucket's value."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    position = fraction * (total - 1)
    low_rank, high_rank = math.floor(position), math.ceil(position)
    low = high = None
    seen = 0
    for bucket in sorted(histogram):
        count = histogram[bucket]
        if count <= 0:
            continue
        if low is None and low_rank < seen + count:
            low = value_of(bucket)
        if high_rank < seen + count:
            high = value_of(bucket)
            break
        seen += count
    if low is None or high is None:  # a ledger read mid-change cannot do this; be safe
        return None
    return low + (high - low) * (position - low_rank)


@dataclass
class Group:
    """One row of a response table: exact counts and the histogram of response times."""

    received: int = 0
    answered: int = 0
    within_sla: int = 0
    eligible: int = 0
    histogram: dict[int, int] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        present = [b for b, n in self.histogram.items() if n > 0]
        return {
            "received": self.received, "answered": self.answered, "within_sla": self.within_sla,
            "eligible": self.eligible, "max_s": value_of(max(present)) if present else None,
            "median_s": percentile(self.histogram, 0.5), "p90_s": percentile(self.histogram, 0.9),
        }


def _hour_floor(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _hour_ceil(at: datetime) -> datetime:
    floor = _hour_floor(at)
    return floor if floor == at else floor + timedelta(hours=1)


# The grouping sets, by table: each with the bucket, so every row carries its histogram's bar.
_SETS = {
    "overall": (), "operator": ("first_responder_id",), "channel": ("channel",), "language": ("language",),
    "day": ("day",), "funnel": ("stage", "stage_before_close"),
}
_ALL = ["first_responder_id", "day", "channel", "language", "stage", "stage_before_close", "bucket"]


def _mask(columns: tuple[str, ...]) -> int:
    last = len(_ALL) - 1
    return sum(1 << (last - i) for i, column in enumerate(_ALL) if column not in columns)


def response_groups(
    start: datetime, end: datetime, now: datetime, day_starts: list[datetime],
) -> tuple[dict[str, dict[Any, Group]], int] | None:
    """Every response table of [start, end) in one statement: {table: {key: Group}}, and the
    cases received in the period. A day's key is its index in `day_starts` (1-based, as
    width_bucket gives it). None when the rollups were written under another SLA."""
    sla_cut = now - timedelta(hours=settings.SLA_HOURS)
    low, high = min(_hour_ceil(start), end), max(_hour_floor(end), start)
    cut_low, cut_high = _hour_floor(sla_cut), _hour_floor(sla_cut) + timedelta(hours=1)
    # The edges read from the cases: each at most an hour, each its own index range.
    edges = [(start, low), (max(high, low), end), (max(cut_low, low), min(cut_high, high))]
    edges = [(a, b) for a, b in edges if a < b]
    parts = [
        "SELECT hour, first_responder_id, channel, language, stage, stage_before_close, bucket, within_sla, "
        "(bucket IS NOT NULL OR hour < %s) AS eligible, SUM(n) AS n FROM hotline_responserollup "
        "WHERE hour >= %s AND hour < %s AND NOT (hour >= %s AND hour < %s) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
    ]
    params: list[Any] = [cut_low, low, high, cut_low, cut_high]
    for edge_start, edge_end in edges:
        parts.append(
            f"SELECT {KEY.format(c='c')}, (c.first_response_at IS NOT NULL OR c.received_at <= %s), count(*) "  # noqa: S608
            "FROM hotline_case AS c WHERE c.received_at >= %s AND c.received_at < %s GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9"
        )
        params += [sla_cut, edge_start, edge_end]
    sets = ", ".join("(" + ", ".join([*columns, "bucket"]) + ")" for columns in _SETS.values())
    sql = (
        f"SELECT GROUPING({', '.join(_ALL)}), {', '.join(_ALL)}, SUM(n), "  # noqa: S608 - our own SQL
        "SUM(n) FILTER (WHERE within_sla), SUM(n) FILTER (WHERE eligible), "
        "(SELECT hotline_rollup_sla_seconds()) "
        f"FROM (SELECT v.*, width_bucket(hour, %s::timestamptz[]) AS day FROM ({' UNION ALL '.join(parts)}) "
        f"AS v(hour, first_responder_id, channel, language, stage, stage_before_close, bucket, within_sla, "
        f"eligible, n)) AS w GROUP BY GROUPING SETS ({sets})"
    )
    by_mask = {_mask((*columns, "bucket")): (name, columns) for name, columns in _SETS.items()}
    tables: dict[str, dict[Any, Group]] = {name: {} for name in _SETS}
    with connection.cursor() as cursor:
        cursor.execute(sql, [day_starts, *params])
        rows = cursor.fetchall()
    for mask, *values in rows:
        received, within, eligible, sla_seconds = values[len(_ALL):]
        if sla_seconds != settings.SLA_HOURS * 3600:
            return None
        name, columns = by_mask[mask]
        key_values = tuple(values[_ALL.index(c)] for c in columns)
        key = 1 if not columns else key_values[0] if len(columns) == 1 else key_values
        group = tables[name].setdefault(key, Group())
        bucket = values[_ALL.index("bucket")]
        group.received += int(received or 0)
        group.within_sla += int(within or 0)
        group.eligible += int(eligible or 0)
        if bucket is not None:
            group.answered += int(received or 0)
            group.histogram[bucket] = group.histogram.get(bucket, 0) + int(received or 0)
    for table in tables.values():
        for key in [k for k, g in table.items() if g.received == 0]:
            del table[key]  # keys whose rows cancel out (changed since)
    total = tables["overall"].get(1, Group()).received
    return tables, total


# Folds the ledger into one row per key, as case_counts._COMPACT does (see there for why it is
# safe beside concurrent writers and a second compaction).
_COMPACT = f"""
WITH gone AS (DELETE FROM hotline_responserollup RETURNING {COLUMNS}),
     kept AS (INSERT INTO hotline_responserollup ({COLUMNS})
              SELECT hour, first_responder_id, channel, language, stage, stage_before_close, bucket, within_sla,
                     SUM(n) FROM gone GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING SUM(n) <> 0)
SELECT count(*) FROM gone
"""  # noqa: S608 - our own constants


def compact() -> int:
    """Fold the rollups into one row per key; returns the rows folded (0 on SQLite)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_COMPACT)
        return cursor.fetchone()[0]


@transaction.atomic
def rebuild() -> int:
    """Recount every rollup from the cases under the current SLA_HOURS; returns the rows written.

    Writers of cases wait meanwhile (SHARE lock): no change is missed or counted twice."""
    if connection.vendor != "postgresql":
        return 0
    seconds = float(settings.SLA_HOURS * 3600)
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE hotline_case IN SHARE MODE")
        cursor.execute(
            "CREATE OR REPLACE FUNCTION hotline_rollup_sla_seconds() RETURNS double precision "
            f"LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT {seconds!r}::double precision $$"
        )
        cursor.execute("DELETE FROM hotline_responserollup")
        cursor.execute(
            f"INSERT INTO hotline_responserollup ({COLUMNS}) "  # noqa: S608 - our own SQL
            f"SELECT {KEY.format(c='c')}, count(*) FROM hotline_case AS c GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
        )
        return cursor.rowcount
