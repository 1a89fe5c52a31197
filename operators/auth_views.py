"""Signing in: password (django-axes counts failures), then a TOTP code, or enrolment first.

Password -> /login/verify/ (a code from the app, or a backup code) -> the page asked for.
A user with no confirmed authenticator goes to /login/enrol/ instead: QR code, first code,
backup codes shown once. Replacing a confirmed authenticator (a new phone) on the same page
needs the password and a current code as well (operators.services.authenticator_replace).
OTP_REQUIRED=false (local demo only) lets users without a device in.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import verify_token

from hotline.errors import NotAllowed

from . import security, services
from .middleware import second_factor_exempt
from .models import AuthenticatorDevice

logger = logging.getLogger(__name__)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"), max_length=16, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split()).lower()


class ReplaceForm(CodeForm):
    """Replacing an authenticator: the new app's code, and the password and a current code too."""

    password = forms.CharField(
        label=gettext_lazy("Your password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    current_code = forms.CharField(
        label=gettext_lazy("A code from your current app, or a backup code"), max_length=16, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["code"].widget.attrs.pop("autofocus", None)
        self.fields["password"].widget.attrs["autofocus"] = True

    def clean_current_code(self) -> str:
        return "".join(self.cleaned_data["current_code"].split()).lower()


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _step(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def locked_out(request: HttpRequest, minutes: int) -> HttpResponse:
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)



class LoginView(auth_views.LoginView):
    """The password step, behind a per-address budget (django-axes adds the per-user lockout)."""

    template_name = "registration/login.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["otp_required"] = settings.OTP_REQUIRED
        context["languages"] = settings.LANGUAGES
        return context

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        """Signed in. A language chosen on this page (its switch sets the language cookie) becomes
        the operator's interface language, as if chosen in Preferences."""
        response = super().form_valid(form)
        chosen = self.request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if chosen in dict(settings.LANGUAGES):
            services.operator_set_language(actor=self.request.user, ui_language=chosen)
        return response

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if security.login_budget_spent(request):
            logger.warning("login refused: too many attempts from one address")
            return locked_out(request, settings.LOGIN_RATE_WINDOW_MINUTES)
        return super().post(request, *args, **kwargs)

    def get_success_url(self) -> str:
        next_url = super().get_success_url()
        user = self.request.user
        if security.has_second_factor(user):
            return _step("otp_verify", next_url)
        if settings.OTP_REQUIRED:
            return _step("otp_enrol", next_url)
        return next_url  # local demo without a device


login_view = second_factor_exempt(LoginView.as_view())
logout_view = second_factor_exempt(auth_views.LogoutView.as_view())


def _passed(request: HttpRequest, device: object) -> None:
    """The second factor is done: remember the device in the session, then give it a new key."""
    old_key = request.session.session_key
    otp_login(request, device)
    security.otp_succeeded(request.user)
    security.session_rekey(request, old_key)


def _wrong_code(request: HttpRequest, form: CodeForm, refusal: str | None = None) -> HttpResponse | None:
    """Count a wrong code; on the last allowed one, sign the password session out and say so."""
    if security.otp_failed(request.user):
        logger.warning("second factor locked user=%s", request.user.pk)
        logout(request)
        return locked_out(request, settings.OTP_LOCKOUT_MINUTES)
    form.add_error(
        "code", refusal or _("That code is not right. Check the time on your phone and try the newest code."),
    )
    return None


@second_factor_exempt
@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = _next(request)
    if security.second_factor_done(user) and getattr(user, "otp_device", None) is not None:
        return redirect(next_url)
    device = security.confirmed_totp(user)
    if device is None:
        return redirect(_step("otp_enrol", next_url))
    if security.otp_locked(user):
        logout(request)
        return locked_out(request, settings.OTP_LOCKOUT_MINUTES)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verified = security.verify_current_code(user, form.cleaned_data["code"])
        if verified is not None:
            _passed(request, verified)
            return redirect(next_url)
        refused = _wrong_code(request, form)
        if refused is not None:
            return refused
    return render(request, "registration/otp_verify.html", {"form": form, "next": next_url})


@second_factor_exempt
@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def otp_enrol(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app. Replacing a confirmed one needs a signed-in session past
    the second factor, the password and a current code (of the app, or a backup code)."""
    user = request.user
    next_url = _next(request)
    replacing = security.has_second_factor(user)
    if replacing and getattr(user, "otp_device", None) is None:
        return redirect(_step("otp_verify", next_url))
    if security.otp_locked(user):
        logout(request)
        return locked_out(request, settings.OTP_LOCKOUT_MINUTES)
    device: AuthenticatorDevice = security.pending_totp(user)
    form = (ReplaceForm if replacing else CodeForm)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        codes = None
        if replacing:
            try:
                codes = services.authenticator_replace(
                    actor=user, password=data["password"], current_code=data["current_code"], new_device=device,
                    new_code=data["code"], keep_session=request.session.session_key,
                )
            except NotAllowed:
                codes = None
        elif device.verify_token(data["code"]):
            codes = security.confirm_totp(device)
            logger.info("second factor enrolled user=%s", user.pk)
        if codes is not None:
            _passed(request, device)
            return render(request, "registration/backup_codes.html", {"codes": codes, "next": next_url})
        refused = _wrong_code(
            request, form,
            _("The password or one of the codes is not right.") if replacing else None,
        )
        if refused is not None:
            return refused
    return render(request, "registration/otp_enrol.html", {
        "form": form, "next": next_url, "qr": security.qr_svg(device), "secret": security.secret_for_typing(device),
        "replacing": replacing,
    })


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def security_page(request: HttpRequest) -> HttpResponse:
    """The operator's own second factor: backup codes left, new codes (with a current code)."""
    user = request.user
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = security.confirmed_totp(user)
        if device is not None and verify_token(user, device.persistent_id, form.cleaned_data["code"]):
            codes = security.regenerate_backup_codes(user)
            logger.info("backup codes regenerated user=%s", user.pk)
            return render(request, "registration/backup_codes.html", {"codes": codes, "next": reverse("security")})
        refused = _wrong_code(request, form)
        if refused is not None:
            return refused
    return render(request, "operators/security.html", {
        "form": form, "device": security.confirmed_totp(user), "codes_left": security.backup_codes_left(user),
    })
