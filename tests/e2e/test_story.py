"""Issue 9: one request's whole path, in a real browser, with nothing of ours replaced.

A Telegram update reaches the live server's webhook; a real Celery worker sends the bot's
acknowledgement to the fake Bot API; the request appears in the operator's queue by itself
(htmx polling); the operator, who signed in with the second factor, takes it, answers with an
edited canned reply (which reaches the fake Bot API), verifies, plans and records the surrender
with a tank. A second request waits unanswered past 24 hours: the sweep flags it and the
supervisor's dashboard shows it overdue, with the first case in the response figures. A second
operator cannot open the first operator's case.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from hotline.desk.sla import sla_sweep
from hotline.models import CannedReply, Case, Stage
from tests import telegram
from tests.e2e.conftest import Evidence, sign_in, staff
from tests.fake_bot_api import FakeBotApi

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker]

QUEUE_POLL_WAIT_MS = 20_000  # the queue polls every 10 s
TELEGRAM_WAIT_S = 30  # a message the worker sends reaches the fake Bot API within this


def telegram_update(
    update_id: int, chat_id: int, text: str, first_name: str, *, written_ago: timedelta = timedelta(0),
) -> dict[str, Any]:
    """A private-chat text message, as Telegram posts it to a webhook (`date`: when it was written)."""
    return telegram.message_update(
        chat_id, update_id=update_id, text=text, date=int(time.time() - written_ago.total_seconds()),
        sender=telegram.person(chat_id, first_name=first_name, last_name=None),
    )


def post_update(base_url: str, update: dict[str, Any]) -> None:
    response = httpx.post(base_url + telegram.WEBHOOK_URL, json=update, timeout=10, headers=telegram.headers())
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "result": "accepted"}  # stored; the worker applies it


def wait_for_message(bot_api: FakeBotApi, chat_id: int, text: str | None = None) -> dict[str, Any]:
    """The first sendMessage to `chat_id` (with exactly `text`, if given) the fake Bot API received."""
    deadline = time.monotonic() + TELEGRAM_WAIT_S
    while True:
        for call in bot_api.calls_of("sendMessage"):
            if str(call.get("chat_id")) == str(chat_id) and (text is None or call.get("text") == text):
                return call
        if time.monotonic() > deadline:
            sent = [(c.get("chat_id"), c.get("text")) for c in bot_api.calls_of("sendMessage")]
            raise AssertionError(f"no sendMessage to chat {chat_id} with text {text!r} within "
                                 f"{TELEGRAM_WAIT_S} s; the fake Bot API received: {sent!r}")
        time.sleep(0.1)


def new_page(new_context: Any, evidence: Evidence, name: str) -> Page:
    return evidence.watch(name, new_context().new_page())


def test_a_request_from_telegram_to_a_completed_surrender(
    live_server: Any, bot_api: FakeBotApi, worker: Any, new_context: Any, evidence: Evidence,
) -> None:
    base = live_server.url
    evidence.worker = worker
    olena = staff("olena")
    taras = staff("taras")
    sofia = staff("sofia", supervisor=True)
    canned_body = "Здравствуйте! Вы написали на горячую линию «Хочу жить». Мы вам поможем."
    CannedReply.objects.create(title="Greeting", body=canned_body, language="ru")

    # 1. The operator signs in (password, then the code from her authenticator) and watches
    # the unassigned queue.
    desk = new_page(new_context, evidence, "olena")
    with evidence.step("the operator signs in with the second factor and opens the unassigned queue"):
        sign_in(desk, base, olena)
        desk.get_by_role("navigation", name="Queue views").get_by_role("link", name="Unassigned").click()
        expect(desk).to_have_url(f"{base}/?scope=unassigned")
        expect(desk.locator("#queue-table")).to_contain_text("No cases here.")
        desk.evaluate("window.e2eLoadedOnce = true")  # gone if the page reloads

    # 2. A person writes to the bot. The worker acknowledges; the queue shows the request by itself.
    # Written two hours ago (the phone was offline), so the surrender, recorded to the minute,
    # falls between the first request and now.
    post_update(base, telegram_update(
        700001, 5550101, "Хочу сдаться. Как это сделать?", "Иван", written_ago=timedelta(hours=2),
    ))
    with evidence.step("the bot's acknowledgement reaches Telegram"):
        ack = wait_for_message(bot_api, 5550101)
        assert ack["text"].startswith(settings.TELEGRAM_ACK_TEXT), ack
    case = Case.objects.get()
    row = desk.locator("#queue-table tbody tr").filter(has=desk.get_by_role("link", name=case.number, exact=True))
    with evidence.step(f"case {case.number} appears in the unassigned queue without a reload"):
        expect(row).to_be_visible(timeout=QUEUE_POLL_WAIT_MS)
        expect(row).to_contain_text("New")
        assert desk.evaluate("window.e2eLoadedOnce") is True, "the page was reloaded"
    evidence.document(desk, "queue")

    # 3. She takes it and answers with the canned greeting, edited.
    with evidence.step("the operator takes the case and sends an edited canned reply"):
        row.get_by_role("button", name=f"Take {case.number}").click()
        expect(desk).to_have_url(f"{base}/cases/{case.pk}/")
        expect(desk.get_by_role("heading", name=f"Case {case.number}")).to_be_visible()
        expect(desk.locator("#flash")).to_contain_text("The case is yours.")
        desk.get_by_label("Canned reply").select_option(label="Greeting (ru)")
        desk.get_by_role("button", name="Insert").click()
        reply_box = desk.get_by_role("textbox", name="Reply via Telegram")
        expect(reply_box).to_have_value(canned_body)
        expect(reply_box).to_be_focused()
        reply_box.press("End")
        reply_box.press_sequentially(" Меня зовут Олена.")
        desk.get_by_role("button", name="Send reply").click()
        expect(desk.locator("#flash")).to_contain_text("Reply queued for delivery.")
    sent_text = canned_body + " Меня зовут Олена."
    with evidence.step("the edited reply reaches Telegram"):
        wait_for_message(bot_api, 5550101, sent_text)
    with evidence.step("the case page shows the reply as sent"):
        desk.reload()
        last = desk.locator(".msg-outbound").filter(has_text="Меня зовут Олена.")
        expect(last).to_contain_text("Sent")
        expect(desk.locator(".badge-stage")).to_have_text("In contact")

    # 4. Verified, planned, surrendered with a tank: the reward is due.
    with evidence.step("the operator verifies, plans and records the surrender with a tank"):
        desk.get_by_role("button", name="Mark verified").click()
        expect(desk.locator(".badge-stage")).to_have_text("Verified")
        desk.get_by_role("button", name="Start planning").click()
        expect(desk.locator(".badge-stage")).to_have_text("Planning")
        desk.get_by_text("Record the surrender", exact=True).click()
        surrender = desk.locator(f"form[action='/cases/{case.pk}/surrender/']")
        when = timezone.localtime(timezone.now(), ZoneInfo("Europe/Kyiv"))
        surrender.get_by_label("When").fill(when.strftime("%Y-%m-%dT%H:%M"))
        surrender.get_by_label("Where").fill("Checkpoint 7")
        surrender.get_by_label("Tank").fill("1")
        surrender.get_by_role("button", name="Record surrender").click()
        expect(desk.locator(".badge-stage")).to_have_text("Surrendered")
        expect(desk.locator(".case-head dl")).to_contain_text("Due · 50,000 USD")
        expect(desk.locator("ul.equipment")).to_contain_text("Came: 1 × Tank (50,000 USD)")
    evidence.document(desk, "case", full_page=True)
    case.refresh_from_db()
    assert case.stage == Stage.SURRENDERED and case.first_responder_id == olena.pk

    # 5. Another person writes; nobody answers for 25 hours. The sweep flags it; the
    # supervisor's dashboard shows it overdue and the first case in the response figures.
    post_update(base, telegram_update(700002, 5550102, "Помогите, я на позициях.", "Пётр"))
    with evidence.step("the bot acknowledges the second person"):
        wait_for_message(bot_api, 5550102)
    waiting = Case.objects.exclude(pk=case.pk).get()
    # time_machine moves the clock of this whole process: the live server's threads too.
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=True):
        flagged = sla_sweep()
        assert flagged.overdue == 1, flagged
        with evidence.step("the operator's session has ended (idle for 25 hours, past its 12-hour life)"):
            desk.reload()
            expect(desk).to_have_url(re.compile(r"/login/\?"))
            expect(desk.get_by_role("heading", name="Log in")).to_be_visible()

        board = new_page(new_context, evidence, "sofia")
        with evidence.step("the supervisor's dashboard shows the overdue case and the first answer"):
            sign_in(board, base, sofia)
            board.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
            expect(board.get_by_role("heading", name="Supervisors' dashboard")).to_be_visible()
            expect(board.locator(".tile-overdue")).to_contain_text("1overdue")
            overdue = board.locator("section.card", has=board.get_by_role("heading", name="Overdue cases"))
            expect(overdue.get_by_role("link", name=waiting.number, exact=True)).to_be_visible()
            expect(overdue).to_contain_text("unassigned")
            per_operator = board.locator("div", has=board.get_by_role("heading", name="Per operator", exact=True))
            olena_row = per_operator.locator("table tbody tr").filter(has=board.get_by_role("rowheader", name="olena"))
            expect(olena_row.locator("td").first).to_have_text("1")  # requests she answered first
            expect(olena_row.locator("td").last).to_have_text("100.0%")  # within the SLA
        evidence.document(board, "dashboard", full_page=True)

        # 6. A colleague cannot open Olena's case: the same 404 as a case that does not exist.
        other = new_page(new_context, evidence, "taras")
        with evidence.step("a second operator gets the 404 page for the first operator's case"):
            sign_in(other, base, taras)
            response = other.goto(f"{base}/cases/{case.pk}/")
            assert response is not None and response.status == 404
            expect(other.get_by_role("heading", name="Not found")).to_be_visible()
            expect(other.locator("body")).not_to_contain_text("Checkpoint 7")
