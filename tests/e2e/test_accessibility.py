"""Automated accessibility check (axe-core) of the desk's main pages: no serious or critical
violation on the login page, the code step, the queue, a case page, the dashboard and the team
page.

axe-core is the copy bundled in the axe-playwright-python wheel (no network). The site's CSP
allows scripts from 'self' only, so a <script> tag added by the test (Playwright's
add_script_tag, which inlines the file) is refused, as it should be (the first test pins that).
axe-core is instead evaluated through the DevTools protocol (page.evaluate, as
axe-playwright-python itself does), which the page's CSP does not govern: the pages are checked
with their policy ON, exactly as operators get them (no bypass_csp, which could also let
through styles the policy would block and so check a different page).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import axe_playwright_python
import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from hotline.desk import services
from hotline.models import CannedReply, Stage
from tests.e2e.conftest import PASSWORD, Evidence, current_code, staff
from tests.factories import make_case, receive

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

AXE_JS = Path(axe_playwright_python.__file__).parent / "axe.min.js"
AXE_SOURCE = AXE_JS.read_text(encoding="utf-8")
BLOCKING = {"serious", "critical"}


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page, every <details> opened (closed ones hide forms from the check);
    every violation, with its impact."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.evaluate(AXE_SOURCE)
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert len(results["passes"]) >= 10, f"axe-core checked almost nothing on {page.url}: {results['passes']}"
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "targets": [", ".join(map(str, n["target"])) for n in v["nodes"]][:5]}
        for v in results["violations"]
    ]


def assert_accessible(page: Page, name: str) -> None:
    violations = axe_violations(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"{name} ({page.url}) has serious or critical accessibility violations: {blocking}"


def test_the_csp_refuses_an_injected_script(live_server: Any, page: Page) -> None:
    """The policy holds in a real browser: a script the page did not bring from 'self' is refused
    (which is why the check below evaluates axe-core instead of adding a <script> tag)."""
    response = page.goto(f"{live_server.url}/login/")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    with pytest.raises(PlaywrightError, match="violates the following Content Security Policy directive"):
        page.add_script_tag(path=str(AXE_JS))
    assert page.evaluate("() => typeof window.axe") == "undefined"


def test_main_pages_have_no_serious_accessibility_violation(
    live_server: Any, seeded: None, settings: Any, page: Page, evidence: Evidence,
) -> None:
    settings.AUTO_ASSIGN = False
    base = live_server.url
    evidence.watch("sofia", page)
    sofia = staff("sofia", supervisor=True)
    olena = staff("olena")
    CannedReply.objects.create(title="Greeting", body="Здравствуйте, мы на связи.", language="ru")
    # Something on every page: waiting, answered, surrendered and closed cases.
    receive(text="Хочу сдаться")
    receive(text="Я в плену?", language="uk", at=timezone.now() - timezone.timedelta(hours=22))
    mine = make_case(Stage.IN_CONTACT, owner=sofia)
    services.case_add_note(actor=sofia, case_id=mine.pk, text="Говорит спокойно, просит перезвонить вечером.")
    make_case(Stage.SURRENDERED, owner=olena)
    make_case(Stage.CLOSED, owner=olena)

    with evidence.step("login and code pages"):
        page.goto(f"{base}/login/")
        assert_accessible(page, "login")
        page.get_by_label("Username").fill(sofia.get_username())
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_label("Code")).to_be_visible()
        assert_accessible(page, "otp step")
        page.get_by_label("Code").fill(current_code(sofia))
        page.get_by_role("button", name="Continue").click()
        expect(page).to_have_url(f"{base}/")

    pages = {
        "queue (unassigned)": "/?scope=unassigned",
        "queue (all open)": "/?scope=all",
        "case page": f"/cases/{mine.pk}/",
        "dashboard": "/dashboard/",
        "team page": "/operators/team/",
        "canned replies": "/canned/",
        "audit": "/audit/",
        "preferences": "/operators/preferences/",
        "security": "/operators/security/",
    }
    for name, path in pages.items():
        with evidence.step(name):
            response = page.goto(base + path)
            assert response is not None and response.status == 200, (name, response and response.status)
            assert_accessible(page, name)
    with evidence.step("the 404 page"):
        response = page.goto(f"{base}/cases/999999/")
        assert response is not None and response.status == 404
        assert_accessible(page, "not found")
