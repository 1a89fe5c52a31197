"""Live pages in Chromium: a new message from the person, posted to the webhook and applied,
appears on the open case page without a reload within 2 s; the header's counter follows
within 5 s (hotline/desk/live.py, views/live.py)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from hotline.desk import ownership
from hotline.intake.telegram import inbox
from hotline.models import Case
from tests import telegram
from tests.e2e.conftest import Evidence, sign_in, staff
from tests.fake_bot_api import FakeBotApi

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]
CASE_WAIT_MS = 2_000  # the case page polls every second
HEADER_WAIT_MS = 5_000  # every page polls the desk every four


def _write(base_url: str, chat_id: int, text: str, first_name: str) -> None:
    """The person writes: Telegram posts the update to the webhook; a worker applies it (here,
    in this process, as the worker's task does)."""
    update = telegram.message_update(
        chat_id, update_id=telegram.next_update_id(), text=text, date=int(time.time()),
        sender=telegram.person(chat_id, first_name=first_name, last_name=None),
    )
    response = httpx.post(base_url + telegram.WEBHOOK_URL, json=update, timeout=10, headers=telegram.headers())
    assert response.status_code == 200, response.text
    inbox.process_pending()


def test_a_new_message_appears_on_the_open_case_page_and_the_header_follows(
    live_server: Any, seeded: None, bot_api: FakeBotApi, page: Page, evidence: Evidence,
) -> None:
    base = live_server.url
    olena = staff("olena")
    _write(base, 5550201, "Здравствуйте, я хочу сдаться", "Павел")
    case = Case.objects.get()
    ownership.case_take(actor=olena, case_id=case.pk)
    evidence.watch("olena", page)

    with evidence.step("the operator opens her case"):
        sign_in(page, base, olena)
        page.goto(f"{base}/cases/{case.pk}/")
        expect(page.locator("#case-messages")).to_contain_text("Здравствуйте, я хочу сдаться")
        expect(page.locator("#header-counts")).to_contain_text("0 unassigned")
        page.evaluate("window.e2eLoadedOnce = true")  # gone if the page reloads

    _write(base, 5550201, "Я на блокпосту, жду ответа", "Павел")
    with evidence.step("the person's new message appears within 2 s, without a reload"):
        expect(page.locator("#case-messages")).to_contain_text("Я на блокпосту, жду ответа", timeout=CASE_WAIT_MS)
        assert page.evaluate("window.e2eLoadedOnce") is True, "the page was reloaded"

    _write(base, 5550202, "Добрый день", "Сергей")  # someone else: a new unassigned case
    with evidence.step("the header's unassigned counter updates within 5 s"):
        expect(page.locator("#header-counts")).to_contain_text("1 unassigned", timeout=HEADER_WAIT_MS)
        assert page.evaluate("window.e2eLoadedOnce") is True, "the page was reloaded"
    evidence.document(page, "live-case")
