"""Template helpers for showing how long a case has waited against the SLA."""

from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from hotline import sla
from hotline.models import Case

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
    from hotline.models import Stage

    return str(Stage(value).label) if value in Stage.values else value


@register.filter
def close_reason_label(value: str) -> str:
    from hotline.models import CloseReason

    return str(CloseReason(value).label) if value in CloseReason.values else value
