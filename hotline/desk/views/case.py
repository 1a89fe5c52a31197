"""The case page and every action on it: one form, one service call each.

A refused action re-renders the case page with the refused form in place (its error beside it,
what was typed kept): each form has a name (`FORMS`), the page builds every form unbound but
the one that was posted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.signing import Signer
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hotline.desk import live, ownership, services
from hotline.desk.access import case_for
from hotline.desk.forms import (
    ActionForm,
    AdvanceForm,
    AssignForm,
    CallForm,
    CloseForm,
    EquipmentForm,
    NoteForm,
    ReplyForm,
    SendFileForm,
    SurrenderForm,
)
from hotline.desk.selectors import (
    canned_replies_for,
    case_actions,
    case_conversation_with_media,
    case_equipment,
    case_timeline,
    case_viewers,
    equipment_types,
    next_case_after,
)
from hotline.desk.views._common import perform
from hotline.desk.views.queue import queue_page
from hotline.errors import CaseNotFound
from hotline.models import Case, EquipmentRole, EquipmentType, Message, Stage
from operators.roles import is_supervisor

# How often an open case page asks whether anything changed (desk/views/live.py), in seconds.
CASE_POLL_SECONDS = 1
# The stages of the path, shown as steps on the case page.
STEPS = (Stage.NEW, Stage.ASSIGNED, Stage.IN_CONTACT, Stage.VERIFIED, Stage.PLANNING, Stage.SURRENDERED)

# Every form of the case page, by name: built the same way for the page and for a post, so a
# refused post is shown with the same ids and labels as the form it came from.
FormFactory = Callable[[Any, list[EquipmentType]], forms.Form]
FORMS: dict[str, FormFactory] = {
    "reply": lambda data, _t: ReplyForm(data),
    "note": lambda data, _t: NoteForm(data, auto_id="note_%s"),
    "call": lambda data, _t: CallForm(data, auto_id="callc_%s"),
    "close": lambda data, _t: CloseForm(data, auto_id="close_%s"),
    "equipment": lambda data, types: EquipmentForm(data, auto_id="eq_%s", equipment_types=types),
    "surrender": lambda data, types: SurrenderForm(data, auto_id="sur_%s", equipment_types=types),
    "assign": lambda data, _t: AssignForm(data, auto_id="assign_%s"),
    "advance": lambda data, _t: AdvanceForm(data, auto_id="adv_%s"),
    "take": lambda data, _t: ActionForm(data),
    "unassign": lambda data, _t: ActionForm(data),
    "reopen": lambda data, _t: ActionForm(data),
    "reward_paid": lambda data, _t: ActionForm(data),
    "file": lambda data, _t: SendFileForm(data, auto_id="file_%s"),
}


def _back(case_id: int) -> str:
    return reverse("case", args=[case_id])


def _unbound(name: str, types: list[EquipmentType], initial: dict[str, Any]) -> forms.Form:
    form = FORMS[name](None, types)
    form.initial = initial
    return form


def case_page(
    request: HttpRequest, case_id: int, *, bound: dict[str, forms.Form] | None = None, status: int = 200,
) -> HttpResponse:
    """The case page; `bound` replaces the named forms (a refused post, with its errors)."""
    actor: User = request.user  # type: ignore[assignment]
    version = live.case_version(case_id)  # before the rows it stands for (desk/live.py)
    try:
        case = case_for(actor, case_id, related=("owner", "contact"))
    except CaseNotFound:
        raise Http404 from None
    services.case_record_view(actor=actor, case=case, via="page", background=_background(request))
    services.case_mark_seen(actor=actor, case=case)
    context = case_context(request, case, bound=bound)
    context.update(live_context(request, case.pk, version))
    return render(request, "hotline/case.html", context, status=status)


def live_context(request: HttpRequest, case_id: int, version: str) -> dict[str, Any]:
    """What the page's poller needs (desk/views/live.py): its version and its signed ticket."""
    return {
        "live_version": version, "live_ticket": live_ticket(request.user.pk, case_id),
        "live_seconds": CASE_POLL_SECONDS,
    }


def case_context(request: HttpRequest, case: Case, *, bound: dict[str, forms.Form] | None = None) -> dict[str, Any]:
    """Everything the case page shows (and its live parts re-render), forms included."""
    actor: User = request.user  # type: ignore[assignment]
    actions = case_actions(actor, case)
    bound = bound or {}
    equipment = case_equipment(case)
    types = equipment_types() if (actions.declare or actions.surrender) else []
    surrendered = [row for row in equipment if row.role == EquipmentRole.SURRENDERED]
    declared = {f"eq_{row.equipment_type_id}": row.quantity for row in equipment if row.role == EquipmentRole.DECLARED}
    initial: dict[str, dict[str, Any]] = {
        "equipment": declared,
        # Most surrenders are recorded as they happen: now, in the operator's time zone.
        "surrender": {**declared, "surrendered_at": SurrenderForm.now_value()},
        "assign": {"operator": case.owner_id},
    }
    offered = {
        "reply": actions.reply, "note": actions.note, "call": actions.call, "close": actions.close,
        "equipment": actions.declare, "surrender": actions.surrender, "assign": actions.assign,
        "advance": actions.verify or actions.plan, "take": actions.take, "unassign": actions.unassign,
        "reopen": actions.reopen, "reward_paid": actions.reward_paid, "file": actions.reply,
    }
    page_forms = {
        name: bound.get(name) or (_unbound(name, types, initial.get(name, {})) if shown else None)
        for name, shown in offered.items()
    }
    context: dict[str, Any] = {
        "case": case,
        "actions": actions,
        "conversation": case_conversation_with_media(case),
        "timeline": case_timeline(case),
        "declared": [row for row in equipment if row.role == EquipmentRole.DECLARED],
        "surrendered": surrendered,
        "reward_total": sum(row.unit_reward * row.quantity for row in surrendered),
        "canned": list(canned_replies_for(case.language)) if actions.reply else [],
        "stage_steps": [(stage.value, stage.label) for stage in STEPS],
        "viewers": case_viewers(case) if is_supervisor(actor) else [],
        **{f"{name}_form": form for name, form in page_forms.items()},
    }
    for name in ("equipment", "surrender"):
        form = page_forms[name]
        rows = [(t, form[f"eq_{t.pk}"]) for t in types if f"eq_{t.pk}" in form.fields] if form else []
        context["declare_rows" if name == "equipment" else "surrender_rows"] = rows
    return context


def live_ticket(user_id: int, case_id: int) -> str:
    """A signature of (viewer, case): the poll answers "nothing new" without a database read
    only to someone the case page was shown to (desk/views/live.py)."""
    return Signer(salt="hotline.live.case").signature(f"{user_id}:{case_id}")


def _background(request: HttpRequest) -> bool:
    """A request the page made by itself (polling), not a person opening it: never a read."""
    return request.headers.get("X-Background-Refresh") == "1"


@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return case_page(request, case_id)


@require_GET
def case_next(request: HttpRequest, case_id: int) -> HttpResponse:
    """The next case of the operator's own queue after this one (the `j` shortcut)."""
    try:
        case_for(request.user, case_id)
    except CaseNotFound:
        raise Http404 from None
    following = next_case_after(request.user, case_id)
    if following is None:
        messages.info(request, _("No other case in your queue."))
        return redirect(reverse("queue") + "?scope=mine")
    return redirect("case", following)


def _act(
    request: HttpRequest, case_id: int, name: str, call: Callable[[dict[str, Any], forms.Form], Any], done: str, *,
    then: Callable[[Any], str | HttpResponse] | None = None,
) -> HttpResponse:
    """Perform the action of the case page's form `name`; a refusal re-renders the case page."""
    types = equipment_types() if name in ("equipment", "surrender") else []
    form = FORMS[name](request.POST, types)

    def page(refused: forms.Form, status: int) -> HttpResponse:
        return case_page(request, case_id, bound={name: refused}, status=status)

    return perform(
        request, form, lambda data: call(data, form), back=_back(case_id), case_id=case_id, done=done, then=then,
        page=page,
    )


def _answered(request: HttpRequest, case_id: int) -> Callable[[Message], str]:
    """After a reply or a call: say when the case stayed unassigned (the answerer at their limit)."""
    def then(message: Message) -> str:
        if message.case.owner_id is None:
            messages.info(request, _(
                "You are at your limit of active cases, so the case stays in the unassigned queue for a colleague."
            ))
        return _back(case_id)
    return then


@require_POST
def case_reply(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request, case_id, "reply",
        lambda d, _f: services.case_reply(actor=request.user, case_id=case_id, text=d["text"]),
        _("Reply queued for delivery."), then=_answered(request, case_id),
    )


@require_POST
def case_note(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request, case_id, "note",
        lambda d, _f: services.case_add_note(actor=request.user, case_id=case_id, text=d["text"]),
        _("Note added."),
    )


@require_POST
def case_call(request: HttpRequest, case_id: int) -> HttpResponse:
    def log(data: dict, _form: forms.Form) -> Message:
        minutes = data["duration_minutes"]
        return services.case_log_call(
            actor=request.user, case_id=case_id, summary=data["summary"], direction=data["direction"],
            duration_seconds=minutes * 60 if minutes is not None else None,
        )

    return _act(request, case_id, "call", log, _("Call logged."), then=_answered(request, case_id))


@require_POST
def case_take(request: HttpRequest, case_id: int) -> HttpResponse:
    """Take a case, from its page or from the unassigned queue (`from=queue`): a refusal is
    shown where the button was pressed."""
    if request.POST.get("from") == "queue":
        def page(refused: forms.Form, status: int) -> HttpResponse:
            return queue_page(request, row_errors={case_id: refused}, status=status, query=request.POST)
        return perform(
            request, ActionForm(request.POST), lambda _d: ownership.case_take(actor=request.user, case_id=case_id),
            back=_back(case_id), case_id=case_id, done=_("The case is yours."), page=page,
        )
    return _act(
        request, case_id, "take", lambda _d, _f: ownership.case_take(actor=request.user, case_id=case_id),
        _("The case is yours."),
    )


@require_POST
def case_unassign(request: HttpRequest, case_id: int) -> HttpResponse:
    def then(_case: object) -> str:
        # After returning it an operator may no longer see the case: back to the queue.
        return reverse("queue")

    return _act(
        request, case_id, "unassign", lambda _d, _f: ownership.case_unassign(actor=request.user, case_id=case_id),
        _("The case is back in the queue."), then=then,
    )


@require_POST
def case_assign(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request, case_id, "assign",
        lambda d, _f: ownership.case_assign(
            actor=request.user, case_id=case_id, operator=d["operator"], over_limit=d["over_limit"],
        ),
        _("Case reassigned."),
    )


@require_POST
def case_advance(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request, case_id, "advance",
        lambda d, _f: services.case_advance(actor=request.user, case_id=case_id, to_stage=d["to_stage"]),
        _("Stage changed."),
    )


@require_POST
def case_declare(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request, case_id, "equipment",
        lambda _d, form: services.case_declare_equipment(
            actor=request.user, case_id=case_id, equipment=form.equipment(),  # type: ignore[attr-defined]
        ),
        _("Equipment declared."),
    )


@require_POST
def case_surrender(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request, case_id, "surrender",
        lambda d, form: services.case_record_surrender(
            actor=request.user, case_id=case_id, surrendered_at=d["surrendered_at"], place=d["place"],
            equipment=form.equipment(),  # type: ignore[attr-defined]
        ),
        _("Surrender recorded."),
    )


@require_POST
def case_close(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request, case_id, "close",
        lambda d, _f: services.case_close(
            actor=request.user, case_id=case_id, reason=d["reason"], comment=d["comment"],
        ),
        _("Case closed."),
    )


@require_POST
def case_reopen(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request, case_id, "reopen", lambda _d, _f: services.case_reopen(actor=request.user, case_id=case_id),
        _("Case reopened."),
    )


@require_POST
def case_reward_paid(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request, case_id, "reward_paid",
        lambda _d, _f: services.case_mark_reward_paid(actor=request.user, case_id=case_id),
        _("Reward marked paid."),
    )

