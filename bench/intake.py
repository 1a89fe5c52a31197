"""Telegram intake throughput: updates per second through POST /telegram/webhook/ under
gunicorn (4 sync workers) on PostgreSQL, against a bare view on the same stack that only
parses the body and inserts one row (bench/bare.py).

The load generator runs here, on loopback only: THREADS threads, one connection per POST
(bench.intake.post), post a fixed number of updates (bounded in time too). Every update has a
unique update_id; it is a text message from one of count/4 private chats, so a quarter of
the updates open a case (and queue the acknowledgement for delivery) and the rest join one.
The webhook stores each update and wakes a worker (hotline/intake/telegram/inbox.py); no worker
runs while the webhook is measured, so both endpoints have the machine to themselves. Then
a real Celery worker (2 processes, the intake queue only) applies the stored backlog: its
rate is how fast requests reach the desk's queue. Tasks go to the real Redis (REDIS_URL,
default redis://127.0.0.1:6379/13), flushed afterwards; the acknowledgements the worker
queues are never delivered.

Prints (median of --rounds rounds, each round measuring both endpoints):
    intake_updates_per_s, bare_insert_per_s, intake_ratio (intake / bare; target >= 0.5),
    intake_errors (non-200 answers; must be 0),
    intake_applied_per_s (stored updates applied to cases by one worker with 2 processes)

    python bench/intake.py [--count 2000] [--rounds 3]

With --e2e (what a person waits for), gunicorn and the worker run together, as in production,
on the same cores as PostgreSQL, and every update is timed until it is applied (its case and
message committed). A quarter of the updates come from chats never seen before (new chats
every round), the rest from chats that already have a case. Prints:
    intake_bare_per_s          the bare-insert view, same server, same run (worker idle): --count
                               updates as fast as 16 connections go, before each round below
                               (median of --rounds)
    intake_e2e_per_s           --count updates posted as fast as 16 connections go, divided by
                               the time from the first POST until the last is applied (median
                               of --rounds)
    intake_e2e_ratio           intake_e2e_per_s / intake_bare_per_s (target >= 0.5, or >= 500/s)
    intake_e2e_p50_ms_at_200   200 updates/s offered for --paced-seconds: from each POST to its
    intake_e2e_p95_ms_at_200   batch's commit (processed_at, stamped just before COMMIT); p95 < 1 s
    intake_e2e_offered_per_s   the rate the paced run achieved (200 unless the webhook fell behind)
    intake_burst_10000_s       --burst updates posted at once: seconds until all are applied (< 30)
    intake_e2e_errors          non-200 answers (must be 0)

    python bench/intake.py --e2e [--count 3000] [--rounds 3] [--burst 10000] [--paced-seconds 15]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

try:
    from bench import generate
    from bench.measure import free_port, stop_process
except ImportError:  # run as a script
    import generate  # type: ignore[no-redef]
    from measure import free_port, stop_process  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
THREADS = 16
COUNT = 2000
ROUNDS = 3
TIME_LIMIT_S = 120.0
SECRET = "bench-webhook-secret"
BOT_TOKEN = "700000001:BENCH-token"
# Far above any id the dataset or a test uses, so a benchmark never meets a stored update.
FIRST_UPDATE_ID = 9_000_000_000
FIRST_CHAT_ID = 8_000_000_000


def apply_rate(redis_url: str, log: Path, *, limit_s: float = TIME_LIMIT_S) -> float:
    """Updates applied per second by a real worker (`-Q intake`, 2 processes) draining the
    stored backlog, timed from when it is ready until the inbox is empty."""
    from hotline.celery import app
    from hotline.models import TelegramUpdate

    pending = TelegramUpdate.objects.filter(processed_at__isnull=True)
    backlog = pending.count()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "bench.settings", "REDIS_URL": redis_url, "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_URL": "http://127.0.0.1:9", "AUTO_ASSIGN": "false",
    }
    celery = Path(sys.executable).with_name("celery")
    worker = subprocess.Popen(  # noqa: S603 - our own command line
        [str(celery), "-A", "hotline", "worker", "-Q", "intake", "--concurrency=2", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname=bench-intake@%h"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text(errors="replace"):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        started = time.perf_counter()
        with app.connection_for_write(redis_url) as conn:
            for _ in range(2):  # one drain per process; they share the rows (SKIP LOCKED)
                app.send_task("hotline.tasks.telegram_process_updates_task", connection=conn, queue="intake")
        left = backlog
        while left and time.perf_counter() - started < limit_s:
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
            left = pending.count()
        seconds = time.perf_counter() - started
    finally:
        stop_process(worker)
        pending.delete()  # benchmark updates left by a time-limited drain: not worth keeping
    return (backlog - left) / seconds


class Server:
    """gunicorn serving the product (bench.settings) on a loopback port; always stopped."""

    def __init__(self, redis_url: str, log: Path) -> None:
        self.port = free_port()
        self.log = log
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "bench.settings", "REDIS_URL": redis_url, "DEBUG": "false",
            "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_API_URL": "http://127.0.0.1:9",  # nothing is delivered during the benchmark
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            [str(gunicorn), "hotline.wsgi:application", "--workers", str(WORKERS), "--bind",
             f"127.0.0.1:{self.port}", "--chdir", str(ROOT), "--log-level", "warning"],
            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start listening in time.")

    def stop(self) -> None:
        stop_process(self.process)


def post(port: int, path: str, body: bytes) -> int:
    """POST one body on a connection of its own, as nginx does to gunicorn's sync workers
    (which close after each answer); returns the status. Raw HTTP/1.1 rather than http.client:
    the load generator shares the two cores with what it measures, and with http.client it
    used 4.0 of a 10,000-update burst's ~45 CPU-seconds, 2.2 this way (docs/notes/perf-intake.md)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head + body)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    if not answer.startswith(b"HTTP/1.1 ") or b"\r\n\r\n" not in answer:
        return 0
    return int(answer[9:12])


_update_ids = itertools.count(FIRST_UPDATE_ID + int(time.time()) % 1_000_000 * 1000)
_id_lock = threading.Lock()


def _update(chats: int) -> bytes:
    with _id_lock:
        update_id = next(_update_ids)
    chat_id = FIRST_CHAT_ID + update_id % chats
    message = {
        "message_id": update_id % 1_000_000, "date": int(time.time()),
        "from": {"id": chat_id, "is_bot": False, "first_name": "Bench", "language_code": "ru"},
        "chat": {"id": chat_id, "type": "private", "first_name": "Bench"}, "text": "bench request",
    }
    return json.dumps({"update_id": update_id, "message": message}).encode()


def blast(port: int, path: str, count: int, *, chats: int, threads: int = THREADS) -> tuple[float, int]:
    """Post `count` updates from `threads` threads; (updates per second, errors)."""
    remaining = itertools.count()
    errors = [0]
    deadline = time.monotonic() + TIME_LIMIT_S

    def worker() -> None:
        while next(remaining) < count and time.monotonic() < deadline:
            if post(port, path, _update(chats)) != 200:
                errors[0] += 1

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    seconds = time.perf_counter() - started
    done = min(next(remaining) - threads, count)
    return done / seconds, errors[0]


def run(*, count: int = COUNT, rounds: int = ROUNDS, redis_url: str | None = None) -> dict[str, float]:
    import redis
    from django.db import connection

    from bench import bare

    redis_url = redis_url or os.environ.get("BENCH_REDIS_URL", generate.DEFAULT_REDIS_URL)
    with connection.cursor() as cursor:
        cursor.execute(bare.CREATE)
    connection.close()
    log = Path(os.environ.get("BENCH_LOG_DIR", "/tmp")) / "hotline-bench-gunicorn.log"  # noqa: S108
    server = Server(redis_url, log)
    intake, baseline, errors, applied = [], [], 0, 0.0
    try:
        server.wait_ready()
        chats = max(count // 4, 1)
        for path in ("/telegram/webhook/", "/bench/bare-insert/"):  # warm every worker up
            blast(server.port, path, 8 * WORKERS, chats=chats)
        for _ in range(rounds):
            rate, failed = blast(server.port, "/bench/bare-insert/", count, chats=chats)
            baseline.append(rate)
            errors += failed
            rate, failed = blast(server.port, "/telegram/webhook/", count, chats=chats)
            intake.append(rate)
            errors += failed
        server.stop()
        applied = apply_rate(redis_url, log.with_name("hotline-bench-worker.log"))
    finally:
        server.stop()
        redis.Redis.from_url(redis_url).flushdb()
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {bare.TABLE}")
    figures = {
        "intake_updates_per_s": statistics.median(intake), "bare_insert_per_s": statistics.median(baseline),
    }
    figures["intake_ratio"] = figures["intake_updates_per_s"] / figures["bare_insert_per_s"]
    figures["intake_errors"] = errors
    figures["intake_applied_per_s"] = applied
    print(f"intake_updates_per_s {figures['intake_updates_per_s']:.0f} updates/s", flush=True)
    print(f"bare_insert_per_s {figures['bare_insert_per_s']:.0f} requests/s", flush=True)
    print(f"intake_ratio {figures['intake_ratio']:.2f} ratio", flush=True)
    print(f"intake_errors {errors} count", flush=True)
    print(f"intake_applied_per_s {applied:.0f} updates/s", flush=True)
    return figures


# --- end to end: webhook and worker together ---------------------------------------------------

E2E_COUNT = 3000
BURST = 10_000
PACED_RATE = 200
PACED_SECONDS = 15.0
NEW_CHAT_SHARE = 4  # one update in four opens a case


class Worker:
    """A real Celery worker on the intake queue (prefork, 2 processes), as production runs it."""

    def __init__(self, redis_url: str, log: Path) -> None:
        self.log = log
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "bench.settings", "REDIS_URL": redis_url, "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_API_URL": "http://127.0.0.1:9", "AUTO_ASSIGN": "false",
        }
        celery = Path(sys.executable).with_name("celery")
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            [str(celery), "-A", "hotline", "worker", "-Q", "intake", "--concurrency=2", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname=bench-e2e@%h"],
            cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while " ready." not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        stop_process(self.process)


class Traffic:
    """Updates as a surge brings them: one in NEW_CHAT_SHARE from a chat never seen before, the
    others from chats that already wrote (a case is open), chosen at random."""

    def __init__(self, first_update_id: int, first_chat_id: int, known: list[int] | None = None) -> None:
        self.update_ids = itertools.count(first_update_id)
        self.new_chats = itertools.count(first_chat_id)
        self.known: list[int] = list(known or [])
        self.random = random.Random(18)
        self.lock = threading.Lock()

    def next(self) -> tuple[int, bytes]:
        with self.lock:
            update_id = next(self.update_ids)
            if not self.known or update_id % NEW_CHAT_SHARE == 0:
                chat_id = next(self.new_chats)
                self.known.append(chat_id)
            else:
                chat_id = self.random.choice(self.known)
        message = {
            "message_id": update_id % 1_000_000, "date": int(time.time()),
            "from": {"id": chat_id, "is_bot": False, "first_name": "Bench", "language_code": "ru"},
            "chat": {"id": chat_id, "type": "private", "first_name": "Bench"}, "text": "bench request",
        }
        return update_id, json.dumps({"update_id": update_id, "message": message}).encode()


def post_many(
    port: int, path: str, count: int, body: Any, *, threads: int = THREADS, rate: float | None = None,
) -> tuple[float, int, dict[int, float]]:
    """Post `count` bodies (`body()` -> (update_id, bytes)) from `threads` threads,
    as fast as they go or, with `rate`, each at its scheduled time (an open loop: a late answer
    does not slow the offer down). Returns (seconds, errors, wall-clock time of each POST)."""
    numbers = itertools.count()
    errors = [0]
    sent: dict[int, float] = {}
    started = time.perf_counter()
    deadline = time.monotonic() + TIME_LIMIT_S

    def worker() -> None:
        while (n := next(numbers)) < count and time.monotonic() < deadline:
            if rate is not None:
                wait = started + n / rate - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            update_id, payload = body()
            sent[update_id] = time.time()
            if post(port, path, payload) != 200:
                errors[0] += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started, errors[0], sent


def wait_applied(limit_s: float = TIME_LIMIT_S) -> float:
    """Block until no stored update waits; returns time.perf_counter() when none did."""
    from hotline.models import TelegramUpdate

    pending = TelegramUpdate.objects.filter(processed_at__isnull=True)
    deadline = time.monotonic() + limit_s
    while pending.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{pending.count()} updates still not applied after {limit_s:.0f} s")
        time.sleep(0.02)
    return time.perf_counter()


def applied_latencies(sent: dict[int, float]) -> list[float]:
    """Milliseconds from each POST to the commit of the batch that applied it."""
    from hotline.models import TelegramUpdate

    applied = TelegramUpdate.objects.filter(update_id__in=list(sent)).values_list("update_id", "processed_at")
    return [(at.timestamp() - sent[update_id]) * 1000 for update_id, at in applied if at is not None]


def run_e2e(
    *, count: int = E2E_COUNT, rounds: int = ROUNDS, burst: int = BURST, paced_seconds: float = PACED_SECONDS,
    redis_url: str | None = None,
) -> dict[str, float]:
    import redis
    from django.db import connection
    from django.db.models import Max

    from bench import bare
    from bench.measure import percentile
    from hotline.models import TelegramUpdate

    redis_url = redis_url or os.environ.get("BENCH_REDIS_URL", generate.DEFAULT_REDIS_URL)
    with connection.cursor() as cursor:
        cursor.execute(bare.CREATE)
    stored_max = TelegramUpdate.objects.aggregate(m=Max("update_id"))["m"] or 0
    traffic = Traffic(max(stored_max + 1, FIRST_UPDATE_ID), FIRST_CHAT_ID + int(time.time()) * 1000)
    connection.close()
    log_dir = Path(os.environ.get("BENCH_LOG_DIR", "/tmp"))  # noqa: S108
    server = Server(redis_url, log_dir / "hotline-bench-gunicorn.log")
    worker = Worker(redis_url, log_dir / "hotline-bench-worker.log")
    figures: dict[str, float] = {}
    errors = 0
    try:
        server.wait_ready()
        worker.wait_ready()
        warmup = max(min(count // 10, 200), 8 * WORKERS)
        post_many(server.port, "/bench/bare-insert/", 8 * WORKERS, traffic.next)
        errors += post_many(server.port, "/telegram/webhook/", warmup, traffic.next)[1]  # also: chats to join
        wait_applied()
        bare_rates, rates = [], []
        for _ in range(rounds):  # a bare round, then an end-to-end one: both see the same machine
            seconds, failed, _ = post_many(server.port, "/bench/bare-insert/", count, traffic.next)
            bare_rates.append(count / seconds)
            errors += failed
            started = time.perf_counter()
            _, failed, _ = post_many(server.port, "/telegram/webhook/", count, traffic.next)
            errors += failed
            rates.append(count / (wait_applied() - started))
        figures["intake_bare_per_s"] = statistics.median(bare_rates)
        figures["intake_e2e_per_s"] = statistics.median(rates)
        figures["intake_e2e_ratio"] = figures["intake_e2e_per_s"] / figures["intake_bare_per_s"]
        paced = max(int(PACED_RATE * paced_seconds), 1)
        seconds, failed, sent = post_many(
            server.port, "/telegram/webhook/", paced, traffic.next, threads=8, rate=PACED_RATE,
        )
        figures["intake_e2e_offered_per_s"] = paced / seconds  # below 200: the webhook itself could not keep up
        errors += failed
        wait_applied()
        latencies = applied_latencies(sent)
        figures["intake_e2e_p50_ms_at_200"] = percentile(latencies, 0.5)
        figures["intake_e2e_p95_ms_at_200"] = percentile(latencies, 0.95)
        started = time.perf_counter()
        _, failed, _ = post_many(server.port, "/telegram/webhook/", burst, traffic.next)
        errors += failed
        figures["intake_burst_s"] = wait_applied(limit_s=300) - started
    finally:
        worker.stop()
        server.stop()
        redis.Redis.from_url(redis_url).flushdb()
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {bare.TABLE}")
    figures["intake_e2e_errors"] = errors
    print(f"intake_bare_per_s {figures['intake_bare_per_s']:.0f} requests/s", flush=True)
    print(f"intake_e2e_per_s {figures['intake_e2e_per_s']:.0f} updates/s", flush=True)
    print(f"intake_e2e_ratio {figures['intake_e2e_ratio']:.2f} ratio", flush=True)
    print(f"intake_e2e_offered_per_s {figures['intake_e2e_offered_per_s']:.0f} updates/s", flush=True)
    print(f"intake_e2e_p50_ms_at_200 {figures['intake_e2e_p50_ms_at_200']:.0f} ms", flush=True)
    print(f"intake_e2e_p95_ms_at_200 {figures['intake_e2e_p95_ms_at_200']:.0f} ms", flush=True)
    print(f"intake_burst_{burst}_s {figures['intake_burst_s']:.1f} s", flush=True)
    print(f"intake_e2e_errors {errors} count", flush=True)
    return figures


def main(
    sizes: list[int] | None = None, *, count: int = COUNT, rounds: int = ROUNDS, e2e: bool = False,
    burst: int = BURST, paced_seconds: float = PACED_SECONDS,
) -> None:
    """Runs on whatever dataset the database holds (sizes are ignored: intake does not read it)."""
    generate.setup_django()
    if e2e:
        run_e2e(count=count, rounds=rounds, burst=burst, paced_seconds=paced_seconds)
    else:
        run(count=count, rounds=rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=None, help="updates per round and endpoint")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--e2e", action="store_true", help="webhook and worker together, timed until applied")
    parser.add_argument("--burst", type=int, default=BURST, help="--e2e: updates of the burst")
    parser.add_argument("--paced-seconds", type=float, default=PACED_SECONDS, help="--e2e: seconds at 200/s")
    args = parser.parse_args()
    main(count=args.count or (E2E_COUNT if args.e2e else COUNT), rounds=args.rounds, e2e=args.e2e,
         burst=args.burst, paced_seconds=args.paced_seconds)
