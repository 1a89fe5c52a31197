"""The desk works without a mouse: sign in, take the next case and answer it with the keyboard
alone (Tab, Shift+Tab, Enter, Space, typing), and every element the keyboard reaches on the way
shows that it has the focus."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from hotline.models import Case, Message
from tests.e2e.conftest import PASSWORD, Evidence, current_code, staff
from tests.factories import receive

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

MAX_TABS = 60

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute("name") || "",
    text: (el.innerText || el.value || "").trim().replace(/\\s+/g, " ").slice(0, 60),
    visible: el.matches(":focus-visible") && style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    onScreen: (() => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.right > 0; })(),
  };
}"""


def focused(page: Page) -> dict[str, Any]:
    return page.evaluate(FOCUSED)


def tab_to(page: Page, wanted: str, *, key: str = "Tab") -> dict[str, Any]:
    """Press Tab (or Shift+Tab) until the focused element's text or id is `wanted`, checking on
    every stop that the focus is visible (outline drawn, element on screen)."""
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        now = focused(page)
        seen.append(now)
        assert now["visible"] and now["onScreen"], f"focus is not visible on {now}; path so far: {seen}"
        if wanted in (now["text"], now["id"]):
            return now
    raise AssertionError(f"{wanted!r} not reached in {MAX_TABS} presses of {key}: {seen}")


def test_keyboard_only_sign_in_take_next_and_reply(
    live_server: Any, seeded: None, settings: Any, page: Page, evidence: Evidence,
) -> None:
    settings.AUTO_ASSIGN = False  # the case waits for "Take next"
    base = live_server.url
    olena = staff("olena")
    waiting = receive(text="Я хочу сдаться, помогите.", language="ru").case
    evidence.watch("olena", page)

    with evidence.step("sign in with the keyboard: username, password, Enter, code, Enter"):
        page.goto(f"{base}/login/")
        assert focused(page)["id"] == "id_username"  # autofocus
        page.keyboard.type(olena.get_username())
        page.keyboard.press("Tab")
        assert focused(page)["id"] == "id_password"
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{base}/login/verify/?next=%2F")
        assert focused(page)["id"] == "id_code"  # autofocus
        page.keyboard.type(current_code(olena))
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{base}/")

    with evidence.step("skip to the content, then Tab to 'Take next case' and press it with Space"):
        skip = tab_to(page, "Skip to content")
        assert skip["tag"] == "a"
        page.keyboard.press("Enter")
        assert focused(page)["id"] == "main"
        take = tab_to(page, "Take next case")
        assert take["tag"] == "button"
        page.keyboard.press("Space")
        expect(page).to_have_url(f"{base}/cases/{waiting.pk}/")
        expect(page.locator("#flash")).to_contain_text(f"Case {waiting.number} is yours.")

    with evidence.step("Tab to the reply box (one Shift+Tab back from 'Send reply'), type and send"):
        tab_to(page, "Send reply")
        page.keyboard.press("Shift+Tab")
        assert focused(page)["id"] == "id_text"
        page.keyboard.type("Здравствуйте, я Олена. Вы в безопасности?")
        page.keyboard.press("Tab")
        assert focused(page)["text"] == "Send reply"
        page.keyboard.press("Enter")
        expect(page.locator("#flash")).to_contain_text("Reply queued for delivery.")
        reply = page.locator(".msg-outbound").filter(has_text="Здравствуйте, я Олена. Вы в безопасности?")
        expect(reply).to_contain_text("olena")
        expect(page.locator(".badge-stage")).to_have_text("In contact")

    case = Case.objects.get(pk=waiting.pk)
    assert case.owner_id == olena.pk and case.first_response_at is not None
    assert Message.objects.filter(case=case, direction="outbound", is_automatic=False).count() == 1
