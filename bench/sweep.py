"""The overdue sweep at scale: time one sweep over n cases and count its queries.

Prints, per size: sweep_seconds_<n>, sweep_queries_<n> (statements, without BEGIN/COMMIT),
sweep_overdue_<n>, sweep_at_risk_<n>, sweep_commit_seconds_<n> (the part of sweep_seconds spent
in COMMIT: the deferred foreign-key checks of every event written, and the WAL flush), and
sweep_idle_ms_<n>: a second sweep right after, with nothing new to flag (what a sweep every
minute costs in the steady state).
Each run gets a fresh dataset (bench/generate.py), 10% of it overdue and not yet flagged,
and not flagged at risk either (the sweep was down): the worst case. --steady: they were
flagged at risk by earlier sweeps (labels end in _steady). A CHECKPOINT precedes the timed
sweep, so every run pays the full-page writes of the first change to each page after a
checkpoint (the pessimistic case, and the same for every run).
With --repeat k, each size is run k times and the median is printed (each run as a comment).

    python bench/sweep.py --sizes 10000 100000 1000000 [--explain] [--steady] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

try:
    from bench import generate
except ImportError:  # run as a script: bench/ is on sys.path, the project root is not yet
    import generate  # type: ignore[no-redef]

DEFAULT_SIZES = [10_000, 100_000, 1_000_000]


def explain() -> str:
    """The plan PostgreSQL chooses for the sweep statement (not executed)."""
    from django.db import connection
    from django.utils import timezone

    from hotline.desk.sla import postgresql_sweep_statement

    sql, params = postgresql_sweep_statement(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _checkpoint() -> None:
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:  # needs superuser or pg_checkpoint: then the run is as it comes
        print("# CHECKPOINT not allowed for this user; timings include whatever WAL state there is")


def _timed_sweep() -> tuple[float, int, object, float]:
    """One sweep: (seconds, statements, result, seconds spent in its COMMIT)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hotline.desk.sla import sla_sweep

    commit_seconds = []
    plain_commit = connection._commit

    def timed_commit() -> None:
        started = time.perf_counter()
        try:
            plain_commit()
        finally:
            commit_seconds.append(time.perf_counter() - started)

    connection._commit = timed_commit  # the instance only, for this one sweep
    try:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = sla_sweep()
            seconds = time.perf_counter() - started
    finally:
        del connection._commit
    # BEGIN and COMMIT are not statements of the sweep (tests count the same way).
    statements = [q for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    return seconds, len(statements), result, sum(commit_seconds)


def run_once(n: int, *, show_plan: bool = False, steady: bool = False) -> dict[str, float]:
    generate.load(n, at_risk_flagged=steady)
    if show_plan:
        print("\n".join("# " + line for line in explain().splitlines()))
    _checkpoint()
    seconds, statements, result, commit_seconds = _timed_sweep()
    idle_seconds, _, idle, _ = _timed_sweep()
    if idle.overdue or idle.at_risk:
        raise RuntimeError(f"A second sweep flagged {idle}: the sweep is not idempotent.")
    return {
        "seconds": seconds, "queries": statements, "overdue": result.overdue, "at_risk": result.at_risk,
        "commit_seconds": commit_seconds, "idle_ms": idle_seconds * 1000,
    }


def run(n: int, *, show_plan: bool = False, steady: bool = False, repeat: int = 1) -> dict[str, float]:
    runs = [run_once(n, show_plan=show_plan and i == 0, steady=steady) for i in range(repeat)]
    label = f"{n}_steady" if steady else str(n)
    if repeat > 1:
        print(f"# sweep {label} runs: " + ", ".join(f"{r['seconds']:.2f} s / idle {r['idle_ms']:.0f} ms" for r in runs))
    figures = {}
    units = {
        "seconds": "s", "queries": "count", "overdue": "count", "at_risk": "count", "commit_seconds": "s",
        "idle_ms": "ms",
    }
    for key, unit in units.items():
        value = statistics.median(r[key] for r in runs)
        name = f"sweep_{key}_{label}"
        figures[name] = value
        print(f"{name} {value:.3f} {unit}" if unit in ("s", "ms") else f"{name} {value:g} {unit}", flush=True)
    return figures


def main(sizes: list[int], *, show_plan: bool = False, steady: bool = False, repeat: int = 1) -> None:
    generate.setup_django()
    for n in sizes:
        run(n, show_plan=show_plan, steady=steady, repeat=repeat)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES)
    parser.add_argument("--explain", action="store_true", help="print the sweep's query plan")
    parser.add_argument(
        "--steady", action="store_true",
        help="the overdue cases were flagged at risk by earlier sweeps (default: both thresholds at once)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per size (fresh dataset each); median printed")
    args = parser.parse_args()
    main(args.sizes, show_plan=args.explain, steady=args.steady, repeat=args.repeat)
