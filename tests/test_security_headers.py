"""Production settings pass `check --deploy` clean; every page carries a strict CSP and the
HTML has nothing that policy would block (inline script or style, event-handler attributes)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from hotline.models import Case, Stage
from tests.factories import login, make_case, receive

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_under_production_settings_has_no_warning():
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "DEBUG"))},
        "DJANGO_SETTINGS_MODULE": "hotline.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "desk.example.org",
        "CONTACT_LOOKUP_KEY": secrets.token_urlsafe(32),
        "FIELD_ENCRYPTION_KEY": "dGVzdC1vbmx5LWZpZWxkLWtleS0zMi1ieXRlcy0hISE=",
        "REDIS_URL": "redis://127.0.0.1:6379/0",  # read, not connected to, by `check`
        "DATABASE_URL": "sqlite:///" + str(ROOT / "var" / "check-deploy.sqlite3"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output


def test_production_forces_the_second_factor_whatever_the_environment():
    source = (ROOT / "hotline" / "settings" / "production.py").read_text()
    assert re.search(r"^OTP_REQUIRED = True$", source, re.MULTILINE)
    assert "OTP_REQUIRED" not in source.split("OTP_REQUIRED = True")[1]  # nothing overrides it later


class _Inline(HTMLParser):
    """Collects what a strict CSP would block in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        values = {name: value or "" for name, value in attrs}
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style>")
        if tag == "link" and values.get("rel") == "stylesheet" and not values.get("href", "").startswith("/static/"):
            self.problems.append(f"stylesheet from elsewhere: {values.get('href')}")
        if tag == "script" and not values.get("src", "/static/").startswith("/static/"):
            self.problems.append(f"script from elsewhere: {values.get('src')}")
        for name in names:
            if name == "style" or name.startswith("on") or name.startswith("hx-on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name == "hx-trigger" and "[" in values[name]:
                self.problems.append("hx-trigger filter (needs eval)")


def inline_problems(html: str) -> list[str]:
    parser = _Inline()
    parser.feed(html)
    return parser.problems


def test_the_checker_finds_what_it_should():
    found = inline_problems('<script>alert(1)</script><p style="x" onclick="y"><style>a{}</style>')
    assert sorted(found) == sorted(["inline <script>", "<p style=...>", "<p onclick=...>", "<style>"])
    assert inline_problems('<script src="/static/js/desk.js" defer></script><svg class="qr"></svg>') == []


@pytest.mark.django_db
def test_every_main_page_has_the_policy_and_no_inline_code(client, operator, supervisor):
    """Each page answers exactly the status it should (a page that wrongly answers 404 fails
    here), and every answer, the 404 page included, carries the policy."""
    case = make_case(Stage.PLANNING, owner=supervisor)
    receive()
    missing_case = 987654
    assert not Case.objects.filter(pk=missing_case).exists()
    anonymous = [(client.get(reverse("login")), 200)]
    login(client, supervisor)
    pages = [
        ("/", 200), ("/?scope=all", 200), ("/?scope=unassigned", 200), (reverse("case", args=[case.pk]), 200),
        (reverse("dashboard"), 200), (reverse("team"), 200), (reverse("canned_replies"), 200),
        (reverse("preferences"), 200), (reverse("security"), 200), (reverse("otp_enrol"), 200),
        ("/nothing-here/", 404), (reverse("case", args=[missing_case]), 404),
    ]
    signed_in = [(client.get(url), status) for url, status in pages]
    signed_in.append((client.get("/?scope=unassigned", HTTP_HX_REQUEST="true"), 200))  # the polled fragment
    for response, status in anonymous + signed_in:
        url = response.wsgi_request.get_full_path()
        assert response.status_code == status, (url, response.status_code)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy and "default-src 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert inline_problems(response.content.decode()) == [], url
    for response, _status in signed_in:
        assert "no-store" in response["Cache-Control"], response.wsgi_request.path


def test_no_template_has_inline_script_style_or_handlers():
    problems = {}
    for path in (ROOT / "templates").rglob("*.html"):
        text = re.sub(r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", path.read_text(), flags=re.S)
        found = [p for p in inline_problems(re.sub(r"{%.*?%}|{{.*?}}", "", text, flags=re.S))
                 if "elsewhere" not in p]
        if re.search(r"\bjs:|javascript:", text):
            found.append("js: / javascript: URL")
        if found:
            problems[str(path.relative_to(ROOT))] = found
    assert problems == {}


def test_htmx_runs_without_eval_and_injects_no_styles():
    base = (ROOT / "templates" / "base.html").read_text()
    assert '"allowEval":false' in base and '"includeIndicatorStyles":false' in base
    table = (ROOT / "templates" / "hotline" / "_queue_table.html").read_text()
    assert "X-Background-Refresh" in table and "data-pause-while-focused" in table
    script = (ROOT / "static" / "js" / "desk.js").read_text()
    assert "htmx:beforeRequest" in script and "eval(" not in script and "new Function" not in script


def test_security_settings_hold_in_every_environment():
    assert settings.X_FRAME_OPTIONS == "DENY"
    assert settings.SECURE_REFERRER_POLICY == "same-origin"
    assert "csp.middleware.CSPMiddleware" in settings.MIDDLEWARE
    assert settings.OTP_REQUIRED is True


@pytest.mark.django_db
def test_error_pages_say_nothing_about_the_request(client, operator):
    login(client, operator)
    response = client.get("/cases/secret-path-4471/?q=%2B380501234567")
    assert response.status_code == 404
    html = response.content.decode()
    assert "secret-path-4471" not in html and "380501234567" not in html and operator.username not in html
