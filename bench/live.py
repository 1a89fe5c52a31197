"""The cost of live pages: PAGES open case pages polling the server, as browsers would.

Each open page asks `GET /cases/<id>/live/?v=&t=` every second and `GET /live/desk/?v=&since=`
every four (hotline/desk/views/live.py), from its own thread and connection, against gunicorn
(4 sync workers, bench.settings, PostgreSQL, Redis for the live cache) on loopback. The pages
belong to the benchmark's operators (up to three tabs each, cases they own), signed in with sessions.

Two phases of --seconds each:
    idle   nothing changes: every poll is the 204 read from the cache
    busy   CHANGES_PER_S cases among the open ones change each second (their versions and the
           desk's are bumped, as a write's after-commit hook does): the changed pages re-render
           their case (head, conversation, path, timeline) and every page's next desk poll its
           header counts

Prints per phase: requests/s served, the server's CPU (seconds of CPU per second of wall time,
in % of one core, gunicorn's master and workers), poll latency p50/p95 and the share of 204s;
then the statements of each poll (in process, the whole middleware stack):
    live_<phase>_requests_per_s, live_<phase>_server_cpu_percent, live_<phase>_poll_ms_p50 / _p95,
    live_<phase>_unchanged_share, live_case_poll_queries_unchanged / _changed,
    live_desk_poll_queries_unchanged / _changed

    python bench/live.py [--pages 100] [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import threading
import time
from pathlib import Path

try:
    from bench import generate, intake, measure
except ImportError:  # run as a script
    import generate  # type: ignore[no-redef]
    import intake  # type: ignore[no-redef]
    import measure  # type: ignore[no-redef]

PAGES = 100
SECONDS = 20.0
CASE_EVERY = 1.0
DESK_EVERY = 4.0
CHANGES_PER_S = 5
DEFAULT_SIZE = 10_000


def _cpu_seconds(root: int) -> float:
    """User + system CPU of a process and its descendants, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        stats[int(entry)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += (int(stats[pid][11]) + int(stats[pid][12])) / ticks
        todo.extend(children.get(pid, []))
    return total


class Page(threading.Thread):
    """One open case page: polls on the browser's schedule, follows the versions it is given."""

    def __init__(self, port: int, cookie: str, case_url: str, desk_url: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.cookie, self.case_url, self.desk_url, self.stop = port, cookie, case_url, desk_url, stop
        self.millis: list[float] = []
        self.unchanged = 0
        self.errors = 0

    def _get(self, conn: http.client.HTTPConnection, url: str) -> tuple[int, str]:
        started = time.perf_counter()
        conn.request("GET", url, headers={
            "Cookie": f"sessionid={self.cookie}", "Host": "localhost", "HX-Request": "true",
            "X-Background-Refresh": "1",
        })
        response = conn.getresponse()
        body = response.read().decode()
        self.millis.append((time.perf_counter() - started) * 1000)
        if response.status == 204:
            self.unchanged += 1
        elif response.status != 200:
            self.errors += 1
        return response.status, body

    @staticmethod
    def _next_url(body: str, element: str, current: str) -> str:
        marker = f'id="{element}"'
        at = body.find(marker)
        if at == -1:
            return current
        start = body.find('hx-get="', at) + len('hx-get="')
        return body[start:body.find('"', start)].replace("&amp;", "&")

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        next_case = time.monotonic() + random.random() * CASE_EVERY
        next_desk = time.monotonic() + random.random() * DESK_EVERY
        while not self.stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_case:
                    status, body = self._get(conn, self.case_url)
                    if status == 200:
                        self.case_url = self._next_url(body, "case-live", self.case_url)
                    next_case += CASE_EVERY
                if now >= next_desk:
                    status, body = self._get(conn, self.desk_url)
                    if status == 200:
                        self.desk_url = self._next_url(body, "desk-live", self.desk_url)
                    next_desk += DESK_EVERY
            except (OSError, http.client.HTTPException):
                self.errors += 1
                conn.close()
            self.stop.wait(max(0.0, min(next_case, next_desk) - time.monotonic()))
        conn.close()


def _pages(count: int) -> list[tuple[str, str, str, int]]:
    """(session cookie, case poll URL, desk poll URL, case id) for `count` open pages: up to three tabs
    per benchmark operator (as many operators as it takes), each on a case they own."""
    from django.contrib.auth.models import User
    from django.urls import reverse

    from hotline.desk import live
    from hotline.desk.views.case import live_ticket
    from hotline.models import Case

    pages = []
    operators = User.objects.filter(username__startswith="bench-op-").exclude(username="bench-op-000").order_by("pk")
    for user in operators:
        if len(pages) >= count:
            break
        cookie = measure.session_cookie(user)
        for case_id in Case.objects.filter(owner=user, closed_at__isnull=True).order_by("pk").values_list(
                "pk", flat=True)[:min(3, count - len(pages))]:
            case_url = (f"{reverse('case_live', args=[case_id])}?v={live.case_version(case_id)}"
                        f"&t={live_ticket(user.pk, case_id)}")
            desk_url = f"{reverse('desk_live')}?v={live.desk_version()}&since={time.time():.3f}"
            pages.append((cookie, case_url, desk_url, case_id))
    return pages[:count]


def _phase(name: str, port: int, server_pid: int, pages: list, seconds: float, changes_per_s: int) -> dict[str, float]:
    from hotline.desk import live

    stop = threading.Event()
    threads = [Page(port, cookie, case_url, desk_url, stop) for cookie, case_url, desk_url, _ in pages]
    case_ids = [case_id for *_, case_id in pages]
    for thread in threads:
        thread.start()
    time.sleep(2.0)  # every page has polled once: the versions they hold are current
    for thread in threads:
        thread.millis.clear()
        thread.unchanged = 0
    cpu_before, started = _cpu_seconds(server_pid), time.perf_counter()
    while time.perf_counter() - started < seconds:
        tick = time.perf_counter()
        if changes_per_s:
            live.bump_now(random.sample(case_ids, min(changes_per_s, len(case_ids))))
        time.sleep(max(0.0, 1.0 - (time.perf_counter() - tick)))
    wall = time.perf_counter() - started
    cpu = _cpu_seconds(server_pid) - cpu_before
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    millis = [m for thread in threads for m in thread.millis]
    requests = len(millis)
    figures = {
        f"live_{name}_requests_per_s": requests / wall,
        f"live_{name}_server_cpu_percent": 100 * cpu / wall,
        f"live_{name}_poll_ms_p50": statistics.median(millis) if millis else 0.0,
        f"live_{name}_poll_ms_p95": measure.percentile(millis, 0.95) if millis else 0.0,
        f"live_{name}_unchanged_share": sum(t.unchanged for t in threads) / max(requests, 1),
        f"live_{name}_errors": sum(t.errors for t in threads),
    }
    units = {"requests_per_s": "requests/s", "cpu_percent": "%", "_p50": "ms", "_p95": "ms", "share": "ratio",
             "errors": "count"}
    for key, value in figures.items():
        unit = next(u for suffix, u in units.items() if key.endswith(suffix))
        print(f"{key} {value:.2f} {unit}" if unit == "ratio" else f"{key} {value:.1f} {unit}", flush=True)
    return figures


def _statements() -> dict[str, float]:
    """Statements per poll through the whole stack, in process: unchanged and changed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from bench.pages import client_for
    from hotline.desk import live
    from hotline.desk.views.case import live_ticket
    from hotline.models import Case

    client = client_for("bench-op-001")
    case = Case.objects.filter(owner__username="bench-op-001", closed_at__isnull=True).order_by("pk").first()
    headers = {"HTTP_X_BACKGROUND_REFRESH": "1", "HTTP_HX_REQUEST": "true"}

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(url, **headers)
        return sum(1 for q in captured.captured_queries if q["sql"] not in ("BEGIN", "COMMIT"))

    ticket = live_ticket(case.owner_id, case.pk)
    case_url = reverse("case_live", args=[case.pk])
    desk_url = reverse("desk_live")
    figures = {
        "live_case_poll_queries_unchanged": count(f"{case_url}?v={live.case_version(case.pk)}&t={ticket}"),
        "live_case_poll_queries_changed": count(f"{case_url}?v=stale&t={ticket}"),
        "live_desk_poll_queries_unchanged": count(f"{desk_url}?v={live.desk_version()}&since=0"),
        "live_desk_poll_queries_changed": count(f"{desk_url}?v=stale&since={time.time():.3f}"),
    }
    for key, value in figures.items():
        print(f"{key} {value} count", flush=True)
    return figures


def run(n: int | None = None, *, pages: int = PAGES, seconds: float = SECONDS) -> dict[str, float]:
    import redis

    if n is not None:
        generate.ensure(n)
    redis_url = os.environ.get("BENCH_REDIS_URL", generate.DEFAULT_REDIS_URL)
    open_pages = _pages(pages)
    print(f"live_pages {len(open_pages)} count", flush=True)
    log = Path(os.environ.get("BENCH_LOG_DIR", "/tmp")) / "hotline-bench-live.log"  # noqa: S108
    server = intake.Server(redis_url, log)
    figures: dict[str, float] = {}
    try:
        server.wait_ready()
        figures |= _phase("idle", server.port, server.process.pid, open_pages, seconds, 0)
        figures |= _phase("busy", server.port, server.process.pid, open_pages, seconds, CHANGES_PER_S)
    finally:
        server.stop()
        redis.Redis.from_url(redis_url).flushdb()
    figures |= _statements()
    return figures


def main(size: int, *, pages: int = PAGES, seconds: float = SECONDS) -> None:
    generate.setup_django()
    run(size, pages=pages, seconds=seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=None, help="load this many cases first (default: as is)")
    parser.add_argument("--pages", type=int, default=PAGES)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    main(args.size, pages=args.pages, seconds=args.seconds)
