"""Each operator works in their own interface language and sees times in their own zone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect

from . import security
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


# --- sessions and the second factor (SECURITY.md) ------------------------------------------------
def _login_url(next_url: str, **extra: str) -> str:
    return f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_url, **extra})}"


def _page_url(request: HttpRequest) -> str:
    """Where the person is: for an htmx request the page it came from, not the fragment."""
    current = request.headers.get("HX-Current-URL", "")
    if current:
        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.get_full_path()


class SessionLimitsMiddleware:
    """Ends a session after SESSION_IDLE_MINUTES without activity or SESSION_MAX_HOURS in all.

    Both clocks live in the session (server side). Requests marked `X-Background-Refresh: 1`
    (the queue's and dashboard's htmx polling) are checked but do not count as activity, so an
    unattended screen signs itself out. Every response to a signed-in user is `no-store`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        signed_in = request.user.is_authenticated
        if signed_in:
            session = request.session
            now = security.now_ts()
            started, seen = session.get(security.SESSION_STARTED), session.get(security.SESSION_SEEN)
            if started is None or seen is None:
                security.session_begin(request, request.user)  # a session from before this rule
            elif now - started > settings.SESSION_MAX_HOURS * 3600 or now - seen > settings.SESSION_IDLE_MINUTES * 60:
                reason = "max" if now - started > settings.SESSION_MAX_HOURS * 3600 else "idle"
                logout(request)
                request.session_ended = reason  # type: ignore[attr-defined]
            elif request.headers.get(security.BACKGROUND_HEADER) != "1" and (
                now - seen >= security.ACTIVITY_GRANULARITY_SECONDS
            ):
                security.session_touch(request, now)
        response = self.get_response(request)
        if signed_in or request.user.is_authenticated:
            add_never_cache_headers(response)  # nothing a signed-in person saw stays in a cache
        return response


def second_factor_exempt(view: Callable) -> Callable:
    """Mark a view reachable with a password-only session: login, OTP, enrolment, logout."""
    view.second_factor_exempt = True  # type: ignore[attr-defined]
    return view


class SecondFactorMiddleware:
    """Nothing but the sign-in steps answers a session that has not passed the second factor.

    Runs before LoginRequiredMiddleware and covers every view, DRF included (the API refuses
    such a session again in operators.api_auth). Anonymous htmx requests to a page that needs a
    login get a client-side redirect to the login page instead of the login form as a fragment.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, args: tuple, kwargs: dict) -> HttpResponse | None:
        if getattr(view_func, "second_factor_exempt", False):
            return None
        user = request.user
        if not user.is_authenticated:
            if not getattr(view_func, "login_required", True) and not _is_api(request):
                return None  # intake endpoints and public pages
            ended = getattr(request, "session_ended", None)
            extra = {"ended": ended} if ended else {}
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(_login_url(_page_url(request), **extra))
            if ended and not _is_api(request):
                return redirect(_login_url(request.get_full_path(), **extra))
            return None  # LoginRequiredMiddleware, or the API's own authentication, answers
        if security.second_factor_done(user):
            return None
        step = reverse("otp_verify")
        if _is_api(request):
            return JsonResponse({"detail": "Second factor required: complete the login in the browser."}, status=403)
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(f"{step}?{urlencode({'next': _page_url(request)})}")
        if request.method not in ("GET", "HEAD"):
            return HttpResponse(status=403)
        return redirect(f"{step}?{urlencode({'next': request.get_full_path()})}")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")
