"""Issue 16 in a real browser: what a new operator and a supervisor see through a shift.

- point 1: a refused form (a surrender time outside first contact..now), posted by htmx with DEBUG
  on as `make run` has it, leaves the page whole: header, case, the typed values, the error
  beside its field, the focus on it;
- point 5: every page at phone width (390 x 844) without horizontal scrolling, the header short,
  the unassigned list's Take button on screen;
- point 7: a shift with the keyboard alone (j/k in the queue, t, r, n, Esc, u, j on a case, ?),
  each step said in the live region; the help dialog passes axe-core;
- point 8: the trend chart's date labels inside the chart;
- point 11: no CSP violation in the console on any page, including after boosted form posts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect

from hotline.desk import services
from hotline.models import CannedReply, Case, Stage
from tests.e2e.conftest import Evidence, staff
from tests.e2e.test_accessibility import assert_accessible
from tests.factories import login, make_case, receive

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

PHONE = {"width": 390, "height": 844}
MOST_HEADER_PX = 130


def signed_in(browser: Browser, base: str, user: Any, *, viewport: dict[str, int] | None = None) -> BrowserContext:
    """A browser context already past both sign-in steps (the session made as tests/factories.py
    makes one; the sign-in pages themselves are tests/e2e/test_story.py's)."""
    client = Client()
    login(client, user)
    context = browser.new_context(viewport=viewport or {"width": 1366, "height": 900}, locale="en-GB")
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    return context


class Console:
    """Every console message and page error of a page, to fail on CSP violations."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("console", lambda message: self.messages.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))

    def violations(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m or "Refused to" in m or "pageerror" in m]


@pytest.fixture
def desk(seeded: None, settings: Any) -> dict[str, Any]:
    settings.AUTO_ASSIGN = False
    olena = staff("olena")
    sofia = staff("sofia", supervisor=True)
    CannedReply.objects.create(title="Greeting", body="Здравствуйте, мы на связи.", language="ru")
    planning = make_case(Stage.PLANNING, owner=olena)
    talking = make_case(Stage.IN_CONTACT, owner=olena)
    waiting = [receive(text="Хочу сдаться", at=timezone.now() - timedelta(hours=h)).case for h in (30, 21, 2)]
    return {"olena": olena, "sofia": sofia, "planning": planning, "talking": talking, "waiting": waiting}


def test_a_refused_surrender_leaves_the_page_whole_with_debug_on(
    live_server: Any, desk: dict[str, Any], browser: Browser, settings: Any, evidence: Evidence,
) -> None:
    settings.DEBUG = True  # make run's setting, under which django-htmx's script blanked the page
    base, case = live_server.url, desk["planning"]
    page = evidence.watch("olena", signed_in(browser, base, desk["olena"]).new_page())
    console = Console(page)
    with evidence.step("record a surrender dated before the first request"):
        page.goto(f"{base}/cases/{case.pk}/")
        page.get_by_text("Record the surrender").click()
        page.get_by_label("When").fill("2020-01-01T10:00")
        page.get_by_label("Where").fill("Kharkiv direction")
        page.get_by_role("button", name="Record surrender").click()
    with evidence.step("the same page, whole, with the error beside the field and the values kept"):
        error = page.locator("#sur_surrendered_at_error")
        expect(error).to_have_text("The surrender time must be between the first request and now.")
        expect(page.locator("header.topbar")).to_be_visible()
        expect(page.get_by_role("heading", name=f"Case {case.number}")).to_be_visible()
        expect(page.get_by_label("When")).to_have_value("2020-01-01T10:00")
        expect(page.get_by_label("Where")).to_have_value("Kharkiv direction")
        assert page.evaluate("document.activeElement.id") == "sur_surrendered_at"
        assert page.url == f"{base}/cases/{case.pk}/"
    assert Case.objects.get(pk=case.pk).stage == Stage.PLANNING
    assert console.violations() == []


def test_no_csp_violation_on_any_page_nor_after_boosted_posts(
    live_server: Any, desk: dict[str, Any], browser: Browser, evidence: Evidence,
) -> None:
    base = live_server.url
    page = evidence.watch("sofia", signed_in(browser, base, desk["sofia"]).new_page())
    console = Console(page)
    talking = desk["talking"]
    for path in ("/", "/?scope=unassigned", "/?scope=all", f"/cases/{talking.pk}/", "/dashboard/",
                 "/operators/team/", "/canned/", "/audit/", "/operators/preferences/", "/operators/security/",
                 f"/operators/team/{desk['olena'].pk}/deactivate/", f"/search/?q=%23{talking.pk}"):
        with evidence.step(f"open {path}"):
            assert page.goto(base + path).status == 200
    with evidence.step("boosted posts: a reply, a note, a refused advance"):
        page.goto(f"{base}/cases/{talking.pk}/")
        page.get_by_label("Reply via Telegram").fill("Здравствуйте")
        page.get_by_role("button", name="Send reply").click()
        expect(page.locator("#flash")).to_contain_text("Reply queued for delivery.")
        page.locator("#note-panel summary").click()
        page.locator("#note_text").fill("Спокоен")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator("#flash")).to_contain_text("Note added.")
        page.get_by_role("button", name="Mark verified").click()
        expect(page.locator("#flash")).to_contain_text("Stage changed.")
    with evidence.step("the login page, signed out"):
        page.context.clear_cookies()
        page.goto(f"{base}/login/")
    assert console.violations() == [], console.messages


PAGES_BY_ROLE = {
    "olena": ["/", "/?scope=unassigned", "/cases/{talking}/", "/cases/{planning}/", "/operators/preferences/",
              "/operators/security/", "/search/?q=%23{talking}"],
    "sofia": ["/?scope=all", "/dashboard/", "/operators/team/", "/canned/", "/audit/",
              "/operators/team/{olena}/deactivate/", "/cases/{talking}/", "/search/?q=%23{planning}"],
}


@pytest.mark.parametrize("who", sorted(PAGES_BY_ROLE))
def test_every_page_fits_a_phone(live_server: Any, desk: dict[str, Any], browser: Browser, who: str,
                                  evidence: Evidence) -> None:
    base = live_server.url
    ids = {"talking": desk["talking"].pk, "planning": desk["planning"].pk, "olena": desk["olena"].pk}
    page = evidence.watch(who, signed_in(browser, base, desk[who], viewport=PHONE).new_page())
    for path in [p.format(**ids) for p in PAGES_BY_ROLE[who]] + ["/cases/999999/"]:
        with evidence.step(f"{who} at 390 px: {path}"):
            page.goto(base + path)
            page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} is {width} px wide"
            header = page.evaluate("(document.querySelector('header') || {getBoundingClientRect: () => ({height: 0})})"
                                   ".getBoundingClientRect().height")
            assert header <= MOST_HEADER_PX, f"{path}: the header takes {header} px"
    if who == "olena":
        with evidence.step("the unassigned list's Take buttons are on screen"):
            page.goto(f"{base}/?scope=unassigned")
            for box in [b.bounding_box() for b in page.get_by_role("button", name="Take").all()]:
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        with evidence.step("the phone-width queue has no serious accessibility violation"):
            assert_accessible(page, "queue at 390 px")


def _announced(page: Page) -> str:
    return page.locator("#announce").inner_text()


def test_a_shift_with_the_keyboard_alone(live_server: Any, desk: dict[str, Any], browser: Browser,
                                         evidence: Evidence) -> None:
    base = live_server.url
    page = evidence.watch("olena", signed_in(browser, base, desk["olena"]).new_page())
    waiting = desk["waiting"]
    with evidence.step("? opens the list of shortcuts, a dialog axe-core accepts; Esc closes it"):
        page.goto(f"{base}/?scope=unassigned")
        page.keyboard.press("?")
        dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(dialog).to_be_visible()
        assert_accessible(page, "the shortcuts dialog")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
    with evidence.step("j and k move through the queue, each move said"):
        page.keyboard.press("j")
        expect(page.locator("#queue-table tr.selected")).to_contain_text(waiting[0].number)
        assert page.evaluate("document.activeElement.textContent.trim()") == waiting[0].number
        expect(page.locator("#announce")).to_contain_text(f"Case {waiting[0].number}, 1 of 3")
        page.keyboard.press("j")
        page.keyboard.press("j")
        page.keyboard.press("k")
        expect(page.locator("#announce")).to_contain_text(f"Case {waiting[1].number}, 2 of 3")
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{base}/cases/{waiting[1].pk}/")
    with evidence.step("u goes back to the queue; t takes the next case"):
        page.keyboard.press("u")
        expect(page).to_have_url(f"{base}/")
        page.keyboard.press("t")
        expect(page).to_have_url(f"{base}/cases/{waiting[0].pk}/")
        expect(page.locator("#flash")).to_contain_text(f"Case {waiting[0].number} is yours.")
    with evidence.step("r writes a reply; Esc leaves the box so the keys work again"):
        page.keyboard.press("r")
        assert page.evaluate("document.activeElement.id") == "id_text"
        expect(page.locator("#announce")).to_have_text("Reply box")
        typed = "Olena here, just trying: j k t r n u ?"  # typed into the box: text, not shortcuts
        page.keyboard.type(typed)
        page.keyboard.press("Escape")
        assert page.evaluate("document.activeElement.id") != "id_text"
        expect(page.get_by_label("Reply via Telegram")).to_have_value(typed)
        expect(page).to_have_url(f"{base}/cases/{waiting[0].pk}/")
    with evidence.step("n opens the note, focused"):
        page.keyboard.press("n")
        assert page.evaluate("document.activeElement.id") == "note_text"
        expect(page.locator("#note-panel")).to_have_attribute("open", "")
        page.keyboard.press("Escape")
    with evidence.step("j opens the next case of my queue"):
        page.keyboard.press("j")
        expect(page).not_to_have_url(f"{base}/cases/{waiting[0].pk}/")
        assert f"{base}/cases/" in page.url
    assert Case.objects.get(pk=waiting[0].pk).owner_id == desk["olena"].pk


def test_the_trend_charts_dates_stay_inside_it(live_server: Any, desk: dict[str, Any], browser: Browser,
                                              evidence: Evidence) -> None:
    olena = desk["olena"]
    for days in range(1, 8):  # an answered request on each of the last 7 days
        at = timezone.now() - timedelta(days=days, hours=1)
        case = receive(at=at).case
        services.case_reply(actor=olena, case_id=case.pk, text="Мы на связи")
    page = evidence.watch("sofia", signed_in(browser, live_server.url, desk["sofia"]).new_page())
    page.goto(f"{live_server.url}/dashboard/?period=30d")
    boxes = page.evaluate("""() => Array.from(document.querySelectorAll('svg.chart text.tick'))
        .filter(t => /\\d\\d\\.\\d\\d/.test(t.textContent))
        .map(t => { const b = t.getBBox(); return {text: t.textContent, x: b.x, right: b.x + b.width}; })""")
    assert boxes, "no date labels"
    width = page.evaluate("document.querySelector('svg.chart').viewBox.baseVal.width")
    for box in boxes:
        assert box["x"] >= 0 and box["right"] <= width, box
