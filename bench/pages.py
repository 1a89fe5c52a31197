"""The desk's pages at scale: the queue and the case page, server time per request.

Requests go through Django's test Client in this process (the whole middleware, view and
template stack, no network or browser), logged in as a benchmark operator or supervisor.
Each size n prints (median, p95 of --repeat requests after one warm-up, in ms; queries per request):

    queue_ms_<n>_p50 / _p95, queue_queries_<n>     an operator's own queue (scope "mine", page 1)
    queue_unassigned_ms_<n>_p50 / _p95, ..._queries_<n>   the unassigned queue, as that operator
    queue_all_ms_<n>_p50 / _p95, ..._queries_<n>   every open case, as a supervisor
    case_ms_<n>_p50 / _p95, case_queries_<n>       a case page (a different case per request,
                                                   one the operator owns; each view is recorded)

    python bench/pages.py --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import itertools
import statistics

try:
    from bench import generate, measure
except ImportError:  # run as a script
    import generate  # type: ignore[no-redef]
    import measure  # type: ignore[no-redef]

DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
REPEAT = 20


def client_for(username: str):
    from django.contrib.auth.models import User
    from django.test import Client

    from operators.models import OperatorProfile

    user = User.objects.get(username=username)
    OperatorProfile.objects.filter(user=user).update(ui_language="en")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


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
