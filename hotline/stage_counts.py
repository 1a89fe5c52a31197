"""How many cases are in each stage, without counting them (PostgreSQL).

The triggers of migration 0015_dashboard_stage_counts add a row to `CaseStageCount` for every
change of stage (+1 for the new stage, -1 for the old, one row per stage for a bulk INSERT or
DELETE); a stage's count is the sum of its rows. Reading it costs as many rows as changes since
the last `compact()`, which the beat runs every few minutes (STAGE_COUNTS_COMPACT_SECONDS):
a few hundred rows, against a million index entries for counting the cases. Correctness never
depends on the compaction: a late one only makes the read longer.

On SQLite (the embedded default, small by nature) there are no triggers: the cases are counted.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, Sum

from .models import Case, CaseStageCount, Stage


def current() -> dict[str, int]:
    """Cases per stage now, every stage present (0 when none), in one query."""
    if connection.vendor == "postgresql":
        rows = CaseStageCount.objects.values("stage").annotate(total=Sum("n")).order_by().values_list("stage", "total")
    else:
        rows = Case.objects.values("stage").annotate(total=Count("*")).order_by().values_list("stage", "total")
    counts = dict(rows)
    return {stage: int(counts.get(stage) or 0) for stage in Stage.values}


# Every row the statement's snapshot sees is deleted and its sum written back as one row per
# stage. A row a concurrent transaction adds meanwhile is not in the snapshot: it stays, and
# still counts. Two compactions at once: the second skips the rows the first deleted (they are
# gone when it gets their lock) and does not see the first's new rows, so nothing counts twice.
_COMPACT = """
WITH gone AS (DELETE FROM hotline_casestagecount RETURNING stage, n),
     kept AS (INSERT INTO hotline_casestagecount (stage, n)
              SELECT stage, SUM(n) FROM gone GROUP BY stage HAVING SUM(n) <> 0)
SELECT count(*) FROM gone
"""


def compact() -> int:
    """Fold the ledger into one row per stage; returns the rows folded (0 on SQLite)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_COMPACT)
        return cursor.fetchone()[0]
