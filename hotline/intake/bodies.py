"""Request bodies: read whole, with a declared length, within a time limit; JSON of bounded depth.

`BoundedBodies` wraps the WSGI application (hotline/wsgi.py), so it stands in front of every
request, whatever the view:

- a body sent without Content-Length (chunked) is refused with 411: Django reads such a body
  as empty, which would turn a well-formed update into a "malformed" one. Telegram always
  sends a length, and nginx (docs/deploy.md) turns a chunked body into one with a length;
- a Content-Length larger than any endpoint accepts is refused with 413 before reading;
- otherwise the body is read whole before Django sees it, and the read ends after
  REQUEST_BODY_TIMEOUT_SECONDS: a client that declares more than it sends (or trickles it)
  gets 408 instead of holding a worker until gunicorn's --timeout kills it. The deadline needs
  the connection's socket, which gunicorn gives (`gunicorn.socket`); a watchdog shuts its read
  side at the deadline, which ends a blocked read at once, however the bytes trickle. One
  watchdog thread per process watches every read (starting a timer thread per request cost
  the webhook about a tenth of its time; docs/notes/perf-intake.md).

`parse_json` is the one JSON reader of the intake endpoints: a body nested deeper than
MAX_JSON_DEPTH is refused as a clear 400 (Python's parser would raise RecursionError, a 500,
at about a thousand levels, and every later walk of the value would too).
"""

from __future__ import annotations

import contextlib
import heapq
import io
import itertools
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

# A Telegram update nests about eight levels (update, message, reply, keyboard, row, button).
MAX_JSON_DEPTH = 64
_READ_STEP = 64 * 1024

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class JSONRefused(ValueError):
    """A body the intake endpoints refuse with 400; the message says why."""


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays and objects nest deeper than `limit` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children)
    return False


def _no_constants(name: str) -> Any:
    raise JSONRefused(f"{name} is not valid JSON.")


def parse_json(body: bytes, *, max_depth: int = MAX_JSON_DEPTH, strict: bool = True) -> Any:
    """The JSON value of `body`, or JSONRefused: not JSON, NaN/Infinity (when `strict`), a number
    of more than 4,300 digits, or nested deeper than `max_depth`."""
    too_deep = JSONRefused(f"The JSON is nested deeper than {max_depth} levels.")
    try:
        value = json.loads(body, parse_constant=_no_constants if strict else None)
    except RecursionError:
        raise too_deep from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, too many digits, bad encoding
        if isinstance(exc, JSONRefused):
            raise
        raise JSONRefused("The body is not valid JSON.") from None
    if json_depth_exceeds(value, max_depth):
        raise too_deep
    return value


# --- the WSGI wrapper -----------------------------------------------------------------------------


def largest_body() -> int:
    """The largest body any endpoint accepts: bigger ones are refused before they are read."""
    return max(
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0, settings.TELEGRAM_MAX_UPDATE_BYTES, settings.API_INTAKE_MAX_BYTES,
    )


# An operator's file upload (hotline/desk/views/media.py): a larger body, more time to send it.
# A file somewhat over the limit still reaches the page, which says so beside the form.
_UPLOAD_PATH = re.compile(r"^/cases/\d+/files/send/$")


def body_limits(path: str) -> tuple[int, float]:
    """The largest body and the seconds to read it for a request to `path`."""
    if _UPLOAD_PATH.match(path):
        most = max(settings.MEDIA_SEND_PHOTO_MAX_BYTES, settings.MEDIA_SEND_DOCUMENT_MAX_BYTES)
        return most + 1024 * 1024, float(settings.MEDIA_UPLOAD_TIMEOUT_SECONDS)
    return largest_body(), float(settings.REQUEST_BODY_TIMEOUT_SECONDS)


def _refuse(start_response: StartResponse, status: str, message: str) -> list[bytes]:
    body = json.dumps({"detail": message}).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _stop_reading(sock: socket.socket) -> None:
    """The deadline passed: end the blocked read (the write side stays open for our answer)."""
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RD)


class Watchdog:
    """Ends reads that pass their deadline: one thread for every read of the process.

    `watch` returns a ticket and `release` ends the watch; a read released before its deadline
    is never touched, since both happen under one lock. The thread is started on first use
    (and again in a forked child, where it does not exist)."""

    GRAIN = 0.05  # seconds a deadline may be overrun, so that many end in one wake-up

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._deadlines: list[tuple[float, int]] = []  # a heap; released tickets stay until due
        self._watched: dict[int, socket.socket] = {}
        self._tickets = itertools.count()
        self._owner = 0  # the process whose thread runs

    def watch(self, sock: socket.socket, timeout: float) -> int:
        ticket = next(self._tickets)
        deadline = time.monotonic() + timeout
        with self._changed:
            if self._owner != os.getpid():
                self._owner = os.getpid()
                self._deadlines, self._watched = [], {}
                threading.Thread(target=self._run, name="body-watchdog", daemon=True).start()
            earliest = self._deadlines[0][0] if self._deadlines else None
            heapq.heappush(self._deadlines, (deadline, ticket))
            self._watched[ticket] = sock
            if earliest is None or deadline < earliest:
                self._changed.notify()
        return ticket

    def release(self, ticket: int) -> None:
        with self._changed:
            self._watched.pop(ticket, None)

    def _run(self) -> None:
        with self._changed:
            while True:
                if not self._deadlines:
                    self._changed.wait()
                    continue
                now = time.monotonic()
                while self._deadlines and self._deadlines[0][0] <= now:
                    _, ticket = heapq.heappop(self._deadlines)
                    sock = self._watched.pop(ticket, None)
                    if sock is not None:
                        _stop_reading(sock)
                if self._deadlines:
                    self._changed.wait(self._deadlines[0][0] - now + self.GRAIN)


_watchdog = Watchdog()


class BoundedBodies:
    """WSGI middleware: see the module's docstring."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        raw_length = environ.get("CONTENT_LENGTH") or ""
        if environ.get("HTTP_TRANSFER_ENCODING") and not raw_length:
            return _refuse(
                start_response, "411 Length Required",
                "Send the body with a Content-Length header; a body without one (chunked) is not read.",
            )
        try:
            length = int(raw_length or 0)
        except ValueError:
            return _refuse(start_response, "400 Bad Request", "Content-Length is not a number.")
        if length < 0:
            return _refuse(start_response, "400 Bad Request", "Content-Length is not a number.")
        if length == 0:
            return self.app(environ, start_response)
        limit, timeout = body_limits(environ.get("PATH_INFO") or "")
        if length > limit:
            return _refuse(start_response, "413 Content Too Large", f"A body can be at most {limit} bytes.")
        body, late = self._read(environ["wsgi.input"], length, environ.get("gunicorn.socket"), timeout)
        if late:
            logger.warning("request body late: %s of %s bytes within %ss", len(body), length, timeout)
            return _refuse(
                start_response, "408 Request Timeout",
                f"The body did not arrive within {timeout:g} seconds (Content-Length {length}, received {len(body)}).",
            )
        if len(body) < length:
            return _refuse(
                start_response, "400 Bad Request",
                f"The body ended after {len(body)} of the {length} bytes of its Content-Length.",
            )
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)

    @staticmethod
    def _read(stream: Any, length: int, sock: socket.socket | None, timeout: float) -> tuple[bytes, bool]:
        """Read `length` bytes; (what arrived, True if the deadline ended the read first)."""
        deadline = time.monotonic() + timeout
        ticket = _watchdog.watch(sock, timeout) if sock is not None else None
        buffer = bytearray()
        try:
            while len(buffer) < length:
                try:
                    chunk = stream.read(min(_READ_STEP, length - len(buffer)))
                except OSError:  # reset by the peer, or the read side shut by the watchdog
                    break
                if not chunk:
                    break
                buffer += chunk
        finally:
            if ticket is not None:
                _watchdog.release(ticket)
        late = len(buffer) < length and time.monotonic() >= deadline
        return bytes(buffer), late
