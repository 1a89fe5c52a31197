"""Telegram intake throughput: updates per second through POST /telegram/webhook/ under
gunicorn (4 sync workers) on PostgreSQL, against a bare view on the same stack that only
parses the body and inserts one row (bench/bare.py).

The load generator runs here, on loopback only: THREADS threads with one keep-alive
connection each post a fixed number of updates (bounded in time too). Every update has a
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
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

try:
    from bench import generate
except ImportError:  # run as a script
    import generate  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
PORTS = range(8400, 8500)
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


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("No free port in 8400-8499.")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


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
        _stop(worker)
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
        _stop(self.process)


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
    """Post `count` updates from `threads` keep-alive connections; (updates per second, errors)."""
    remaining = itertools.count()
    errors = [0]
    deadline = time.monotonic() + TIME_LIMIT_S
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while next(remaining) < count and time.monotonic() < deadline:
                conn.request("POST", path, body=_update(chats), headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
        finally:
            conn.close()

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


def main(sizes: list[int] | None = None, *, count: int = COUNT, rounds: int = ROUNDS) -> None:
    """Runs on whatever dataset the database holds (sizes are ignored: intake does not read it)."""
    generate.setup_django()
    run(count=count, rounds=rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=COUNT, help="updates per round and endpoint")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    main(count=args.count, rounds=args.rounds)
