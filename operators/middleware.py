"""Each operator works in their own interface language and sees times in their own zone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from .models import OperatorProfile


class OperatorPreferencesMiddleware:
    """Activates OperatorProfile.ui_language and time_zone for the request (after login).

    Runs after LocaleMiddleware and AuthenticationMiddleware; anonymous visitors keep what
    LocaleMiddleware chose from the browser.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        profile = None
        if user is not None and user.is_authenticated:
            try:
                profile = user.operator
            except OperatorProfile.DoesNotExist:
                profile = None
        if profile is None:
            return self.get_response(request)
        translation.activate(profile.ui_language)
        request.LANGUAGE_CODE = translation.get_language()
        try:
            timezone.activate(zoneinfo.ZoneInfo(profile.time_zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
