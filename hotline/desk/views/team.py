"""The supervisors' Team page and its actions, and an operator's own shift toggle.

A refused action re-renders the Team page with the refused form in its row (the error beside
it, what was typed kept). Deactivating someone has a confirmation step: the row links to a page
that says what will happen, whose form must be confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django import forms
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hotline.desk import ownership
from hotline.desk.forms import ActionForm, DeactivateForm, OperatorSettingsForm, ReleaseForm, ShiftForm
from hotline.desk.selectors import inactive_staff, team, team_row
from hotline.desk.team import operator_deactivate
from hotline.desk.views._common import perform
from operators import services as staff
from operators.roles import supervisor_required
from operators.selectors import language_choices, sessions_per_user

# A refused form of the Team page: (which form, whose row) -> the bound form.
Bound = dict[tuple[str, int], forms.Form]


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
        lambda d: staff.operator_set_shift(actor=request.user, operator=request.user, on_shift=d["on_shift"]),
        back=back, done=_("Shift updated."),
    )


def team_page_response(request: HttpRequest, *, bound: Bound | None = None, status: int = 200) -> HttpResponse:
    bound = bound or {}
    sessions = sessions_per_user()
    rows = team(request.user)
    languages = language_choices()
    row_forms = []
    for row in rows:
        pk = row.user.pk
        settings_form = bound.get(("settings", pk)) or OperatorSettingsForm.for_row(row, languages)
        if ("settings", pk) in bound:
            cast(forms.MultipleChoiceField, settings_form.fields["languages"]).choices = languages
        row_forms.append({
            "row": row, "sessions": sessions.get(pk, 0), "settings_form": settings_form,
            "release_form": bound.get(("release", pk)),
            "errors": {kind: form.non_field_errors() for (kind, who), form in bound.items() if who == pk},
        })
    return render(request, "operators/team.html", {
        "rows": rows, "row_forms": row_forms, "inactive": inactive_staff(),
        "inactive_errors": {
            who: form.non_field_errors() for (kind, who), form in bound.items() if kind == "reactivate"
        },
    }, status=status)


@require_http_methods(["GET"])
@supervisor_required
def team_page(request: HttpRequest) -> HttpResponse:
    return team_page_response(request)


def _team_action(
    request: HttpRequest, user_id: int, kind: str, form: forms.Form, call: Callable[[User, dict], object], done: str,
) -> HttpResponse:
    operator = get_object_or_404(User, pk=user_id)

    def page(refused: forms.Form, status: int) -> HttpResponse:
        return team_page_response(request, bound={(kind, user_id): refused}, status=status)

    return perform(request, form, lambda data: call(operator, data), back=reverse("team"), done=done, page=page)


@require_POST
@supervisor_required
def operator_shift(request: HttpRequest, user_id: int) -> HttpResponse:
    """A supervisor starts or ends someone's shift."""
    return _team_action(
        request, user_id, "shift", ShiftForm(request.POST),
        lambda op, d: staff.operator_set_shift(actor=request.user, operator=op, on_shift=d["on_shift"]),
        _("Shift updated."),
    )


@require_POST
@supervisor_required
def operator_settings(request: HttpRequest, user_id: int) -> HttpResponse:
    """A supervisor changes someone's capacity, languages, shift or role."""
    return _team_action(
        request, user_id, "settings", OperatorSettingsForm(request.POST, auto_id=f"op{user_id}_%s"),
        lambda op, d: staff.operator_update(
            actor=request.user, operator=op, capacity=d["capacity"], languages=d["languages"], role=d["role"],
            on_shift=d["on_shift"],
        ),
        _("Operator updated."),
    )


@require_POST
@supervisor_required
def operator_release(request: HttpRequest, user_id: int) -> HttpResponse:
    """A supervisor moves all of an operator's open cases to the queue or to a colleague (past
    the colleague's capacity only when confirmed)."""
    return _team_action(
        request, user_id, "release", ReleaseForm(request.POST),
        lambda op, d: ownership.operator_release_cases(
            actor=request.user, operator=op, to=d["to"], over_limit=d["over_limit"],
        ),
        _("Cases moved."),
    )


@require_POST
@supervisor_required
def operator_sessions_end(request: HttpRequest, user_id: int) -> HttpResponse:
    """A supervisor signs an operator out of every browser."""
    return _team_action(
        request, user_id, "sessions", ActionForm(request.POST),
        lambda op, _d: staff.operator_end_sessions(actor=request.user, operator=op), _("Sessions ended."),
    )


@require_http_methods(["GET", "POST"])
@supervisor_required
def operator_deactivate_view(request: HttpRequest, user_id: int) -> HttpResponse:
    """A supervisor takes away an operator's access; their open cases go back to the queue.

    GET is the confirmation step (what will happen); the POST must carry the confirmation."""
    operator = get_object_or_404(User, pk=user_id)

    def page(form: forms.Form, status: int) -> HttpResponse:
        return render(request, "operators/deactivate.html", {
            "operator": operator, "row": team_row(operator), "form": form,
        }, status=status)

    if request.method == "GET":
        return page(DeactivateForm(), 200)
    return perform(
        request, DeactivateForm(request.POST), lambda _d: operator_deactivate(actor=request.user, operator=operator),
        back=reverse("team"), done=_("Operator deactivated; their open cases are back in the queue."),
        then=lambda _ids: reverse("team"), page=page,
    )


@require_POST
@supervisor_required
def operator_reactivate_view(request: HttpRequest, user_id: int) -> HttpResponse:
    """A supervisor gives a deactivated operator their access back."""
    return _team_action(
        request, user_id, "reactivate", ActionForm(request.POST),
        lambda op, _d: staff.operator_reactivate(actor=request.user, operator=op), _("Operator reactivated."),
    )


@require_POST
@supervisor_required
def operator_second_factor_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    """A supervisor removes a lost authenticator; the operator enrols a new one at next login."""
    return _team_action(
        request, user_id, "second_factor", ActionForm(request.POST),
        lambda op, _d: staff.operator_reset_second_factor(actor=request.user, operator=op),
        _("Second factor reset; the operator sets up a new one at their next login."),
    )

