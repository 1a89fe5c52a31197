"""The supervisors' dashboard at scale: hotline.dashboard.metrics.dashboard for 7 and 30 days, and the
whole page (rendered by Django's test Client in this process, logged in as a supervisor).

Prints, per size n (median and p95 of --repeat timed calls after one warm-up, in ms):
    dashboard_ms_<n>            the page, default period (7 days); also _p95 and dashboard_queries_<n>
    dashboard_ms_<n>_30d        the page for 30 days; also _p95 and dashboard_queries_<n>_30d
    dashboard_metrics_ms_<n>_7d / _30d   the figures alone (hotline.dashboard.metrics.dashboard)
Server time only: no network, no browser. The dataset is bench/generate.py's (ensure(n)).
And over HTTP, as a supervisor waits for it (bench/pages.py's server and sign-in: gunicorn with
the production settings, password and TOTP; median and p95 after two warm-ups):
    dashboard_http_ms_<n>_p50 / _p95, dashboard_http_ms_<n>_30d_p50 / _p95

    python bench/dashboard.py --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

try:
    from bench import generate, measure
except ImportError:  # run as a script
    import generate  # type: ignore[no-redef]
    import measure  # type: ignore[no-redef]

DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
REPEAT = 10


def supervisor_client():
    """A test Client (this process) signed in as the benchmark supervisor (bench-op-000)."""
    return measure.signed_in_client("bench-op-000")


def run(n: int, *, repeat: int = REPEAT) -> dict[str, float]:
    from django.urls import reverse

    from hotline.dashboard import metrics

    generate.ensure(n)
    client = supervisor_client()
    figures: dict[str, float] = {}

    def page(period: str) -> None:
        response = client.get(reverse("dashboard"), {"period": period})
        if response.status_code != 200:
            raise RuntimeError(f"dashboard answered {response.status_code}")

    for period, suffix in (("7d", ""), ("30d", "_30d")):
        millis, queries = measure.timed(lambda period=period: page(period), repeat=repeat)
        figures |= measure.report(
            f"dashboard_ms_{n}{suffix}", millis, queries, query_name=f"dashboard_queries_{n}{suffix}",
        )
    for period in ("7d", "30d"):
        millis, _ = measure.timed(lambda period=period: metrics.dashboard(metrics.period_for(period)), repeat=repeat)
        figures |= measure.report(f"dashboard_metrics_ms_{n}_{period}", millis)
    figures |= run_http(n, reverse("dashboard"), repeat=repeat)
    return figures


def run_http(n: int, url: str, *, repeat: int = REPEAT) -> dict[str, float]:
    from django.db import connection

    log = Path(os.environ.get("BENCH_LOG_DIR", "/tmp")) / "hotline-bench-dashboard-gunicorn.log"  # noqa: S108
    connection.close()
    figures: dict[str, float] = {}
    with measure.WebServer(log) as server:
        supervisor = measure.Browser(server.port)
        supervisor.sign_in("bench-op-000")
        for period, suffix in (("7d", ""), ("30d", "_30d")):
            millis = measure.http_timed(lambda period=period: supervisor.get(f"{url}?period={period}"), repeat=repeat)
            figures |= measure.report_http(f"dashboard_http_ms_{n}{suffix}", millis)
    return figures


def main(sizes: list[int], *, repeat: int = REPEAT) -> None:
    generate.setup_django()
    for n in sizes:
        run(n, repeat=repeat)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES)
    parser.add_argument("--repeat", type=int, default=REPEAT)
    args = parser.parse_args()
    main(args.sizes, repeat=args.repeat)
