"""Template helpers for showing how long a case has waited against the SLA."""

from datetime import timedelta
from typing import Any

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timeuntil

from hotline.models import Case

register = template.Library()


@register.simple_tag
def sla_state(case: Case) -> dict[str, Any]:
    """"overdue", "risk" (past the warning threshold), "ok", or "idle" (not waiting)."""
    if case.awaiting_since is None or case.closed_at is not None:
        return {"state": "idle"}
    now = timezone.now()
    deadline = case.awaiting_since + timedelta(hours=settings.SLA_HOURS)
    if case.overdue_since or now >= deadline:
        return {"state": "overdue"}
    warning = case.awaiting_since + timedelta(hours=settings.SLA_WARNING_HOURS)
    return {"state": "risk" if (case.at_risk_since or now >= warning) else "ok", "left": timeuntil(deadline, now)}
