"""Search at scale: one box, four kinds of query, over HTTP (gunicorn on PostgreSQL).

The dataset of bench/generate.py gets search keys written by the database itself (pgcrypto's
HMAC, the same keyed hash as hotline/desk/search.py): every contact a first name (one in
twenty is "Иван": 5 %, a common first name), every second one a surname shared by about one
other contact (the rare surname), every second one a Telegram username, one in ten a phone
number. The names themselves stay empty in the contact rows: the search reads only the keys.

Each query is asked --repeat times over loopback keep-alive HTTP, as a supervisor (every case)
and as an operator (own cases and the unassigned ones), after one warm-up. Prints, per size n:

    search_<kind>_ms_<n>_p50 / _p95          supervisor; kind: surname, first_name, username, phone
    search_op_<kind>_ms_<n>_p50 / _p95       operator
    search_results_<kind>_<n>                rows shown (at most 50)
    search_service_<kind>_ms_<n>_p50         the search alone (in process, supervisor): without the
                                             session, the page and its header's counts
    search_queries_<n>                       statements per search, the whole request (in process)

    python bench/search.py --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import time
from pathlib import Path
from urllib.parse import urlencode

try:
    from bench import generate, intake, measure
except ImportError:  # run as a script
    import generate  # type: ignore[no-redef]
    import intake  # type: ignore[no-redef]
    import measure  # type: ignore[no-redef]

DEFAULT_SIZES = [100_000, 1_000_000]
REPEAT = 20
COMMON_FIRST_NAME = "Иван"

# Keys per contact g (see the module docstring); digests as hotline.desk.search.digest makes them.
_KEYS = """
INSERT INTO hotline_contactsearchkey (contact_id, kind, digest)
SELECT g, kind, encode(hmac('search:' || kind || ':' || value, %(key)s, 'sha256'), 'hex')
FROM generate_series(1, %(n)s) AS g
CROSS JOIN LATERAL (VALUES
    ('name', CASE WHEN g %% 20 = 0 THEN 'иван' ELSE 'имя' || (g %% 997) END),
    ('name', CASE WHEN g %% 2 = 0 THEN 'фам' || ((g::bigint * 7919) %% (%(n)s / 4 + 1)) END),
    ('username', CASE WHEN g %% 2 = 1 THEN 'user' || g END),
    ('phone', CASE WHEN g %% 10 = 3 THEN '9' || lpad(g::text, 8, '0') END)
) AS k(kind, value)
WHERE value IS NOT NULL
"""


def _expected_keys(n: int) -> int:
    return n + n // 2 + (n + 1) // 2 + (n + 7) // 10


def ensure_keys(n: int) -> None:
    """Write the dataset's search keys unless they are there (one statement, then ANALYZE)."""
    from django.conf import settings
    from django.db import connection

    from hotline.models import ContactSearchKey

    if ContactSearchKey.objects.count() == _expected_keys(n):
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
        cursor.execute("TRUNCATE hotline_contactsearchkey")
        cursor.execute(_KEYS, {"n": n, "key": settings.CONTACT_LOOKUP_KEY})
        cursor.execute("VACUUM ANALYZE hotline_contactsearchkey")
    print(f"search_keys_seconds_{n} {time.perf_counter() - started:.1f} s", flush=True)


def _queries(n: int) -> dict[str, str]:
    """One query per kind, each matching contacts of the dataset."""
    rare = 2 * 4  # an even contact: it has a surname
    surname = (rare * 7919) % (n // 4 + 1)
    phone_contact = (n // 2) // 10 * 10 + 3
    digits = "9" + str(phone_contact).rjust(8, "0")
    return {
        "surname": f"Фам{surname}",
        "first_name": COMMON_FIRST_NAME,
        "username": f"@User{n // 2 + 1 if (n // 2) % 2 == 0 else n // 2}",
        "phone": f"+7 ({digits[:3]}) {digits[3:6]}-{digits[6:]}",
    }


def _session_cookie(username: str) -> str:
    from django.contrib.auth.models import User

    from operators.models import OperatorProfile

    user = User.objects.get(username=username)
    OperatorProfile.objects.filter(user=user).update(ui_language="en")
    return measure.session_cookie(user)


def _timed_http(port: int, cookie: str, text: str, repeat: int) -> tuple[list[float], int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": f"sessionid={cookie}", "Host": "localhost"}
    path = "/search/?" + urlencode({"q": text})
    millis: list[float] = []
    try:
        for attempt in range(repeat + 1):
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}: {body[-300:]!r}")
            if attempt:
                millis.append((time.perf_counter() - started) * 1000)
    finally:
        conn.close()
    return millis, body.decode().count('<th scope="row"><a href="/cases/')


def _statements(username: str, text: str) -> int:
    from django.test import Client

    from bench.pages import client_for

    client: Client = client_for(username)
    _, counts = measure.timed(lambda: client.get("/search/", {"q": text}), repeat=1)
    return counts[0]


def _service_times(n: int, queries: dict[str, str], repeat: int) -> dict[str, float]:
    """The search alone (hotline.desk.search.search_cases, in process, as a supervisor): the
    page's time less the stack's and the header's."""
    from django.contrib.auth.models import User

    from hotline.desk.search import search_cases

    supervisor = User.objects.get(username="bench-op-000")
    figures = {}
    for kind, text in queries.items():
        millis, _ = measure.timed(lambda text=text: search_cases(actor=supervisor, text=text), repeat=repeat)
        figures[f"search_service_{kind}_ms_{n}_p50"] = statistics.median(millis)
        print(f"search_service_{kind}_ms_{n}_p50 {statistics.median(millis):.1f} ms", flush=True)
    return figures


def run(n: int, *, repeat: int = REPEAT) -> dict[str, float]:
    import redis

    generate.ensure(n)
    ensure_keys(n)
    queries = _queries(n)
    redis_url = os.environ.get("BENCH_REDIS_URL", generate.DEFAULT_REDIS_URL)
    log = Path(os.environ.get("BENCH_LOG_DIR", "/tmp")) / "hotline-bench-search.log"  # noqa: S108
    supervisor, operator = _session_cookie("bench-op-000"), _session_cookie("bench-op-001")
    figures: dict[str, float] = {}
    server = intake.Server(redis_url, log)
    try:
        server.wait_ready()
        for who, cookie in (("", supervisor), ("op_", operator)):
            for kind, text in queries.items():
                millis, rows = _timed_http(server.port, cookie, text, repeat)
                name = f"search_{who}{kind}_ms_{n}"
                figures[f"{name}_p50"] = statistics.median(millis)
                figures[f"{name}_p95"] = measure.percentile(millis, 0.95)
                print(f"{name}_p50 {figures[f'{name}_p50']:.1f} ms", flush=True)
                print(f"{name}_p95 {figures[f'{name}_p95']:.1f} ms", flush=True)
                if not who:
                    figures[f"search_results_{kind}_{n}"] = rows
                    print(f"search_results_{kind}_{n} {rows} count", flush=True)
    finally:
        server.stop()
        redis.Redis.from_url(redis_url).flushdb()
    figures |= _service_times(n, queries, repeat)
    figures[f"search_queries_{n}"] = _statements("bench-op-000", queries["first_name"])
    print(f"search_queries_{n} {figures[f'search_queries_{n}']} count", flush=True)
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
