"""The case page and every action on it: one form, one service call each."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hotline import services
from hotline.access import case_for
from hotline.errors import CaseNotFound
from hotline.forms import (
    AdvanceForm,
    AssignForm,
    CallForm,
    CloseForm,
    EquipmentForm,
    NoteForm,
    ReplyForm,
    SurrenderForm,
)
from hotline.models import EquipmentRole, Stage
from hotline.selectors import (
    canned_replies_for,
    case_actions,
    case_conversation,
    case_equipment,
    case_timeline,
    case_viewers,
    equipment_types,
)
from operators.roles import is_supervisor

from ._common import perform

# The stages of the path, shown as steps on the case page.
STEPS = (Stage.NEW, Stage.ASSIGNED, Stage.IN_CONTACT, Stage.VERIFIED, Stage.PLANNING, Stage.SURRENDERED)


def _back(case_id: int) -> str:
    return reverse("case", args=[case_id])


@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    try:
        case = case_for(actor, case_id, related=("owner", "contact"))
    except CaseNotFound:
        raise Http404 from None
    actions = case_actions(actor, case)
    # One page load, one VIEWED event (the page has no polling fragment; the audit pages and
    # the API record their own reads or none, see docs/notes/privacy.md).
    services.case_record_view(actor=actor, case=case, via="page")
    equipment = case_equipment(case)
    types = equipment_types() if (actions.declare or actions.surrender) else []
    surrendered = [row for row in equipment if row.role == EquipmentRole.SURRENDERED]
    declared = {row.equipment_type_id: row.quantity for row in equipment if row.role == EquipmentRole.DECLARED}
    context = {
        "case": case,
        "actions": actions,
        "conversation": case_conversation(case),
        "timeline": case_timeline(case),
        "declared": [row for row in equipment if row.role == EquipmentRole.DECLARED],
        "surrendered": surrendered,
        "reward_total": sum(row.unit_reward * row.quantity for row in surrendered),
        "reply_form": ReplyForm() if actions.reply else None,
        "canned": list(canned_replies_for(case.language)) if actions.reply else [],
        "note_form": NoteForm(auto_id="note_%s") if actions.note else None,
        "call_form": CallForm(auto_id="callc_%s") if actions.call else None,
        "close_form": CloseForm(auto_id="close_%s") if actions.close else None,
        "equipment_form": EquipmentForm(
            auto_id="eq_%s", equipment_types=types, initial={f"eq_{k}": v for k, v in declared.items()},
        ) if actions.declare else None,
        "surrender_form": SurrenderForm(
            auto_id="sur_%s", equipment_types=types, initial={f"eq_{k}": v for k, v in declared.items()},
        ) if actions.surrender else None,
        "stage_steps": [(stage.value, stage.label) for stage in STEPS],
        "assign_form": AssignForm(auto_id="assign_%s", initial={"operator": case.owner_id}) if actions.assign else None,
        "viewers": case_viewers(case) if is_supervisor(actor) else [],
    }
    for name in ("equipment", "surrender"):
        form = context[f"{name}_form"]
        rows = [(t, form[f"eq_{t.pk}"]) for t in types] if form else []
        context["declare_rows" if name == "equipment" else "surrender_rows"] = rows
    return render(request, "hotline/case.html", context)


@require_POST
def case_reply(request: HttpRequest, case_id: int) -> HttpResponse:
    return perform(
        request, ReplyForm(request.POST),
        lambda d: services.case_reply(actor=request.user, case_id=case_id, text=d["text"]),
        back=_back(case_id), case_id=case_id, done=_("Reply queued for delivery."),
    )


@require_POST
def case_note(request: HttpRequest, case_id: int) -> HttpResponse:
    return perform(
        request, NoteForm(request.POST),
        lambda d: services.case_add_note(actor=request.user, case_id=case_id, text=d["text"]),
        back=_back(case_id), case_id=case_id, done=_("Note added."),
    )


@require_POST
def case_call(request: HttpRequest, case_id: int) -> HttpResponse:
    def log(data: dict) -> object:
        minutes = data["duration_minutes"]
        return services.case_log_call(
            actor=request.user, case_id=case_id, summary=data["summary"], direction=data["direction"],
            duration_seconds=minutes * 60 if minutes is not None else None,
        )

    return perform(request, CallForm(request.POST), log, back=_back(case_id), case_id=case_id, done=_("Call logged."))


@require_POST
def case_take(request: HttpRequest, case_id: int) -> HttpResponse:
    return perform(
        request, forms.Form(request.POST), lambda _d: services.case_take(actor=request.user, case_id=case_id),
        back=_back(case_id), case_id=case_id, done=_("The case is yours."),
    )


@require_POST
def case_unassign(request: HttpRequest, case_id: int) -> HttpResponse:
    def then(_case: object) -> str:
        # After returning it an operator may no longer see the case: back to the queue.
        return reverse("queue")

    return perform(
        request, forms.Form(request.POST), lambda _d: services.case_unassign(actor=request.user, case_id=case_id),
        back=_back(case_id), case_id=case_id, done=_("The case is back in the queue."), then=then,
    )


@require_POST
def case_assign(request: HttpRequest, case_id: int) -> HttpResponse:
    return perform(
        request, AssignForm(request.POST),
        lambda d: services.case_assign(actor=request.user, case_id=case_id, operator=d["operator"]),
        back=_back(case_id), case_id=case_id, done=_("Case reassigned."),
    )


@require_POST
def case_advance(request: HttpRequest, case_id: int) -> HttpResponse:
    return perform(
        request, AdvanceForm(request.POST),
        lambda d: services.case_advance(actor=request.user, case_id=case_id, to_stage=d["to_stage"]),
        back=_back(case_id), case_id=case_id, done=_("Stage changed."),
    )


@require_POST
def case_declare(request: HttpRequest, case_id: int) -> HttpResponse:
    form = EquipmentForm(request.POST, equipment_types=equipment_types())
    return perform(
        request, form,
        lambda _d: services.case_declare_equipment(actor=request.user, case_id=case_id, equipment=form.equipment()),
        back=_back(case_id), case_id=case_id, done=_("Equipment declared."),
    )


@require_POST
def case_surrender(request: HttpRequest, case_id: int) -> HttpResponse:
    form = SurrenderForm(request.POST, equipment_types=equipment_types())
    return perform(
        request, form,
        lambda d: services.case_record_surrender(
            actor=request.user, case_id=case_id, surrendered_at=d["surrendered_at"], place=d["place"],
            equipment=form.equipment(),
        ),
        back=_back(case_id), case_id=case_id, done=_("Surrender recorded."),
    )


@require_POST
def case_close(request: HttpRequest, case_id: int) -> HttpResponse:
    return perform(
        request, CloseForm(request.POST),
        lambda d: services.case_close(actor=request.user, case_id=case_id, reason=d["reason"], comment=d["comment"]),
        back=_back(case_id), case_id=case_id, done=_("Case closed."),
    )


@require_POST
def case_reopen(request: HttpRequest, case_id: int) -> HttpResponse:
    return perform(
        request, forms.Form(request.POST), lambda _d: services.case_reopen(actor=request.user, case_id=case_id),
        back=_back(case_id), case_id=case_id, done=_("Case reopened."),
    )


@require_POST
def case_reward_paid(request: HttpRequest, case_id: int) -> HttpResponse:
    return perform(
        request, forms.Form(request.POST),
        lambda _d: services.case_mark_reward_paid(actor=request.user, case_id=case_id),
        back=_back(case_id), case_id=case_id, done=_("Reward marked paid."),
    )

