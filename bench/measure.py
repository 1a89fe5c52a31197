"""Timing helpers shared by the benchmarks: samples, median, p95, and the `name value unit` lines;
gunicorn with the production settings and a browser that signs in with password and TOTP."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit


def percentile(samples: list[float], fraction: float) -> float:
    """Linear interpolation between the nearest ranks (PostgreSQL's percentile_cont)."""
    ordered = sorted(samples)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def timed(call: Callable[[], Any], *, repeat: int, warmup: int = 1) -> tuple[list[float], list[int]]:
    """Milliseconds and statement counts of `repeat` calls, after `warmup` untimed ones."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        call()
    millis, queries = [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            call()
            millis.append((time.perf_counter() - started) * 1000)
        queries.append(sum(1 for q in captured.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")))
    return millis, queries


def report(
    name: str, millis: list[float], queries: list[int] | None = None, *, query_name: str = "",
) -> dict[str, float]:
    """Print `<name> <median> ms`, `<name>_p95`, and the query count (the largest seen)."""
    figures = {name: statistics.median(millis), f"{name}_p95": percentile(millis, 0.95)}
    for key, value in figures.items():
        print(f"{key} {value:.1f} ms", flush=True)
    if queries is not None:
        figures[query_name] = max(queries)
        print(f"{query_name} {max(queries)} count", flush=True)
    return figures


# --- over HTTP: gunicorn with the production settings, the real two-step sign-in --------------

ROOT = Path(__file__).resolve().parent.parent
HTTP_PORTS = range(8400, 8500)
WEB_WORKERS = 2  # gunicorn sync workers, as measured for issue 18
BENCH_PASSWORD = "bench-password-0c1d2e3f"
# The benchmark database is synthetic; these stand in for production's secrets (never real ones).
_LOCAL_FIELD_KEY = "bG9jYWwtb25seS1pbnNlY3VyZS1rZXktMzItYnl0ZXM="


def free_port() -> int:
    for port in HTTP_PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("No free port in 8400-8499.")


def production_env() -> dict[str, str]:
    """hotline.settings.production, as deployed behind nginx (docs/deploy.md), on the benchmark
    database and Redis. The proxy's headers are sent by the client (`Browser`)."""
    redis_url = os.environ["BENCH_REDIS_URL"]
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "hotline.settings.production", "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": redis_url, "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
        "CONTACT_LOOKUP_KEY": "local-only-lookup-key",  # the dataset's keys (bench.settings)
        "FIELD_ENCRYPTION_KEY": os.environ.get("FIELD_ENCRYPTION_KEY", _LOCAL_FIELD_KEY),
        "ALLOWED_HOSTS": "localhost", "LOG_LEVEL": "WARNING", "DEBUG": "false",
        "TELEGRAM_API_URL": "http://127.0.0.1:9",
    }


def stop_process(process: subprocess.Popen) -> None:
    """End a server or worker started in its own session, and its children."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


_collected: list[bool] = []


def collectstatic() -> None:
    """The production storage serves hashed names from a manifest: build it once per run."""
    if _collected:
        return
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=production_env(),
        capture_output=True, text=True, timeout=300, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    _collected.append(True)


class WebServer:
    """gunicorn (WEB_WORKERS sync workers) serving hotline.wsgi with the production settings."""

    def __init__(self, log: Path) -> None:
        collectstatic()
        self.port = free_port()
        self.log = log
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            [str(gunicorn), "hotline.wsgi:application", "--workers", str(WEB_WORKERS), "--bind",
             f"127.0.0.1:{self.port}", "--chdir", str(ROOT), "--log-level", "warning"],
            env=production_env(), stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start listening in time.")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        stop_process(self.process)

    def __enter__(self) -> WebServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_staff(username: str) -> None:
    """Give a benchmark operator a password and a confirmed authenticator app (idempotent)."""
    from django.contrib.auth.models import User

    from operators.models import AuthenticatorDevice, OperatorProfile

    user = User.objects.get(username=username)
    if not user.check_password(BENCH_PASSWORD):
        user.set_password(BENCH_PASSWORD)
        user.save(update_fields=["password"])
    OperatorProfile.objects.filter(user=user).update(ui_language="en")
    if not AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists():
        AuthenticatorDevice.objects.create(user=user, name="Bench", confirmed=True)


def _current_code(username: str) -> str:
    """The code the operator's app shows now (a code is accepted once per 30-s step: wait for
    the next step if this one was used)."""
    from django_otp.oath import TOTP

    from operators.models import AuthenticatorDevice

    deadline = time.monotonic() + 35
    while True:
        device = AuthenticatorDevice.objects.get(user__username=username, confirmed=True)
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        if totp.t() > device.last_t or time.monotonic() > deadline:
            return f"{totp.token():0{device.digits}d}"
        time.sleep(0.5)


_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """One person's browser behind the TLS proxy: cookies (Secure, __Host-), the proxy's headers,
    a new connection per request (gunicorn's sync workers close each one)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sent = {
            "Host": "localhost", "X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1",
            "Accept": "text/html", "Accept-Language": "en",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            **(headers or {}),
        }
        body = None
        if form is not None:
            body = urlencode(form)
            sent |= {"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://localhost",
                     "Referer": f"https://localhost{path}"}
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            text = response.read().decode(errors="replace")
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key.strip()] = rest.split(";", 1)[0]
            return response.status, {k.lower(): v for k, v in response.getheaders()}, text
        finally:
            conn.close()

    def get(self, path: str, expect: int = 200, **headers: str) -> str:
        status, _, text = self.request("GET", path, headers=headers or None)
        if status != expect:
            raise RuntimeError(f"GET {path} answered {status}")
        return text

    def _post_form(self, path: str, fields: dict[str, str]) -> str:
        token = _CSRF_FIELD.search(self.get(path))
        if token is None:
            raise RuntimeError(f"{path} has no CSRF field")
        status, headers, text = self.request("POST", path, {**fields, "csrfmiddlewaretoken": token[1]})
        if status != 302:
            raise RuntimeError(f"POST {path} answered {status}: {text[:300]}")
        return urlsplit(headers["location"]).path + ("?" + urlsplit(headers["location"]).query
                                                     if urlsplit(headers["location"]).query else "")

    def sign_in(self, username: str) -> None:
        """The real two steps: the password, then the authenticator's code."""
        bench_staff(username)
        verify = self._post_form("/login/", {"username": username, "password": BENCH_PASSWORD})
        if not verify.startswith("/login/verify/"):
            raise RuntimeError(f"the password step led to {verify}, not the second factor")
        self._post_form(verify, {"code": _current_code(username)})
        self.get("/")  # signed in: the queue answers


def http_timed(call: Callable[[], Any], *, repeat: int, warmup: int = 2) -> list[float]:
    """Milliseconds of `repeat` calls after `warmup` untimed ones (each worker warm)."""
    for _ in range(warmup):
        call()
    millis = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        millis.append((time.perf_counter() - started) * 1000)
    return millis


def report_http(name: str, millis: list[float]) -> dict[str, float]:
    """Print `<name>_p50` and `<name>_p95` in ms."""
    figures = {f"{name}_p50": statistics.median(millis), f"{name}_p95": percentile(millis, 0.95)}
    for key, value in figures.items():
        print(f"{key} {value:.1f} ms", flush=True)
    return figures


def signed_in_client(username: str):
    """A test Client (this process) past both sign-in steps, as bench_staff's operator."""
    from django.contrib.auth.models import User
    from django.http import HttpRequest
    from django.test import Client
    from django_otp import login as otp_login

    from operators.models import AuthenticatorDevice

    bench_staff(username)
    user = User.objects.get(username=username)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    request = HttpRequest()
    request.session = client.session
    request.user = user
    otp_login(request, AuthenticatorDevice.objects.get(user=user, confirmed=True))
    request.session.save()
    return client


def session_cookie(user) -> str:
    """A session cookie for `user` in the bench settings (cookie `sessionid`), past the second
    factor when the user has an authenticator (bench_staff gave one): the polling and search
    benchmarks' clients, which measure the pages, not the sign-in."""
    from django.http import HttpRequest
    from django.test import Client
    from django_otp import login as otp_login

    from operators.models import AuthenticatorDevice

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        request = HttpRequest()
        request.session = client.session
        request.user = user
        otp_login(request, device)
        request.session.save()
    return client.cookies["sessionid"].value
