"""Operators' own settings and shift, and the supervisors' team page."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hotline.assignment import operator_release_cases
from hotline.selectors import team, workers
from hotline.views._common import perform

from .models import OperatorProfile
from .roles import is_supervisor
from .services import (
    operator_deactivate,
    operator_end_sessions,
    operator_reset_second_factor,
    operator_set_shift,
    operator_update_preferences,
)


class PreferencesForm(forms.Form):
    ui_language = forms.ChoiceField(label=gettext_lazy("Interface language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["time_zone"].choices = [(zone, zone) for zone in sorted(available_timezones())]


class ShiftForm(forms.Form):
    on_shift = forms.BooleanField(required=False)


class ReleaseForm(forms.Form):
    to = forms.ModelChoiceField(
        label=gettext_lazy("Give the cases to"), queryset=User.objects.none(), required=False,
        empty_label=gettext_lazy("the unassigned queue"),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["to"].queryset = workers()


def _next_or(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


@require_POST
def shift(request: HttpRequest) -> HttpResponse:
    """The header's shift toggle: the operator starts or ends their own shift."""
    back = _next_or(request, reverse("queue"))
    return perform(
        request, ShiftForm(request.POST),
        lambda d: operator_set_shift(actor=request.user, operator=request.user, on_shift=d["on_shift"]),
        back=back, done=_("Shift updated."),
    )


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    profile, _created = OperatorProfile.objects.get_or_create(user=request.user)
    if request.method == "POST":
        return perform(
            request, PreferencesForm(request.POST),
            lambda d: operator_update_preferences(
                actor=request.user, ui_language=d["ui_language"], time_zone=d["time_zone"],
            ),
            back=reverse("preferences"), done=_("Preferences saved."),
        )
    form = PreferencesForm(initial={"ui_language": profile.ui_language, "time_zone": profile.time_zone})
    return render(request, "operators/preferences.html", {"form": form})


def _require_supervisor(request: HttpRequest) -> None:
    if not is_supervisor(request.user):
        raise Http404


@require_GET
def team_page(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    from django.db.models import Count

    from .models import UserSession

    sessions = dict(UserSession.objects.values_list("user_id").annotate(n=Count("pk")).order_by())
    rows = team(request.user)
    return render(request, "operators/team.html", {
        "rows": rows, "release_form": ReleaseForm(),
        "rows_with_sessions": [(row, sessions.get(row.user.pk, 0)) for row in rows],
    })


@require_POST
def operator_shift(request: HttpRequest, user_id: int) -> HttpResponse:
    """A supervisor starts or ends someone's shift."""
    _require_supervisor(request)
    operator = get_object_or_404(User, pk=user_id)
    return perform(
        request, ShiftForm(request.POST),
        lambda d: operator_set_shift(actor=request.user, operator=operator, on_shift=d["on_shift"]),
        back=reverse("team"), done=_("Shift updated."),
    )


@require_POST
def operator_release(request: HttpRequest, user_id: int) -> HttpResponse:
    """A supervisor moves all of an operator's open cases to the queue or to a colleague."""
    _require_supervisor(request)
    operator = get_object_or_404(User, pk=user_id)

    def release(data: dict) -> list[int]:
        return operator_release_cases(actor=request.user, operator=operator, to=data["to"])

    return perform(request, ReleaseForm(request.POST), release, back=reverse("team"), done=_("Cases moved."))


class ConfirmForm(forms.Form):
    """A button's form: nothing to fill in, the POST itself is the confirmation."""


def _team_action(request: HttpRequest, user_id: int, call: Callable[[User], object], done: str) -> HttpResponse:
    _require_supervisor(request)
    operator = get_object_or_404(User, pk=user_id)
    return perform(request, ConfirmForm(request.POST), lambda _d: call(operator), back=reverse("team"), done=done)


@require_POST
def operator_sessions_end(request: HttpRequest, user_id: int) -> HttpResponse:
    """A supervisor signs an operator out of every browser."""
    return _team_action(
        request, user_id, lambda op: operator_end_sessions(actor=request.user, operator=op), _("Sessions ended."),
    )


@require_POST
def operator_deactivate_view(request: HttpRequest, user_id: int) -> HttpResponse:
    """A supervisor takes away an operator's access; their open cases go back to the queue."""
    return _team_action(
        request, user_id, lambda op: operator_deactivate(actor=request.user, operator=op),
        _("Operator deactivated; their open cases are back in the queue."),
    )


@require_POST
def operator_second_factor_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    """A supervisor removes a lost authenticator; the operator enrols a new one at next login."""
    return _team_action(
        request, user_id, lambda op: operator_reset_second_factor(actor=request.user, operator=op),
        _("Second factor reset; the operator sets up a new one at their next login."),
    )
