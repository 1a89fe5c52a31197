"""The desk's pages at scale: the queue and the case page, server time per request.

Requests go through Django's test Client in this process (the whole middleware, view and
template stack, no network or browser), logged in as a benchmark operator or supervisor.
Each size n prints (median, p95 of --repeat requests after one warm-up, in ms; queries per request):

    queue_ms_<n>_p50 / _p95, queue_queries_<n>     an operator's own queue (scope "mine", page 1)
    queue_unassigned_ms_<n>_p50 / _p95, ..._queries_<n>   the unassigned queue, as that operator
    queue_all_ms_<n>_p50 / _p95, ..._queries_<n>   every open case, as a supervisor
    case_ms_<n>_p50 / _p95, case_queries_<n>       a case page (a different case per request,
                                                   one the operator owns; each view is recorded)

And what a person waits for, over HTTP: gunicorn (2 sync workers) with the production
settings, behind the headers of its TLS proxy, signed in with password and TOTP code, a new
connection per request (median and p95 of --repeat requests after two warm-ups, in ms):

    queue_http_ms_<n>_p50 / _p95, queue_unassigned_http_ms_<n>_..., queue_all_http_ms_<n>_...,
    case_http_ms_<n>_p50 / _p95

    python bench/pages.py --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
from pathlib import Path

try:
    from bench import generate, measure
except ImportError:  # run as a script
    import generate  # type: ignore[no-redef]
    import measure  # type: ignore[no-redef]

DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
REPEAT = 20


def client_for(username: str):
    return measure.signed_in_client(username)


def _get(client, url: str, params: dict | None = None) -> None:
    response = client.get(url, params or {})
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")


def _report(name: str, n: int, millis: list[float], queries: list[int]) -> dict[str, float]:
    figures = {
        f"{name}_ms_{n}_p50": statistics.median(millis), f"{name}_ms_{n}_p95": measure.percentile(millis, 0.95),
        f"{name}_queries_{n}": max(queries),
    }
    for key, value in figures.items():
        print(f"{key} {value:.1f} ms" if "_ms_" in key else f"{key} {value} count", flush=True)
    return figures


def run(n: int, *, repeat: int = REPEAT) -> dict[str, float]:
    from django.urls import reverse

    from hotline.models import Case

    generate.ensure(n)
    operator, supervisor = client_for("bench-op-001"), client_for("bench-op-000")
    queue = reverse("queue")
    figures: dict[str, float] = {}
    for name, client, scope in (
        ("queue", operator, "mine"), ("queue_unassigned", operator, "unassigned"), ("queue_all", supervisor, "all"),
    ):
        millis, queries = measure.timed(lambda client=client, scope=scope: _get(client, queue, {"scope": scope}),
                                        repeat=repeat)
        figures |= _report(name, n, millis, queries)
    # Cases spread over the whole table, each opened once: no request is served from a warm row.
    owned = list(Case.objects.filter(owner__username="bench-op-001").order_by("pk").values_list("pk", flat=True))
    step = max(len(owned) // (repeat + 1), 1)
    ids = itertools.cycle(owned[::step][: repeat + 1])
    millis, queries = measure.timed(lambda: _get(operator, reverse("case", args=[next(ids)])), repeat=repeat)
    figures |= _report("case", n, millis, queries)
    figures |= run_http(n, queue, [reverse("case", args=[pk]) for pk in owned[::step][: 2 * repeat + 4]], repeat=repeat)
    return figures


def run_http(n: int, queue: str, case_urls: list[str], *, repeat: int = REPEAT) -> dict[str, float]:
    """The same pages over HTTP (see the module), with a server of their own."""
    from django.db import connection

    log = Path(os.environ.get("BENCH_LOG_DIR", "/tmp")) / "hotline-bench-pages-gunicorn.log"  # noqa: S108
    connection.close()  # the server's workers start on a quiet database
    figures: dict[str, float] = {}
    with measure.WebServer(log) as server:
        operator, supervisor = measure.Browser(server.port), measure.Browser(server.port)
        operator.sign_in("bench-op-001")
        supervisor.sign_in("bench-op-000")
        for name, browser, scope in (
            ("queue", operator, "mine"), ("queue_unassigned", operator, "unassigned"),
            ("queue_all", supervisor, "all"),
        ):
            millis = measure.http_timed(lambda browser=browser, scope=scope: browser.get(f"{queue}?scope={scope}"),
                                        repeat=repeat)
            figures |= measure.report_http(f"{name}_http_ms_{n}", millis)
        urls = itertools.cycle(case_urls)  # each opened once where the operator has enough cases
        millis = measure.http_timed(lambda: operator.get(next(urls)), repeat=repeat)
        figures |= measure.report_http(f"case_http_ms_{n}", millis)
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
