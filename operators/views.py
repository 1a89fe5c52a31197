"""An operator's own preferences (interface language and time zone)."""

from __future__ import annotations

from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from hotline.errors import DomainError

from .roles import is_supervisor
from .selectors import profile_of
from .services import operator_update_preferences


class PreferencesForm(forms.Form):
    ui_language = forms.ChoiceField(label=gettext_lazy("Interface language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["time_zone"].choices = [(zone, zone) for zone in sorted(available_timezones())]


@require_http_methods(["GET"])
def operators_home(request: HttpRequest) -> HttpResponse:
    """/operators/ itself: supervisors' Team page, everyone else's own preferences."""
    return redirect("team" if is_supervisor(request.user) else "preferences")


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """GET shows the form; POST saves it (a refusal re-renders it with the error, 400)."""
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                operator_update_preferences(
                    actor=request.user, ui_language=form.cleaned_data["ui_language"],
                    time_zone=form.cleaned_data["time_zone"],
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                chosen = form.cleaned_data["ui_language"]
                # Said in the language just chosen, not the one the request came in.
                with translation.override(chosen):
                    messages.success(request, _("Preferences saved."))
                response = redirect("preferences")
                # The browser remembers it too: the login page speaks it, and signing in keeps it.
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME, chosen, max_age=settings.LANGUAGE_COOKIE_AGE,
                    samesite="Lax", secure=request.is_secure(),
                )
                return response
        return render(request, "operators/preferences.html", {"form": form}, status=400)
    profile = profile_of(request.user)
    form = PreferencesForm(initial={"ui_language": profile.ui_language, "time_zone": profile.time_zone})
    return render(request, "operators/preferences.html", {"form": form})
