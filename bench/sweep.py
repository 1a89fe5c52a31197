"""The overdue sweep at scale: time one sweep over n cases and count its queries.

Prints, per size: sweep_seconds_<n>, sweep_queries_<n> (statements, without BEGIN/COMMIT),
sweep_overdue_<n>, sweep_at_risk_<n>. Each size gets a fresh dataset (bench/generate.py), 10%
of it overdue and not yet flagged, and not flagged at risk either (the sweep was down): the
worst case. --steady: they were flagged at risk by earlier sweeps (labels end in _steady).

    python bench/sweep.py --sizes 10000 100000 1000000 [--explain] [--steady]
"""

from __future__ import annotations

import argparse
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

    from hotline.sla import postgresql_sweep_statement

    sql, params = postgresql_sweep_statement(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def run(n: int, *, show_plan: bool = False, steady: bool = False) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hotline.sla import sla_sweep

    generate.load(n, at_risk_flagged=steady)
    if show_plan:
        print("\n".join("# " + line for line in explain().splitlines()))
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = sla_sweep()
        seconds = time.perf_counter() - started
    # BEGIN and COMMIT are not statements of the sweep (tests count the same way).
    statements = [q for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    label = f"{n}_steady" if steady else str(n)
    figures = {
        f"sweep_seconds_{label}": seconds, f"sweep_queries_{label}": len(statements),
        f"sweep_overdue_{label}": result.overdue, f"sweep_at_risk_{label}": result.at_risk,
    }
    units = {"seconds": "s", "queries": "count", "overdue": "count", "at_risk": "count"}
    for name, value in figures.items():
        unit = units[name.removeprefix("sweep_").removesuffix(f"_{label}")]
        print(f"{name} {value:.3f} {unit}" if unit == "s" else f"{name} {value} {unit}", flush=True)
    return figures


def main(sizes: list[int], *, show_plan: bool = False, steady: bool = False) -> None:
    generate.setup_django()
    for n in sizes:
        run(n, show_plan=show_plan, steady=steady)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES)
    parser.add_argument("--explain", action="store_true", help="print the sweep's query plan")
    parser.add_argument(
        "--steady", action="store_true",
        help="the overdue cases were flagged at risk by earlier sweeps (default: both thresholds at once)",
    )
    args = parser.parse_args()
    main(args.sizes, show_plan=args.explain, steady=args.steady)
