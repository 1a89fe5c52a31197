"""The overdue sweep at scale: time one sweep over n cases and count its queries.

Prints, per size: sweep_seconds_<n>, sweep_queries_<n>, sweep_overdue_<n>, sweep_at_risk_<n>.
Each size gets a fresh dataset (bench/generate.py), 10% of it overdue and not yet flagged.

    python bench/sweep.py --sizes 10000 100000 1000000 [--explain]
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


def run(n: int, *, show_plan: bool = False) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hotline.sla import sla_sweep

    generate.load(n)
    if show_plan:
        print("\n".join("# " + line for line in explain().splitlines()))
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = sla_sweep()
        seconds = time.perf_counter() - started
    figures = {
        f"sweep_seconds_{n}": seconds, f"sweep_queries_{n}": len(queries.captured_queries),
        f"sweep_overdue_{n}": result.overdue, f"sweep_at_risk_{n}": result.at_risk,
    }
    units = {"seconds": "s", "queries": "count", "overdue": "count", "at_risk": "count"}
    for name, value in figures.items():
        unit = units[name.split("_", 1)[1].rsplit("_", 1)[0]]
        print(f"{name} {value:.3f} {unit}" if unit == "s" else f"{name} {value} {unit}", flush=True)
    return figures


def main(sizes: list[int], *, show_plan: bool = False) -> None:
    generate.setup_django()
    for n in sizes:
        run(n, show_plan=show_plan)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES)
    parser.add_argument("--explain", action="store_true", help="print the sweep's query plan")
    args = parser.parse_args()
    main(args.sizes, show_plan=args.explain)
