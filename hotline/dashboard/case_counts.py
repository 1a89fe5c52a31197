"""How many cases there are per stage, and open per owner, without counting them (PostgreSQL).

The triggers of migration 0015_dashboard_case_counts add rows to `CaseCount` for every case
inserted or deleted and every change of stage, owner or open/closed (+1 for the new key, -1 for
the old); a count is the sum of its rows. Reading it costs as many rows as changes since the
last `compact()`, which the beat runs every few minutes (CASE_COUNTS_COMPACT_SECONDS): a few
hundred rows, against a million index entries for counting the cases. Correctness never
depends on the compaction: a late one only makes the read longer.

On SQLite (the embedded default, small by nature) there are no triggers: the cases are counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, ExpressionWrapper, Q, Sum
from django.db.models.fields import BooleanField

from hotline.dashboard import rollups
from hotline.models import Case, CaseCount, Stage


@dataclass(frozen=True)
class CaseCounts:
    by_stage: dict[str, int]  # every stage, 0 when none
    open_by_owner: dict[int | None, int]  # open cases per owner id; None: the unassigned

    def open_of(self, owner_id: int | None) -> int:
        return self.open_by_owner.get(owner_id, 0)


def current() -> CaseCounts:
    """Cases per stage and open cases per owner now, in one query."""
    if connection.vendor == "postgresql":
        rows = CaseCount.objects.values_list("stage", "owner_id", "open").annotate(total=Sum("n")).order_by()
    else:
        is_open = ExpressionWrapper(Q(closed_at__isnull=True), output_field=BooleanField())
        rows = (Case.objects.annotate(is_open=is_open).values_list("stage", "owner_id", "is_open")
                .annotate(total=Count("*")).order_by())
    by_stage = dict.fromkeys(Stage.values, 0)
    open_by_owner: dict[int | None, int] = {}
    for stage, owner_id, is_open, total in rows:
        by_stage[stage] = by_stage.get(stage, 0) + int(total)
        if is_open and total:
            open_by_owner[owner_id] = open_by_owner.get(owner_id, 0) + int(total)
    return CaseCounts(by_stage=by_stage, open_by_owner=open_by_owner)


# Every row the statement's snapshot sees is deleted and its sum written back as one row per
# key. A row a concurrent transaction adds meanwhile is not in the snapshot: it stays, and still
# counts. Two compactions at once: the second skips the rows the first deleted (they are gone
# when it gets their lock) and does not see the first's new rows, so nothing counts twice.
_COMPACT = """
WITH gone AS (DELETE FROM hotline_casecount RETURNING stage, owner_id, open, n),
     kept AS (INSERT INTO hotline_casecount (stage, owner_id, open, n)
              SELECT stage, owner_id, open, SUM(n) FROM gone GROUP BY 1, 2, 3 HAVING SUM(n) <> 0)
SELECT count(*) FROM gone
"""


def compact() -> int:
    """Fold the ledger into one row per key, and the response rollups (`rollups.compact`, the
    same kind of ledger, on the same schedule); returns the case-count rows folded (0 on SQLite)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_COMPACT)
        folded = cursor.fetchone()[0]
    rollups.compact()
    return folded
