"""Helpers for the tests of server-rendered pages, whatever room they belong to: sign in with a
fixed interface language, read the flash messages, the htmx header, the 403 of a role check."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.utils import translation

from operators.models import OperatorProfile
from tests import factories


def login(client, user, *, language: str = "en", time_zone: str = "Europe/Kyiv") -> None:
    """Log in with a fixed interface language, so assertions on text do not depend on it."""
    OperatorProfile.objects.filter(user=user).update(ui_language=language, time_zone=time_zone)
    factories.login(client, user)


def flash(response: HttpResponse) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


HTMX = {"HTTP_HX_REQUEST": "true"}


def assert_supervisors_only(response: HttpResponse) -> None:
    """A page or action for a role the caller lacks: the 403 page, saying which role may (in the
    caller's interface language)."""
    assert response.status_code == 403, response.status_code
    said = []
    for language in ("en", "uk"):
        with translation.override(language):
            said.append(translation.gettext("This page is for supervisors."))
    assert any(text in response.content.decode() for text in said), said
