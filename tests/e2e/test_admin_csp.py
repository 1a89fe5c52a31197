"""The admin under the site's Content-Security-Policy (issue 17, item 8): a superuser signs in
with both steps, opens the admin's index, changelists and change forms (with their JavaScript
widgets: the list's actions, a horizontal filter, a date field), and the browser reports no CSP
violation on any of them: nothing refused in the console, no `securitypolicyviolation` event."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from hotline.models import EquipmentType, Stage
from operators.models import OperatorProfile
from tests.e2e.conftest import Evidence, sign_in, staff
from tests.factories import make_case

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

# Violations are also collected in the page: the console wording is Chromium's, the event is the standard.
LISTEN = """() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation',
    e => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
}"""


def test_the_admin_pages_break_no_rule_of_the_csp(live_server: Any, seeded: None, page: Page, evidence: Evidence):
    base = live_server.url
    admin = staff("root", supervisor=True)
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    case = make_case(Stage.IN_CONTACT, owner=admin)
    tank = EquipmentType.objects.get(name__iexact="tank")
    profile = OperatorProfile.objects.get(user=admin)
    console: list[str] = []

    def heard(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            console.append(f"{message.type}: {message.text}")

    page.on("console", heard)
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.add_init_script(f"({LISTEN})()")
    evidence.watch("root", page)
    sign_in(page, base, admin)
    pages = {
        "index": "/admin/",
        "equipment changelist (editable, actions)": "/admin/hotline/equipmenttype/",
        "equipment change form": f"/admin/hotline/equipmenttype/{tank.pk}/change/",
        "operator profile change form (horizontal filter)": f"/admin/operators/operatorprofile/{profile.pk}/change/",
        "user change form (groups, permissions, dates)": f"/admin/auth/user/{admin.pk}/change/",
        "case changelist (filters)": "/admin/hotline/case/",
        "case (read only)": f"/admin/hotline/case/{case.pk}/change/",
        "authenticator apps": "/admin/operators/authenticatordevice/",
    }
    for name, path in pages.items():
        with evidence.step(name):
            response = page.goto(base + path)
            assert response is not None and response.status == 200, (name, response and response.status)
            assert "script-src 'self'" in response.headers["content-security-policy"]
            expect(page.locator("#content")).to_be_visible()
            page.wait_for_load_state("networkidle")
            violations = page.evaluate("() => window.__cspViolations")
            refused = [line for line in console if "Content Security Policy" in line]
            assert (violations, refused) == ([], []), f"{name}: {violations} {refused}"
    with evidence.step("the horizontal filter's widget ran (its script was allowed)"):
        page.goto(f"{base}/admin/operators/operatorprofile/{profile.pk}/change/")
        expect(page.locator(".selector-available")).to_be_visible()
    assert [line for line in console if "Content Security Policy" in line] == []
    with evidence.step("the watch itself: an inline style, as an admin template might carry, is reported"):
        page.evaluate("() => { document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>'); }")
        expect(page.locator("p[style]")).to_have_count(1)
        page.wait_for_function("() => window.__cspViolations.length > 0")
        assert "style-src" in page.evaluate("() => window.__cspViolations[0]")
