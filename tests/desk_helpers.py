"""Helpers shared by the desk's page tests."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.http import HttpResponse

from operators.models import OperatorProfile
from tests import factories


def login(client, user, *, language: str = "en", time_zone: str = "Europe/Kyiv") -> None:
    """Log in with a fixed interface language, so assertions on text do not depend on it."""
    OperatorProfile.objects.filter(user=user).update(ui_language=language, time_zone=time_zone)
    factories.login(client, user)


def flash(response: HttpResponse) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


HTMX = {"HTTP_HX_REQUEST": "true"}
