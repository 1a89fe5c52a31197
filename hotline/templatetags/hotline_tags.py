"""Template helpers for showing how long a case has waited against the SLA."""

from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from hotline.desk import sla
from hotline.models import Case, CloseReason, Stage

register = template.Library()


@register.simple_tag
def sla_state(case: Case) -> dict[str, Any]:
    """"overdue", "risk" (past the warning threshold), "ok", or "idle" (not waiting)."""
    if case.awaiting_since is None or case.closed_at is not None:
        return {"state": "idle"}
    now = timezone.now()
    deadline = sla.sla_deadline(case.awaiting_since)
    state = sla.sla_state(case.awaiting_since, now)
    if state == "overdue":
        return {"state": "overdue", "over": timesince(deadline, now) if now > deadline else ""}
    return {"state": "risk" if state == "at_risk" else "ok", "left": timeuntil(deadline, now)}


@register.filter
def stage_label(value: str) -> str:
    """A stage's translated name from its stored value (timeline event data)."""
    return str(Stage(value).label) if value in Stage.values else value


@register.filter
def close_reason_label(value: str) -> str:
    return str(CloseReason(value).label) if value in CloseReason.values else value


@register.filter
def join_or_value(value: object) -> str:
    """A staff event's before/after: a list of codes joined, a number or a name as it is."""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "—"
    return "—" if value in (None, "") else str(value)
