"""Every request body is read whole, within REQUEST_BODY_TIMEOUT_SECONDS, before Django sees it
(hotline/intake/bodies.py: BoundedBodies wraps hotline.wsgi.application).

A Content-Length larger than the body sent once held a gunicorn worker with no answer (until
gunicorn's --timeout killed it); a chunked body without Content-Length was read as empty. The
live tests speak raw HTTP to gunicorn serving hotline.wsgi on the test database."""

from __future__ import annotations

import io
import json
import socket
import time

import pytest

from hotline.intake.bodies import BoundedBodies, Watchdog, largest_body
from hotline.models import TelegramUpdate
from tests.processes import subprocess_env, web_server

SECRET = "webhook-secret_42"


def _app_seeing(seen: list) -> BoundedBodies:
    def app(environ, start_response):
        seen.append(environ["wsgi.input"].read())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    return BoundedBodies(app)


def _call(app: BoundedBodies, body: bytes, **environ) -> tuple[str, bytes]:
    answer = {}

    def start_response(status, headers):
        answer["status"] = status

    base = {"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
    chunks = app({**base, **environ}, start_response)
    return answer["status"], b"".join(chunks)


def test_a_body_reaches_the_application_whole():
    seen: list = []
    assert _call(_app_seeing(seen), b'{"a": 1}') == ("200 OK", b"ok")
    assert seen == [b'{"a": 1}']


def test_a_chunked_body_without_a_length_is_refused_411():
    seen: list = []
    status, body = _call(_app_seeing(seen), b"", CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked")
    assert status == "411 Length Required"
    assert "Content-Length" in json.loads(body)["detail"]
    assert seen == []


def test_a_declared_length_over_every_limit_is_refused_before_reading():
    seen: list = []
    stream = io.BytesIO(b"x")
    status, _ = _call(_app_seeing(seen), b"", CONTENT_LENGTH=str(largest_body() + 1), **{"wsgi.input": stream})
    assert status == "413 Content Too Large"
    assert stream.tell() == 0 and seen == []


def test_a_body_shorter_than_its_length_is_refused_400():
    seen: list = []
    status, body = _call(_app_seeing(seen), b"12345", CONTENT_LENGTH="10")
    assert status == "400 Bad Request"
    assert json.loads(body)["detail"] == "The body ended after 5 of the 10 bytes of its Content-Length."
    assert seen == []


@pytest.mark.parametrize("length", ["ten", "-1"])
def test_a_content_length_that_is_not_a_number_is_refused_400(length):
    assert _call(_app_seeing([]), b"", CONTENT_LENGTH=length)[0] == "400 Bad Request"


# --- against gunicorn -------------------------------------------------------------------------------


def test_the_watchdog_ends_a_blocked_read_at_its_deadline_and_spares_a_released_one():
    """One thread for every read: a read past its deadline ends (recv returns b""), one released
    in time is untouched even after its deadline, and a later, earlier deadline is not delayed
    by an earlier, later one."""
    watchdog = Watchdog()
    late_ours, late_theirs = socket.socketpair()
    spared_ours, spared_theirs = socket.socketpair()
    slow_ours, slow_theirs = socket.socketpair()
    with late_ours, late_theirs, spared_ours, spared_theirs, slow_ours, slow_theirs:
        watchdog.watch(slow_ours, 30)  # never due within this test
        watchdog.release(watchdog.watch(spared_ours, 0.2))
        late = watchdog.watch(late_ours, 0.3)
        started = time.monotonic()
        late_ours.settimeout(5)
        assert late_ours.recv(10) == b""  # blocked until the watchdog shut the read side
        assert 0.25 < time.monotonic() - started < 2
        watchdog.release(late)
        time.sleep(0.1)
        spared_theirs.sendall(b"still read")
        spared_ours.settimeout(1)
        assert spared_ours.recv(10) == b"still read"
        slow_theirs.sendall(b"x")
        slow_ours.settimeout(1)
        assert slow_ours.recv(1) == b"x"  # not shut: its deadline is 30 s away


def _raw(url: str, head: bytes, parts: list[tuple[bytes, float]] = (), *, wait: float = 25) -> bytes:
    """Send `head`, then each (bytes, pause) part; return everything the server answers."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as conn:
        conn.sendall(head)
        for data, pause in parts:
            time.sleep(pause)
            try:
                conn.sendall(data)
            except OSError:  # the server answered and closed: the rest is refused
                break
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        return answer


@pytest.fixture
def gunicorn(tmp_path, transactional_db):
    env = subprocess_env(REQUEST_BODY_TIMEOUT_SECONDS="1", TELEGRAM_WEBHOOK_SECRET=SECRET)
    with web_server(tmp_path, env) as url:
        yield url


def _head(length: int | None, *, chunked: bool = False) -> bytes:
    lines = [
        "POST /telegram/webhook/ HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
        f"X-Telegram-Bot-Api-Secret-Token: {SECRET}", "Connection: close",
    ]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.postgres
@pytest.mark.worker
def test_gunicorn_answers_408_when_less_arrives_than_declared(gunicorn):
    """Before: no answer until gunicorn's --timeout (30 s) killed the worker; this socket waits 25 s."""
    answer = _raw(gunicorn, _head(100) + b'{"update_id": 1')
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"did not arrive within 1 seconds" in answer
    assert not TelegramUpdate.objects.exists()


@pytest.mark.postgres
@pytest.mark.worker
def test_gunicorn_answers_408_to_a_body_that_trickles_in(gunicorn):
    """A byte every 0.3 s: each wait is short, the whole read is still bounded."""
    body = b'{"update_id": 2, "message": {}}'
    answer = _raw(gunicorn, _head(len(body)), [(bytes([byte]), 0.3) for byte in body])
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert not TelegramUpdate.objects.exists()


@pytest.mark.postgres
@pytest.mark.worker
def test_gunicorn_refuses_a_chunked_body_411_and_stores_a_sized_one(gunicorn):
    body = b'{"update_id": 3, "message": {}}'
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    answer = _raw(gunicorn, _head(None, chunked=True) + chunked)
    assert answer.startswith(b"HTTP/1.1 411 ")
    assert not TelegramUpdate.objects.exists()
    answer = _raw(gunicorn, _head(len(body)) + body)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert TelegramUpdate.objects.filter(update_id=3).exists()
