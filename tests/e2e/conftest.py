"""Browser tests: Playwright drives Debian's Chromium against Django's live server on the test
PostgreSQL database, with a real Celery worker (a subprocess on Redis) and the local fake Bot
API standing in for Telegram.

Chromium is not downloaded by Playwright here: the system one at /usr/bin/chromium is used.
Locally its absence skips these tests; under CI=true it is a failure (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from operators.models import OperatorProfile
from tests.conftest import missing
from tests.factories import make_operator, seed_data_migration_rows
from tests.fake_bot_api import FakeBotApi
from tests.processes import Process

# Playwright's sync API runs an asyncio loop in the test's thread; Django refuses ORM calls
# from such a thread unless told it is safe (it is: the loop never runs our code). Django reads
# it at each call, so setting it when this file is collected (before any test) is enough and
# `make test` needs nothing extra.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
LIVE_SERVER_PORTS = range(8150, 8200)  # this checkout's share is 8100-8199; the fake Bot API starts at 8100
PASSWORD = "correct horse battery"  # tests/factories.py: make_operator
WAIT_MS = 10_000  # the longest a page may take to show the result of an action

expect.set_options(timeout=WAIT_MS)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last (after pytest-django's own ordering). Like every transactional
    test they end by emptying the database, seeded roles and equipment included, which tests
    that run later rely on; and Playwright's event loop then lives on to the end of the session."""
    here = Path(__file__).resolve().parent
    items.sort(key=lambda item: here in item.path.resolve().parents)


def write_screenshots() -> bool:
    """E2E_SCREENSHOTS=1 rewrites docs/screenshots/e2e-*.png; normal runs leave them alone."""
    return os.environ.get("E2E_SCREENSHOTS", "").lower() in {"1", "true", "yes"}


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, never a downloaded one. Missing: skip locally, fail under CI=true."""
    if not (shutil.which(CHROMIUM) or os.access(CHROMIUM, os.X_OK)):
        missing(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en-GB"}


# --- the server ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server() -> Iterator[Any]:
    """pytest-django's live server, on a port from this checkout's range instead of a random one."""
    from pytest_django.live_server_helper import LiveServer

    last_error: Exception | None = None
    for port in LIVE_SERVER_PORTS:
        try:
            server = LiveServer(f"127.0.0.1:{port}")
        except OSError as error:  # taken: try the next one
            last_error = error
            continue
        break
    else:
        raise RuntimeError(f"no free port in {LIVE_SERVER_PORTS}") from last_error
    yield server
    server.stop()


@pytest.fixture
def seeded(transactional_db: None) -> None:
    """Roles, languages and equipment types come from data migrations; an earlier transactional
    test's flush removed them, so they are written again (idempotent)."""
    seed_data_migration_rows()


@pytest.fixture
def bot_api(bot_api: FakeBotApi, settings: Any) -> FakeBotApi:
    """The fake Telegram (tests/conftest.py), configured for the live server (same process: the
    settings fixture); the story's cases wait in the unassigned queue."""
    settings.AUTO_ASSIGN = False
    return bot_api


@pytest.fixture
def worker(seeded: None, worker: Process) -> Process:
    """The story's worker (tests/conftest.py): it talks to the fake Bot API and, like the live
    server, does not auto-assign."""
    return worker


# --- people --------------------------------------------------------------------------------------


def staff(username: str, *, supervisor: bool = False, languages: tuple[str, ...] = ("ru", "uk")) -> User:
    """A staff user with an English interface (assertions read English) and a confirmed TOTP device."""
    from operators.models import AuthenticatorDevice as TOTPDevice

    user = make_operator(username, supervisor=supervisor, languages=languages)
    OperatorProfile.objects.filter(user=user).update(ui_language="en", time_zone="Europe/Kyiv")
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    return user


def current_code(user: User) -> str:
    """The code the user's authenticator app shows now, computed from the real device's key.

    django-otp refuses a code from a time step it already accepted (replay): if this device
    was used in the current 30-second step, wait for the next one (bounded).
    """
    from django_otp.oath import TOTP

    from operators.models import AuthenticatorDevice as TOTPDevice

    device = TOTPDevice.objects.get(user=user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    deadline = time.monotonic() + device.step + 2
    while device.last_t is not None and totp.t() <= device.last_t and time.monotonic() < deadline:
        time.sleep(0.5)
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def sign_in(page: Page, base_url: str, user: User) -> None:
    """The real two steps: password on /login/, then the TOTP code on /login/verify/."""
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}/login/verify/?next=%2F")
    page.get_by_label("Code").fill(current_code(user))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", name="Queue", level=1)).to_be_visible()


# --- evidence on failure -------------------------------------------------------------------------


class Evidence:
    """Turns a failed step into an assertion message with screenshots and the worker's log."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.pages: dict[str, Page] = {}
        self.worker: Process | None = None

    def watch(self, name: str, page: Page) -> Page:
        self.pages[name] = page
        return page

    def explain(self, what: str) -> str:
        lines = [what]
        for name, page in self.pages.items():
            path = self.directory / f"failure-{name}.png"
            try:
                page.screenshot(path=str(path), full_page=True)
                lines.append(f"screenshot of {name}'s page ({page.url}): {path}")
            except PlaywrightError as error:
                lines.append(f"no screenshot of {name}'s page: {error}")
        if self.worker is not None:
            lines.append(f"worker log ({self.worker.log_path}), last lines:\n{self.worker.log()[-6000:]}")
        return "\n".join(lines)

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        try:
            yield
        except (AssertionError, PlaywrightError) as error:
            raise AssertionError(self.explain(f"Step failed: {what}\n{error}")) from error

    def document(self, page: Page, name: str, *, full_page: bool = False) -> None:
        """docs/screenshots/e2e-<name>.png, only when E2E_SCREENSHOTS is set."""
        if write_screenshots():
            page.screenshot(path=str(SCREENSHOTS / f"e2e-{name}.png"), full_page=full_page)


@pytest.fixture
def evidence(tmp_path: Path) -> Evidence:
    return Evidence(tmp_path)
