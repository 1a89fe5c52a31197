"""A local stand-in for Telegram's Bot API: a stdlib HTTP server in a thread.

It speaks the real protocol (POST /bot<token>/<method>, JSON in, {"ok": ...} out, 401 for
a wrong token) and answers sendMessage like Telegram does unless a test scripts other
answers (429 with retry_after, 403 blocked, 400, 5xx) for a method.

Files (issue 15): a test registers bytes with `add_file`; getFile answers with their path and
GET /file/bot<token>/<path> serves them, like Telegram's file server (a file over 20 MB is
refused by getFile with "file is too big"). Script the download's answers with the method
name DOWNLOAD. sendPhoto and sendDocument take multipart/form-data; the call's payload holds
the form fields and, under the file's field, the uploaded bytes.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PORTS = range(8100, 8200)  # this checkout's share of local ports

Answer = tuple[int, Any]  # (HTTP status, JSON body or raw str)
DOWNLOAD = "download"  # the name under which file downloads are recorded and scripted
BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024


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
        self._files: dict[str, tuple[str, bytes, int]] = {}  # file_id -> (path, bytes, claimed size)

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

    def add_file(
        self, file_id: str, data: bytes, *, path: str | None = None, size: int | None = None,
    ) -> dict[str, Any]:
        """Make a file downloadable; returns its Bot API fields (file_id, file_unique_id,
        file_size) for building an update. `size` claims another size (a file "too big")."""
        unique = hashlib.sha256(file_id.encode()).hexdigest()[:16]
        path = path or f"documents/file_{unique}"
        with self._lock:
            self._files[file_id] = (path, data, len(data) if size is None else size)
        return {"file_id": file_id, "file_unique_id": unique, "file_size": len(data) if size is None else size}

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
        if method == "getFile":
            with self._lock:
                known = self._files.get(str(payload.get("file_id")))
            if known is None:
                return bad_request("Bad Request: invalid file_id")
            path, _data, size = known
            if size > BOT_API_DOWNLOAD_LIMIT:
                return bad_request("Bad Request: file is too big")
            return 200, {"ok": True, "result": {
                "file_id": payload["file_id"], "file_unique_id": hashlib.sha256(str(payload["file_id"]).encode())
                .hexdigest()[:16], "file_size": size, "file_path": path,
            }}
        if method in ("sendPhoto", "sendDocument"):
            field = "photo" if method == "sendPhoto" else "document"
            if not payload.get(field):
                return bad_request(f"Bad Request: there is no {field} in the request")
            return 200, {"ok": True, "result": {
                "message_id": next(self._message_ids), "date": int(time.time()),
                "chat": {"id": int(payload["chat_id"]), "type": "private"},
            }}
        return 200, {"ok": True, "result": True}

    def download(self, path: str) -> tuple[int, bytes]:
        prefix = f"/file/bot{self.token}/"
        if not path.startswith(prefix):
            return 401, b'{"ok":false,"error_code":401,"description":"Unauthorized"}'
        wanted = path[len(prefix):]
        with self._lock:
            self.calls.append((DOWNLOAD, {"path": wanted}))
            if self._scripts[DOWNLOAD]:
                status, body = self._scripts[DOWNLOAD].popleft()
                return status, body.encode() if isinstance(body, str) else json.dumps(body).encode()
            for file_path, data, _size in self._files.values():
                if file_path == wanted:
                    return 200, data
        return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'


def _multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """The fields of a multipart/form-data body: text as str, a file as its bytes."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw,
    )
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            fields[name] = data
            fields[f"{name}_filename"] = part.get_filename()
            fields[f"{name}_content_type"] = part.get_content_type()
        else:
            fields[name] = data.decode()
    return fields


class _Handler(BaseHTTPRequestHandler):
    api: FakeBotApi

    def do_GET(self) -> None:
        status, data = self.api.download(self.path)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream" if status == 200 else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        content_type = self.headers.get("Content-Type") or ""
        try:
            multipart = content_type.startswith("multipart/")
            payload = _multipart(content_type, raw) if multipart else json.loads(raw or b"{}")
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
