"""A local stand-in for Telegram's Bot API: a stdlib HTTP server in a thread.

It speaks the real protocol (POST /bot<token>/<method>, JSON in, {"ok": ...} out, 401 for
a wrong token) and answers sendMessage like Telegram does unless a test scripts other
answers (429 with retry_after, 403 blocked, 400, 5xx) for a method.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PORTS = range(8100, 8200)  # this checkout's share of local ports

Answer = tuple[int, Any]  # (HTTP status, JSON body or raw str)


def too_many_requests(retry_after: int) -> Answer:
    return 429, {
        "ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {retry_after}",
        "parameters": {"retry_after": retry_after},
    }


def blocked() -> Answer:
    return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}


def bad_request(description: str = "Bad Request: chat not found") -> Answer:
    return 400, {"ok": False, "error_code": 400, "description": description}


def server_error() -> Answer:
    return 502, "<html><body>502 Bad Gateway</body></html>"


class FakeBotApi:
    def __init__(self, token: str = "123456789:TEST-token-abc", *, ports: range = PORTS) -> None:  # noqa: S107
        self.token = token
        self.ports = ports  # it listens on the first free one
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._scripts: dict[str, deque[Answer]] = defaultdict(deque)
        self._message_ids = itertools.count(7001)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- test side ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def script(self, method: str, *answers: Answer) -> None:
        """The next calls of `method` get these answers, in order; then the normal answer."""
        with self._lock:
            self._scripts[method].extend(answers)

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [payload for name, payload in self.calls if name == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls_of(method)
            if len(calls) >= count:
                return calls
            time.sleep(0.05)
        raise AssertionError(f"{method} was called {len(self.calls_of(method))} times, expected {count}")

    def start(self) -> FakeBotApi:
        handler = type("Handler", (_Handler,), {"api": self})
        for port in self.ports:
            try:
                self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
                break
            except OSError:
                continue
        else:
            raise RuntimeError(f"no free port in {self.ports.start}-{self.ports.stop - 1}")
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- server side -------------------------------------------------------------------------
    def answer(self, path: str, payload: dict[str, Any]) -> Answer:
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = path[len(prefix):]
        with self._lock:
            self.calls.append((method, payload))
            if self._scripts[method]:
                return self._scripts[method].popleft()
        if method == "sendMessage":
            if not payload.get("text"):
                return bad_request("Bad Request: message text is empty")
            return 200, {"ok": True, "result": {
                "message_id": next(self._message_ids), "date": int(time.time()),
                "chat": {"id": int(payload["chat_id"]), "type": "private"}, "text": payload["text"],
            }}
        if method == "setWebhook":
            return 200, {"ok": True, "result": True, "description": "Webhook was set"}
        return 200, {"ok": True, "result": True}


class _Handler(BaseHTTPRequestHandler):
    api: FakeBotApi

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            payload = {}
        status, body = self.api.answer(self.path, payload)
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html" if isinstance(body, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass
