#!/usr/bin/env python
"""The scaled-out run: two web servers, two workers and two beats on one PostgreSQL database
and one Redis, under thousands of concurrent intake requests while operators work cases.

    python tests/scale/run.py                      # 2,000 updates + 500 API requests
    python tests/scale/run.py --updates 20000 --api 5000 --chaos

It starts everything itself on loopback: its own database (created and dropped), its own
redis-server on a private port, the fake Bot API (tests/fake_bot_api.py), two gunicorn
servers (2 workers each), two Celery workers and two `celery beat` (the design says two
beats are harmless: this run proves it for the SLA sweep, auto-assignment and delivery
recovery). Operators are threads calling the service layer (logins need a second factor).

--chaos also kills one worker (SIGKILL, with its children) and restarts Redis without its
data mid-run. The worker is killed inside the one window of at-least-once delivery: the fake
Bot API has accepted one of its sendMessage calls (the person has the message) and holds the
answer, so the worker dies before recording it; the message is sent again after its claim
expires, and the run counts that duplicate (`at_least_once_resends`, 1, at most the killed
worker's concurrency). `send_window_*_ms` measure that window in every run: from Telegram's
acceptance to our UPDATE recording it. Then it drains and checks: every well-formed request stored exactly once,
no case with two owners, no capacity exceeded, one overdue event per case and wait, every
outbound message delivered to the fake Bot API once (a re-send after a killed sender is
reported as at-least-once), nothing left queued in the database or Redis, no task failure
in the logs. It prints `name value unit` lines and exits non-zero if a check failed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import itertools
import json
import logging
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests import telegram  # noqa: E402 - after the path is set
from tests.fake_bot_api import FakeBotApi  # noqa: E402
from tests.processes import free_port  # noqa: E402

WEB_PORTS = range(8500, 8600)
REDIS_PORTS = range(6391, 6400)
SECRET = "scale-run-webhook-secret"
BOT_TOKEN = "123456789:SCALE-token-abc"
CAPACITY = 5
SLA_HOURS = 0.001  # 3.6 s
WORKER1_PREFIX = "/worker1"
WORKER_CONCURRENCY = 2  # worker 1's calls to the fake Bot API, told apart by their path
SWEEP_SECONDS = 1


# --- processes ------------------------------------------------------------------------------


class Proc:
    """A process in its own session, so it and its children are stopped together."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log_path = logs / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> Proc:
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(  # noqa: S603 - our own command line
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the process and its children: a crashed host, no goodbye."""
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        """A warm shutdown: the leader (gunicorn master, Celery's main process) stops its children."""
        if not self.alive():
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


def wait_for(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


class ScaleBotApi(FakeBotApi):
    """The fake Bot API on this run's ports, remembering what each sendMessage returned.

    Worker 1 calls it under the path prefix WORKER1_PREFIX. Once `hold_worker1` is set, the next
    sendMessage from worker 1 is accepted (recorded as sent, as Telegram would have) and its
    answer held back until `release` is set: `caught` tells the run to kill that worker now."""

    def __init__(self, port: int) -> None:
        super().__init__(token=BOT_TOKEN, ports=range(port, port + 1))
        self.sent: dict[int, tuple[str, str]] = {}  # Telegram message_id -> (chat_id, text)
        self.accepted_at: dict[int, float] = {}  # Telegram message_id -> when it was accepted (epoch)
        self.hold_worker1 = threading.Event()
        self.caught = threading.Event()
        self.release = threading.Event()

    def answer(self, path: str, payload: dict[str, Any]) -> tuple[int, Any]:
        from_worker1 = path.startswith(WORKER1_PREFIX + "/")
        path = path.removeprefix(WORKER1_PREFIX)
        status, body = super().answer(path, payload)
        if path.endswith("/sendMessage") and status == 200:
            with self._lock:
                self.sent[body["result"]["message_id"]] = (str(payload["chat_id"]), payload["text"])
                self.accepted_at[body["result"]["message_id"]] = time.time()
                hold = from_worker1 and self.hold_worker1.is_set() and not self.caught.is_set()
                if hold:
                    self.caught.set()
            if hold:  # accepted: the person has it; the sender never hears so
                self.release.wait(120)
        return status, body


# --- what is sent ---------------------------------------------------------------------------


@dataclass
class Job:
    """One logical request: sent once, or twice at the same moment to both servers."""

    kind: str
    path: str
    body: bytes
    headers: dict[str, str]
    expect: set[int]
    pair: bool = False
    update_id: int | None = None
    date: int | None = None
    key: str | None = None  # Idempotency-Key
    text: str = ""
    answers: list[tuple[int, Any]] = field(default_factory=list)


def _tg_headers(secret: str | None = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", **telegram.headers(secret)}


def _person(chat_id: int, language: str) -> dict[str, Any]:
    return telegram.person(chat_id, last_name=None, language_code=language)


def telegram_jobs(total: int, rng: random.Random, update_ids: itertools.count) -> list[Job]:
    """About `total` HTTP requests: text messages, simultaneous duplicates to both servers,
    malformed bodies, wrong or missing secrets."""
    contacts = [(900_000_000 + n, rng.choice(["ru", "uk"])) for n in range(max(20, total // 8))]
    jobs: list[Job] = []
    sent = 0
    while sent < total:
        roll = rng.random()
        chat_id, language = rng.choice(contacts)
        uid, date = next(update_ids), int(time.time())
        text = f"Хочу сдаться {uuid.uuid4().hex[:8]}"
        update = telegram.message_update(chat_id, update_id=uid, message_id=uid % 1_000_000, date=date, text=text,
                                         sender=_person(chat_id, language))
        body = json.dumps(update).encode()
        if roll < 0.74:
            jobs.append(Job("tg_text", telegram.WEBHOOK_URL, body, _tg_headers(), {200}, update_id=uid, date=date))
            sent += 1
        elif roll < 0.86:
            jobs.append(Job("tg_text", telegram.WEBHOOK_URL, body, _tg_headers(), {200}, pair=True,
                            update_id=uid, date=date))
            sent += 2
        elif roll < 0.93:
            bad = rng.choice([b"not json", b"[1, 2]", b'{"message": {}}', b'{"update_id": "7"}', b"{"])
            jobs.append(Job("tg_malformed", telegram.WEBHOOK_URL, bad, _tg_headers(), {400}))
            sent += 1
        else:
            secret = rng.choice(["wrong-secret", None])
            jobs.append(Job("tg_bad_secret", telegram.WEBHOOK_URL, body, _tg_headers(secret), {403}, update_id=uid))
            sent += 1
    return jobs


def button_jobs(chat_ids: list[tuple[int, str]], update_ids: itertools.count) -> list[Job]:
    """A triage button pressed by contacts who have a case (sent after the main wave)."""
    jobs = []
    for chat_id, language in chat_ids:
        uid = next(update_ids)
        update = telegram.button_update("t:mobilised:no", chat_id, query_id=f"cbq-{uid}", update_id=uid,
                                        sender=_person(chat_id, language), chat_instance="scale")
        jobs.append(Job("tg_button", telegram.WEBHOOK_URL, json.dumps(update).encode(), _tg_headers(), {200},
                        update_id=uid))
    return jobs


def api_jobs(total: int, rng: random.Random, token: str) -> list[Job]:
    """About `total` HTTP requests to the intake API: keyed, keyed replays to both servers at
    once, keyless, invalid, wrong token."""
    contacts = [f"form-{n}" for n in range(max(10, total // 3))]
    jobs: list[Job] = []
    sent = 0
    while sent < total:
        roll = rng.random()
        text = f"Как сдаться? {uuid.uuid4().hex[:8]}"
        body = {"channel": "web", "contact_identifier": rng.choice(contacts), "language": "ru", "text": text}
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if roll < 0.45:
            key = uuid.uuid4().hex
            jobs.append(Job("api_keyed", "/api/v1/requests/", json.dumps(body).encode(),
                            {**headers, "Idempotency-Key": key}, {201}, key=key, text=text))
            sent += 1
        elif roll < 0.59:
            key = uuid.uuid4().hex
            jobs.append(Job("api_keyed", "/api/v1/requests/", json.dumps(body).encode(),
                            {**headers, "Idempotency-Key": key}, {200, 201}, pair=True, key=key, text=text))
            sent += 2
        elif roll < 0.85:
            jobs.append(Job("api_keyless", "/api/v1/requests/", json.dumps(body).encode(), headers, {201}, text=text))
            sent += 1
        elif roll < 0.95:
            invalid = rng.choice([
                {**body, "text": "  "}, {**body, "channel": "pigeon"}, {**body, "language": "russian"},
                {**body, "received_at": "2025-01-31T10:00:00"}, "not json",
            ])
            raw = invalid.encode() if isinstance(invalid, str) else json.dumps(invalid).encode()
            jobs.append(Job("api_invalid", "/api/v1/requests/", raw, headers, {400}))
            sent += 1
        else:
            wrong = {**headers, "Authorization": "Bearer hd_00000000_not-a-token"}
            jobs.append(Job("api_bad_token", "/api/v1/requests/", json.dumps(body).encode(), wrong, {401}))
            sent += 1
    return jobs


def conflict_jobs(keyed: list[Job], rng: random.Random, count: int) -> list[Job]:
    """An Idempotency-Key used before, now with other words: 422, nothing stored."""
    jobs = []
    for original in rng.sample(keyed, min(count, len(keyed))):
        body = json.loads(original.body)
        body["text"] = "Другой текст " + uuid.uuid4().hex[:8]
        jobs.append(Job("api_conflict", original.path, json.dumps(body).encode(), original.headers, {422},
                        key=original.key))
    return jobs


class Sender:
    """Sends jobs from a thread pool to the two servers (a duplicate pair to both at once)."""

    def __init__(self, servers: list[str], threads: int) -> None:
        import httpx

        self.servers = servers
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads)
        self.pair_pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads)
        self.client = httpx.Client(timeout=httpx.Timeout(30.0), limits=httpx.Limits(max_connections=threads * 2))
        self.done = 0
        self.requests = 0
        self._lock = threading.Lock()

    def _post(self, server: str, job: Job) -> tuple[int, Any]:
        import httpx

        try:
            response = self.client.post(server + job.path, content=job.body, headers=job.headers)
        except httpx.HTTPError as exc:
            return -1, type(exc).__name__
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text[:200]

    def _send(self, job: Job, index: int) -> None:
        first = self.servers[index % 2]
        if job.pair:
            other = self.servers[(index + 1) % 2]
            both = [self.pair_pool.submit(self._post, server, job) for server in (first, other)]
            job.answers = [future.result() for future in both]
        else:
            job.answers = [self._post(first, job)]
        with self._lock:
            self.done += 1
            self.requests += len(job.answers)

    def run(self, jobs: list[Job]) -> None:
        futures = [self.pool.submit(self._send, job, n) for n, job in enumerate(jobs)]
        for future in futures:
            future.result()

    def close(self) -> None:
        self.pool.shutdown()
        self.pair_pool.shutdown()
        self.client.close()


# --- the people at the desk -------------------------------------------------------------------


class Operators:
    """Operator threads working through the service layer: take the next case, answer every
    case of theirs that waits, close some answered ones (freeing capacity)."""

    def __init__(self, users: list[Any], rng_seed: int) -> None:
        self.users = users
        self.stop = threading.Event()
        self.errors: Counter[str] = Counter()
        self.replies = 0
        self.closed = 0
        self.taken = 0
        self.threads = [threading.Thread(target=self._work, args=(u, rng_seed + n)) for n, u in enumerate(users)]
        self._lock = threading.Lock()

    def _work(self, user: Any, seed: int) -> None:
        from django.db import connection

        from hotline.desk import ownership, services
        from hotline.errors import DomainError
        from hotline.models import Case

        rng = random.Random(seed)
        try:
            while not self.stop.is_set():
                try:
                    open_cases = Case.objects.filter(owner=user, closed_at__isnull=True)
                    mine = list(open_cases.values_list("pk", "channel", "awaiting_since"))
                    for case_id, channel, awaiting in mine:
                        if awaiting is not None and channel == "telegram":
                            text = f"{user.username}: {uuid.uuid4().hex}"
                            services.case_reply(actor=user, case_id=case_id, text=text)
                            with self._lock:
                                self.replies += 1
                        elif awaiting is not None:  # a web form sender: phoned back
                            services.case_log_call(actor=user, case_id=case_id, summary="Called back")
                            with self._lock:
                                self.replies += 1
                        elif rng.random() < 0.5:
                            services.case_close(actor=user, case_id=case_id, reason="info_only")
                            with self._lock:
                                self.closed += 1
                    if len(mine) < CAPACITY and ownership.case_take_next(actor=user) is not None:
                        with self._lock:
                            self.taken += 1
                except DomainError as exc:  # counted: none is expected, but none is a bug either
                    with self._lock:
                        self.errors[type(exc).__name__] += 1
                except Exception as exc:
                    with self._lock:
                        self.errors["unexpected " + type(exc).__name__] += 1
                time.sleep(rng.uniform(0.05, 0.25))
        finally:
            connection.close()

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


class CapacityWatch:
    """Samples, during the run, each operator's open cases against their capacity."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.samples = 0
        self.violations: list[str] = []
        self.thread = threading.Thread(target=self._watch)

    def _watch(self) -> None:
        from django.db import connection
        from django.db.models import Count, F, Q

        from operators.models import OperatorProfile

        open_owned = Q(user__cases__closed_at__isnull=True)
        try:
            while not self.stop.is_set():
                over = (
                    OperatorProfile.objects.annotate(active=Count("user__cases", filter=open_owned))
                    .filter(active__gt=F("capacity")).values_list("user__username", "active", "capacity")
                )
                self.violations += [f"{name} had {active} open cases > capacity {cap}" for name, active, cap in over]
                self.samples += 1
                time.sleep(0.25)
        finally:
            connection.close()


# --- the run --------------------------------------------------------------------------------


class _Count(logging.Handler):
    """Counts this process's own log records (the operators' failed enqueues while Redis is down)."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.n += 1


@dataclass
class Stack:
    workdir: Path
    env: dict[str, str]
    redis: Proc
    webs: list[Proc]
    workers: list[Proc]
    beats: list[Proc]
    urls: list[str]
    redis_port: int

    def all(self) -> list[Proc]:
        return [*self.webs, *self.workers, *self.beats, self.redis]


def start_stack(workdir: Path, env: dict[str, str], redis_port: int, taken: set[int]) -> Stack:
    python = sys.executable
    redis = Proc("redis", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--daemonize", "no"], env, workdir).start()
    wait_for(lambda: "Ready to accept connections" in redis.log(), 20, "redis-server")
    webs, urls = [], []
    for n in (1, 2):
        port = free_port(WEB_PORTS, taken)
        webs.append(Proc(f"web{n}", [python, "-m", "gunicorn", "hotline.wsgi:application", "--bind",
                                     f"127.0.0.1:{port}", "--workers", "2", "--timeout", "30",
                                     "--graceful-timeout", "5"], env, workdir).start())
        urls.append(f"http://127.0.0.1:{port}")
    workers = [
        Proc(f"worker{n}", [python, "-m", "celery", "-A", "hotline", "worker", f"--concurrency={WORKER_CONCURRENCY}",
                            "--loglevel=INFO", f"--hostname=worker{n}@%h", "--without-gossip", "--without-mingle"],
             {**env, "TELEGRAM_API_URL": env["TELEGRAM_API_URL"] + (WORKER1_PREFIX if n == 1 else "")},
             workdir).start()
        for n in (1, 2)
    ]
    beats = [
        Proc(f"beat{n}", [python, "-m", "celery", "-A", "hotline", "beat", "--loglevel=INFO",
                          f"--schedule={workdir / f'beat{n}-schedule'}"], env, workdir).start()
        for n in (1, 2)
    ]
    stack = Stack(workdir, env, redis, webs, workers, beats, urls, redis_port)

    import httpx

    def web_up(url: str) -> bool:
        try:
            return httpx.get(url + telegram.WEBHOOK_URL, timeout=1).status_code == 405
        except httpx.HTTPError:
            return False

    def all_up() -> bool:
        dead = [p.name for p in stack.all() if not p.alive()]
        if dead:
            raise RuntimeError(f"{dead} exited at start:\n" + "\n".join(p.log()[-2000:] for p in stack.all()
                                                                        if p.name in dead))
        return (all(web_up(u) for u in urls) and all(" ready." in w.log() for w in workers)
                and all("beat: Starting" in b.log() for b in beats))

    wait_for(all_up, 90, "web servers, workers and beats")
    return stack


def restart_redis(stack: Stack, down_seconds: float) -> None:
    """Stop Redis (its data goes with it: no persistence), wait, start it again empty."""
    stack.redis.stop()
    time.sleep(down_seconds)
    stack.redis = Proc("redis", stack.redis.command, stack.env, stack.workdir).start()
    wait_for(lambda: stack.redis.log().count("Ready to accept connections") >= 2, 20, "redis-server again")


def redis_leftovers(port: int) -> dict[str, int]:
    """Every non-empty list, hash or sorted set in the broker's Redis (queues, unacked, dead letters)."""
    import redis

    client = redis.Redis(port=port)
    left = {}
    for key in client.scan_iter(count=1000):
        if key.startswith(b"_kombu."):  # bindings and their bookkeeping, not messages
            continue
        kind = client.type(key).decode()
        size = {"list": client.llen, "hash": client.hlen, "zset": client.zcard}.get(kind)
        if size is not None and size(key):
            left[key.decode()] = size(key)
    return left


def database_server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hotline")
    return url.rsplit("/", 1)[0]


def admin_sql(server_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(server_url + "/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=2000, help="Telegram webhook requests (about)")
    parser.add_argument("--api", type=int, default=500, help="intake API requests (about)")
    parser.add_argument("--operators", type=int, default=4)
    parser.add_argument("--threads", type=int, default=12, help="concurrent client requests")
    parser.add_argument("--chaos", action="store_true", help="kill a worker and restart Redis mid-run")
    parser.add_argument("--drain-seconds", type=float, default=90, help="longest wait for pending work after load")
    parser.add_argument("--database", default=os.environ.get("TEST_DATABASE_NAME", "hotline") + "_scaled",
                        help="PostgreSQL database to create and drop (on TEST_DATABASE_URL's server)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the database and logs")
    args = parser.parse_args(argv)
    if not shutil.which("redis-server"):
        print("redis-server is not installed", file=sys.stderr)
        return 2

    rng = random.Random(args.seed)
    taken: set[int] = set()
    workdir = Path(tempfile.mkdtemp(prefix="hotline-scale-"))
    redis_port = free_port(REDIS_PORTS, taken)
    api_port = free_port(WEB_PORTS, taken)
    server = database_server_url()
    if not re.fullmatch(r"[a-z0-9_]+", args.database):
        raise SystemExit("--database: lower-case letters, digits and _ only")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.scale.settings",
        "DATABASE_URL": f"{server}/{args.database}",
        "CONN_MAX_AGE": "60",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "DEBUG": "false",
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_URL": f"http://127.0.0.1:{api_port}",
        "TELEGRAM_TIMEOUT_SECONDS": "2",
        "TELEGRAM_RETRY_BASE_SECONDS": "1",
        "TELEGRAM_RETRY_MAX_SECONDS": "5",
        "API_INTAKE_RATE": "1000000/minute",
        "SLA_HOURS": str(SLA_HOURS),
        "SLA_WARNING_HOURS": str(SLA_HOURS / 2),
        "SLA_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "AUTO_ASSIGN_SWEEP_SECONDS": "10",  # each run tries every waiting case: ~1 s here
        "DELIVERY_RECOVER_SWEEP_SECONDS": "2",
        "DELIVERY_RECOVER_AFTER_SECONDS": "15",
        "DELIVERY_CLAIM_SECONDS": "10",
        "CELERY_VISIBILITY_TIMEOUT": "30",
        # A request after a case was closed opens a new (unowned) case, so capacity is exact.
        "CASE_NEW_REQUEST_ON_CLOSED": "new",
        "LOG_LEVEL": "INFO",
    }
    os.environ.update(env)
    admin_sql(server, f"DROP DATABASE IF EXISTS {args.database}", f"CREATE DATABASE {args.database}")
    stack: Stack | None = None
    bot_api = ScaleBotApi(api_port).start()
    lines: list[tuple[str, float, str]] = []
    failures: list[str] = []

    def out(name: str, value: float, unit: str) -> None:
        lines.append((name, value, unit))

    try:
        import django

        django.setup()
        logging.getLogger().setLevel(logging.WARNING)  # this process's own service calls: quiet
        own_enqueue_failures = _Count()
        logging.getLogger("hotline.queueing").addHandler(own_enqueue_failures)
        logging.getLogger("hotline.queueing").propagate = False
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from hotline.intake.tokens import api_token_create
        from operators.services import operator_create

        token_row, token = api_token_create(actor=None, name="scale run")
        users = [
            operator_create(username=f"op{n}", password=None, capacity=CAPACITY, on_shift=True, languages=("ru", "uk"))
            for n in range(args.operators)
        ]
        started = time.monotonic()
        stack = start_stack(workdir, env, redis_port, taken)
        out("startup", round(time.monotonic() - started, 1), "s")

        update_ids = itertools.count(500_000_000 + rng.randrange(1_000_000))
        main_jobs = telegram_jobs(args.updates, rng, update_ids) + api_jobs(args.api, rng, token)
        rng.shuffle(main_jobs)
        sender = Sender(stack.urls, args.threads)
        operators = Operators(users, args.seed)
        watch = CapacityWatch()
        operators.start()
        watch.thread.start()

        chaos_log: list[str] = []
        chaos_thread = None
        if args.chaos:
            def kill_worker1_inside_a_send() -> None:
                bot_api.caught.wait(120)
                stack.workers[0].kill()
                bot_api.release.set()
                chaos_log.append(f"worker1 killed after {sender.done} jobs, "
                                 f"{'inside' if bot_api.caught.is_set() else 'outside'} a send's window")

            def chaos() -> None:
                total = len(main_jobs)
                wait_for(lambda: sender.done >= total * 0.25, 600, "a quarter of the load")
                bot_api.hold_worker1.set()  # worker 1's next sendMessage is accepted, its answer held
                killer = threading.Thread(target=kill_worker1_inside_a_send)
                killer.start()
                wait_for(lambda: sender.done >= total * 0.45, 600, "nearly half of the load")
                chaos_log.append(f"redis stopped after {sender.done} jobs")
                restart_redis(stack, down_seconds=4)
                chaos_log.append(f"redis back after {sender.done} jobs")
                killer.join()

            chaos_thread = threading.Thread(target=chaos)
            chaos_thread.start()

        load_started = time.monotonic()
        sender.run(main_jobs)
        if chaos_thread is not None:
            chaos_thread.join()
        # After the main wave: buttons from contacts who have a case, and key conflicts. A
        # person presses a button under the bot's question, i.e. once the workers have applied
        # their message: wait for the inbox to empty first (how long is a figure of its own).
        from hotline.models import TelegramUpdate

        settle_started = time.monotonic()
        wait_for(lambda: not TelegramUpdate.objects.filter(processed_at__isnull=True).exists(), args.drain_seconds,
                 "the workers to apply every stored Telegram update")
        out("inbox_settle_seconds", round(time.monotonic() - settle_started, 1), "s")
        with_case = sorted({
            (update["message"]["chat"]["id"], update["message"]["from"]["language_code"])
            for update in (json.loads(j.body) for j in main_jobs if j.kind == "tg_text")
        })
        buttons = button_jobs(rng.sample(with_case, min(len(with_case), max(5, args.updates // 50))), update_ids)
        keyed = [j for j in main_jobs if j.kind == "api_keyed"]
        final_jobs = buttons + conflict_jobs(keyed, rng, max(3, args.api // 40))
        sender.run(final_jobs)
        load_seconds = time.monotonic() - load_started
        operators.finish()
        watch.stop.set()
        watch.thread.join()
        sender.close()
        jobs = main_jobs + final_jobs

        # --- answers ------------------------------------------------------------------------
        statuses: Counter[int] = Counter()
        unexpected: list[str] = []
        for job in jobs:
            for status, body in job.answers:
                statuses[status] += 1
                if status not in job.expect:
                    unexpected.append(f"{job.kind} -> {status} {str(body)[:120]}")
            if job.kind == "tg_text":
                results = sorted(b.get("result") if isinstance(b, dict) else None for _, b in job.answers)
                if results != (["accepted", "duplicate"] if job.pair else ["accepted"]):
                    unexpected.append(f"tg_text update={job.update_id} results={results}")
            if job.kind == "api_keyed" and [s for s, _ in job.answers].count(201) != 1:
                unexpected.append(f"api_keyed answered {[s for s, _ in job.answers]}")
            if job.kind == "tg_button":
                results = [b.get("result") if isinstance(b, dict) else None for _, b in job.answers]
                if results != ["accepted"]:
                    unexpected.append(f"tg_button update={job.update_id} results={results}")
        if unexpected:
            failures.append(f"{len(unexpected)} unexpected answers, e.g. {unexpected[:5]}")
        sent_requests = sum(len(j.answers) for j in jobs)
        tg_requests = sum(len(j.answers) for j in jobs if j.kind.startswith("tg_"))
        out("requests_sent", sent_requests, "requests")
        out("telegram_requests_sent", tg_requests, "requests")
        out("api_requests_sent", sent_requests - tg_requests, "requests")
        out("answers_2xx", sum(n for s, n in statuses.items() if 200 <= s < 300), "requests")
        out("answers_4xx", sum(n for s, n in statuses.items() if 400 <= s < 500), "requests")
        out("answers_5xx", sum(n for s, n in statuses.items() if s >= 500), "requests")
        out("transport_errors", statuses[-1], "requests")
        out("load_seconds", round(load_seconds, 1), "s")
        out("request_rate", round(sent_requests / load_seconds, 1), "requests/s")
        out("operator_answers", operators.replies, "answers")
        out("operator_closes", operators.closed, "cases")
        out("operator_takes", operators.taken, "cases")
        if any(k.startswith("unexpected") for k in operators.errors):
            failures.append(f"operator errors: {dict(operators.errors)}")
        out("operator_domain_errors", sum(operators.errors.values()), "errors")
        if operators.errors:
            print("operator errors:", dict(operators.errors))
        for note in chaos_log:
            print("chaos:", note)

        # --- drain ----------------------------------------------------------------------------
        from django.utils import timezone

        from hotline.models import Case, CaseEvent, Message

        drain_started = time.monotonic()
        # 1. Until nothing waits to be sent, and long enough for the sweeps to flag what became
        #    overdue after the last request.
        while time.monotonic() - drain_started < args.drain_seconds:
            if (Message.objects.filter(delivery="queued").count() == 0
                    and not TelegramUpdate.objects.filter(processed_at__isnull=True).exists()
                    and time.monotonic() - drain_started >= SLA_HOURS * 3600 + 3):
                break
            time.sleep(0.5)
        # 2. The beats stop (they would keep queueing sweeps forever); the workers empty Redis.
        for beat in stack.beats:
            beat.stop()
        beats_stopped = timezone.now()
        deadline = time.monotonic() + 20
        while redis_leftovers(redis_port) and time.monotonic() < deadline:
            time.sleep(0.5)
        drain_seconds = time.monotonic() - drain_started
        out("drain_seconds", round(drain_seconds, 1), "s")
        time.sleep(1)  # let the last sendMessage answers land in the fake's record

        # --- stored exactly once ----------------------------------------------------------------
        from hotline.intake.telegram.apply import intake_key

        text_jobs = [j for j in jobs if j.kind == "tg_text"]
        expected_tg = {intake_key(j.update_id, j.date) for j in text_jobs}
        stored_tg = list(Message.objects.filter(channel="telegram", direction="inbound").values_list(
            "intake_key", flat=True))
        if Counter(stored_tg) != Counter(expected_tg):
            failures.append(f"telegram requests: {len(expected_tg)} sent, {len(stored_tg)} stored, "
                            f"missing {len(expected_tg - set(stored_tg))}, extra {len(set(stored_tg) - expected_tg)}")
        handled = set(TelegramUpdate.objects.filter(processed_at__isnull=False).values_list("update_id", flat=True))
        expected_updates = {j.update_id for j in jobs if j.kind in ("tg_text", "tg_button")}
        refused = {j.update_id for j in jobs if j.kind == "tg_bad_secret"}
        if handled != expected_updates or handled & refused:
            failures.append("telegram update ids handled differ from those sent well-formed")
        pending = TelegramUpdate.objects.filter(processed_at__isnull=True).count()
        if pending:
            failures.append(f"{pending} stored Telegram updates were never applied")
        button_ids = {j.update_id for j in jobs if j.kind == "tg_button"}
        button_rows = TelegramUpdate.objects.filter(update_id__in=button_ids)
        buttons_applied = Counter(button_rows.values_list("result", flat=True))
        if buttons_applied != Counter({"triage": len(button_ids)}):
            failures.append(f"buttons applied as {dict(buttons_applied)}, expected all 'triage'")
        failed = TelegramUpdate.objects.filter(result="failed").count()
        if failed:
            failures.append(f"{failed} Telegram updates failed to apply")
        out("telegram_updates_stored", len(stored_tg), "requests")
        out("telegram_duplicates_answered",
            sum(1 for j in text_jobs for _, b in j.answers if isinstance(b, dict) and b.get("result") == "duplicate"),
            "requests")

        api_keys = {f"api:{token_row.pk}:{hashlib.sha256(j.key.encode()).hexdigest()}"
                    for j in jobs if j.kind == "api_keyed"}
        keyless = Counter(j.text for j in jobs if j.kind == "api_keyless")
        web = list(Message.objects.filter(channel="web", direction="inbound").values_list("intake_key", "body"))
        stored_keys = Counter(k for k, _ in web if k)
        stored_keyless = Counter(b for k, b in web if not k)
        if stored_keys != Counter(api_keys):
            failures.append(f"api keyed requests: {len(api_keys)} distinct keys sent, {sum(stored_keys.values())} "
                            "stored")
        if stored_keyless != keyless:
            failures.append(f"api keyless requests: {sum(keyless.values())} sent, {sum(stored_keyless.values())} "
                            "stored")
        keyed_texts = {f"api:{token_row.pk}:{hashlib.sha256(j.key.encode()).hexdigest()}": j.text
                       for j in jobs if j.kind == "api_keyed"}
        if any(keyed_texts[k] != b for k, b in web if k):
            failures.append("an api request stored under a key holds other words than first sent with it")
        out("api_requests_stored", len(web), "requests")
        out("api_replays_answered_200",
            sum(1 for j in jobs if j.kind == "api_keyed" for s, _ in j.answers if s == 200), "requests")
        stored_total = len(stored_tg) + len(web)
        out("stored_rate", round(stored_total / load_seconds, 1), "requests/s")

        # --- owners and capacity ---------------------------------------------------------------
        from django.db.models import Count, F, Q

        from operators.models import OperatorProfile

        twice = (CaseEvent.objects.filter(kind="assigned").values("case_id").annotate(n=Count("pk"))
                 .filter(n__gt=1).count())
        if twice:
            failures.append(f"{twice} cases were assigned twice (no one released them in this run)")
        open_owned = Q(user__cases__closed_at__isnull=True)
        over = (OperatorProfile.objects.annotate(active=Count("user__cases", filter=open_owned))
                .filter(active__gt=F("capacity")).count())
        if over or watch.violations:
            failures.append(f"capacity exceeded: {watch.violations[:5]} (now: {over})")
        out("capacity_samples", watch.samples, "samples")
        out("cases_opened", Case.objects.count(), "cases")
        out("cases_assigned", CaseEvent.objects.filter(kind="assigned").count(), "cases")

        # --- overdue: one event per case and wait; every long wait flagged -----------------------
        repeated = (CaseEvent.objects.filter(kind="overdue").values("case_id", "sla_wait").annotate(n=Count("pk"))
                    .filter(n__gt=1).count())
        if repeated:
            failures.append(f"{repeated} waits flagged overdue more than once")
        cutoff = beats_stopped - timedelta(hours=SLA_HOURS, seconds=SWEEP_SECONDS + 2)
        long_waits = Case.objects.filter(closed_at__isnull=True, awaiting_since__lt=cutoff)
        unflagged = long_waits.exclude(pk__in=CaseEvent.objects.filter(
            kind="overdue", sla_wait=F("case__awaiting_since")).values("case_id")).count()
        if unflagged:
            failures.append(f"{unflagged} cases waiting past the SLA are not flagged overdue once")
        out("overdue_events", CaseEvent.objects.filter(kind="overdue").count(), "events")
        out("overdue_waits_open", long_waits.count(), "cases")
        out("sla_sweeps_sent_by_beats",
            sum(b.log().count("Sending due task sla-sweep") for b in stack.beats), "sweeps")
        if not all("Sending due task sla-sweep" in b.log() for b in stack.beats):
            failures.append("a beat never sent the sweep")

        # --- deliveries: each outbound message once to the fake Bot API --------------------------
        outbound = list(  # messages to send (a logged call is outbound too, with nothing to deliver)
            Message.objects.filter(direction="outbound").exclude(delivery="").select_related("case__contact")
        )
        not_sent = Counter(m.delivery for m in outbound if m.delivery != "sent")
        if not_sent:
            failures.append(f"outbound messages not sent after the drain: {dict(not_sent)}")
        with bot_api._lock:
            calls = dict(bot_api.sent)
            button_answers = sum(1 for name, _ in bot_api.calls if name == "answerCallbackQuery")
        recorded = {}
        for m in outbound:
            if m.delivery == "sent":
                recorded[int(m.external_id)] = m
        wrong = [i for i, m in recorded.items() if calls.get(i) != (m.case.contact.identifier, m.body)]
        if wrong:
            failures.append(f"{len(wrong)} sent messages do not match what the Bot API received")
        resent = [i for i in calls if i not in recorded]
        retried = {(m.case.contact.identifier, m.body) for m in outbound if m.delivery_attempts > 1}
        unaccounted = [i for i in resent if calls[i] not in retried]
        if unaccounted:
            failures.append(f"{len(unaccounted)} sendMessage calls beyond one per message, not explained by a "
                            "sender killed mid-send")
        out("outbound_messages", len(outbound), "messages")
        out("automatic_messages", sum(1 for m in outbound if m.is_automatic), "messages")
        out("sendmessage_calls", len(calls), "calls")
        out("at_least_once_resends", len(resent) - len(unaccounted), "calls")
        out("killed_inside_send_window", int(bot_api.caught.is_set()), "workers")
        # The window itself: from Telegram's acceptance to our UPDATE recording it, per sent message.
        with bot_api._lock:
            accepted_at = dict(bot_api.accepted_at)
        windows = sorted(
            (m.delivered_at.timestamp() - accepted_at[i]) * 1000 for i, m in recorded.items()
            if i in accepted_at and m.delivered_at is not None
        )
        if windows:
            out("send_window_p50_ms", round(windows[len(windows) // 2], 1), "ms")
            out("send_window_p99_ms", round(windows[int(len(windows) * 0.99)], 1), "ms")
            out("send_window_max_ms", round(windows[-1], 1), "ms")
        buttons_sent = sum(1 for j in jobs if j.kind == "tg_button")
        if button_answers != buttons_sent:
            failures.append(f"answerCallbackQuery {button_answers} times for {buttons_sent} button presses")
        out("button_answers", button_answers, "calls")

        # --- nothing left anywhere, no task failures --------------------------------------------
        left = redis_leftovers(redis_port)
        if left:
            failures.append(f"left in Redis: {left}")
        worker_logs = "".join(w.log() for w in stack.workers)
        beat_logs = "".join(b.log() for b in stack.beats)
        web_logs = "".join(w.log() for w in stack.webs)
        task_failures = len(re.findall(r"raised unexpected|Task handler raised error|WorkerLostError", worker_logs))
        if task_failures:
            failures.append(f"{task_failures} task failures in the worker logs")
        server_errors = web_logs.count("Internal Server Error")
        if server_errors:
            failures.append(f"{server_errors} server errors in the web logs")
        out("task_failures", task_failures, "tasks")
        out("recovery_requeued",
            sum(int(n) for n in re.findall(r"delivery recovery re-queued messages=(\d+)", worker_logs)), "messages")
        enqueue_failed = (web_logs + worker_logs + beat_logs).count("enqueue failed task=") + own_enqueue_failures.n
        out("enqueue_failures", enqueue_failed, "tasks")
        if not args.chaos and enqueue_failed:
            failures.append(f"{enqueue_failed} enqueue failures with Redis up")
        out("checks_failed", len(failures), "checks")
    finally:
        if stack is not None:
            for proc in stack.all():
                proc.stop()
        bot_api.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - Django may not be set up if the start failed
            pass
        if not args.keep:
            admin_sql(server, f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
    for name, value, unit in lines:
        print(f"{name} {value} {unit}")
    for failure in failures:
        print("FAILED:", failure)
    if failures or args.keep:
        print(f"logs: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
