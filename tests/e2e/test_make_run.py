"""Issue 16, point 10: `make run`, as a newcomer runs it, on the embedded defaults (a new SQLite
file and the filesystem broker in a temporary VAR_DIR).

It starts web, worker and beat, prints the demo logins just before them (every start, not only
the first), says no SQLite INCLUDE-index warning (models.W040), and one Ctrl-C (SIGINT to the
terminal's process group) stops everything cleanly: every process it started gone within 5 s, a
few lines, no "Segmentation fault".

(Before: `trap 'kill 0'` re-signalled itself in a loop: ~15,000 "Warm shutdown" lines, a Celery
process alive 12 s later, and make reporting a segmentation fault.)
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.processes import ROOT, free_port

STOP_SECONDS = 5
MOST_LINES_AFTER_CTRL_C = 30


def _children(root: int) -> set[int]:
    """Every live descendant of `root` (from /proc: parent ids), and root itself."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":  # a zombie is gone, only not yet reaped
            parents[int(entry.name)] = int(fields[1])
    found, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                grew = True
    return {pid for pid in found if pid in parents}


class Run:
    """`make run` in its own session, as a terminal runs it; its output read line by line."""

    def __init__(self, tmp_path: Path, port: int) -> None:
        stamp = tmp_path / "installed"  # the virtualenv is this one: nothing to install
        stamp.touch()
        env = {k: v for k, v in os.environ.items()
               if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "MAKEFLAGS"}}
        env["VAR_DIR"] = str(tmp_path / "var")
        self.lines: list[tuple[float, str]] = []
        self.process = subprocess.Popen(  # noqa: S603 - our Makefile, our arguments
            [shutil.which("make") or "make", "--no-print-directory", "run", f"BIN={Path(sys.executable).parent}",
             f"STAMP={stamp}", f"PORT={port}"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
            # A terminal's Ctrl-C reaches processes that have SIGINT at its default.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def text(self, since: int = 0) -> str:
        return "\n".join(line for _at, line in self.lines[since:])

    def kill(self) -> None:
        for pid in _children(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own local server
            return response.status == 200
    except OSError:
        return False


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_starts_the_product_shows_the_logins_and_stops_on_one_ctrl_c(tmp_path: Path) -> None:
    port = free_port(range(8600, 8650))
    run = Run(tmp_path, port)
    try:
        deadline = time.monotonic() + 180
        while not _answers(f"http://127.0.0.1:{port}/login/"):
            assert run.process.poll() is None, f"make run ended early:\n{run.text()}"
            assert time.monotonic() < deadline, f"the page never answered:\n{run.text()}"
            time.sleep(0.5)
        deadline = time.monotonic() + 60  # worker and beat up (they print their first line)
        while not ("worker.1" in run.text() and "beat.1" in run.text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        started = run.text()
        assert "models.W040" not in started and "SQLite does not support indexes" not in started
        logins = re.findall(r"^  (supervisor|olena|taras|iryna) +(\S+) +(supervisor|operator) +(en|uk)$", started,
                            re.MULTILINE)
        assert len(logins) == 4, started
        assert started.index("Demo logins") < started.index("web.1")  # just before the servers, on screen
        processes = _children(run.process.pid)
        names = " ".join(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ") for pid in processes
                         if Path(f"/proc/{pid}/cmdline").exists())
        assert "runserver" in names and "worker" in names and "beat" in names, names

        before, signalled = len(run.lines), time.monotonic()
        os.killpg(run.process.pid, signal.SIGINT)  # Ctrl-C in the terminal
        while any(Path(f"/proc/{pid}").exists() and _children(pid) for pid in processes):
            if time.monotonic() - signalled > STOP_SECONDS:
                break
            time.sleep(0.1)
        left = {pid for pid in processes if _children(pid)}
        took = time.monotonic() - signalled
        run.process.wait(timeout=10)
        time.sleep(0.3)  # the last lines
        after = run.text(before)
        assert not left, f"still running {took:.1f} s after Ctrl-C: {left}\n{after}"
        assert "Segmentation fault" not in after
        assert len(after.splitlines()) < MOST_LINES_AFTER_CTRL_C, after
        assert "SIGKILL" not in after, after  # each stopped on its own, none had to be killed
    finally:
        run.kill()

    # The second start: the demo is there already, and its logins are printed again.
    again = Run(tmp_path, port)
    try:
        deadline = time.monotonic() + 120
        while not _answers(f"http://127.0.0.1:{port}/login/"):
            assert time.monotonic() < deadline and again.process.poll() is None, again.text()
            time.sleep(0.5)
        text = again.text()
        assert "Demo data already present." in text
        assert all(password in text for _name, password, _role, _language in logins)
    finally:
        os.killpg(again.process.pid, signal.SIGINT)
        try:
            again.process.wait(timeout=10)
        finally:
            again.kill()
