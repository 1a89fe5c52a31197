"""Real processes for tests: a Celery worker and a gunicorn web server on the test database.

Tests that need them are marked `postgres`, `redis` (when they use the real broker) and
`worker`, and use `django_db(transaction=True)` so the subprocesses see committed data.
The subprocesses run hotline.settings.test with TEST_WORKER_DATABASE_NAME pointing at the
database pytest-django created (hotline/settings/test.py).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from tests.fake_bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
PORTS = range(8500, 8600)  # this checkout's share of local ports (scale)


def free_port(ports: range = PORTS, taken: set[int] | None = None) -> int:
    """A port in `ports` nothing listens on right now; with `taken`, also none handed out
    before (and the one returned is added to it), for servers started later."""
    for port in ports:
        if taken is not None and port in taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        if taken is not None:
            taken.add(port)
        return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


@contextmanager
def refused_port(ports: range = PORTS) -> Iterator[int]:
    """A port held bound but never listening: connecting to it is refused, and no server
    started meanwhile can take it (a broker URL that points nowhere)."""
    for port in ports:
        holder = socket.socket()
        try:
            holder.bind(("127.0.0.1", port))
        except OSError:
            holder.close()
            continue
        try:
            yield port
        finally:
            holder.close()
        return
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def wait_until(check: Callable[[], Any], *, timeout: float = 60, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment of a subprocess that shares this test's database and Redis."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hotline.settings.test",
        "TEST_WORKER_DATABASE_NAME": connection.settings_dict["NAME"],
        "TEST_REDIS_URL": settings.REDIS_URL,
        **extra,
    }


@dataclass
class Process:
    popen: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def _session(command: list[str], env: Mapping[str, str], log_path: Path) -> Iterator[Process]:
    """Run `command` in its own session (its children too) and stop all of it at the end."""
    with log_path.open("wb") as log:
        popen = subprocess.Popen(  # noqa: S603 - our own command line
            command, cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    process = Process(popen, log_path)
    try:
        yield process
    finally:
        if popen.poll() is None:
            os.killpg(popen.pid, signal.SIGTERM)
            try:
                popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(popen.pid, signal.SIGKILL)
                popen.wait(timeout=10)


@contextmanager
def celery_worker(
    tmp_path: Path, env: Mapping[str, str], *, concurrency: int = 1, beat: bool = False, name: str = "worker",
) -> Iterator[Process]:
    """`celery -A hotline worker` (prefork), optionally with its embedded beat; waits until ready.

    Tasks other tests left in the test Redis database are purged first: they are not ours."""
    from hotline.celery import app

    app.control.purge()
    command = [
        sys.executable, "-m", "celery", "-A", "hotline", "worker", f"--concurrency={concurrency}",
        "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat", f"--hostname={name}@%h",
    ]
    if beat:
        command += ["--beat", f"--schedule={tmp_path / (name + '-beat-schedule')}"]
    with _session(command, env, tmp_path / f"{name}.log") as process:
        wait_until(lambda: " ready." in process.log() or process.popen.poll() is not None, what="the worker")
        assert process.popen.poll() is None, process.log()[-3000:]
        yield process


@contextmanager
def web_server(tmp_path: Path, env: Mapping[str, str], *, name: str = "web") -> Iterator[str]:
    """gunicorn serving hotline.wsgi on a free local port; yields its base URL once it answers."""
    import httpx

    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "hotline.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--timeout", "30",
    ]
    with _session(command, env, tmp_path / f"{name}.log") as process:
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            assert process.popen.poll() is None, process.log()[-3000:]
            try:
                httpx.get(url + "/telegram/webhook/", timeout=1)
            except httpx.HTTPError:
                return False
            return True

        wait_until(answers, what="the web server")
        yield url


class SlowBotApi(FakeBotApi):
    """The fake Bot API, answering sendMessage after `latency` seconds (a slow Telegram)."""

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency

    def answer(self, path: str, payload: dict[str, Any]) -> tuple[int, Any]:
        if path.endswith("/sendMessage"):
            time.sleep(self.latency)
        return super().answer(path, payload)
