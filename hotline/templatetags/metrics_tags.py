"""Formatting for the dashboard's figures."""

from datetime import timedelta

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def duration(value: float | timedelta | None) -> str:
    """Seconds (or a timedelta) as "1 d 3 h", "2 h 05 min", "12 min" or "40 s"."""
    if value is None or value == "":
        return "—"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    seconds = max(seconds, 0)
    if seconds < 60:
        return gettext("%(seconds)s s") % {"seconds": f"{seconds:.0f}"}
    minutes = int(seconds // 60)
    if minutes < 60:
        return gettext("%(minutes)s min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return gettext("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": f"{minutes:02d}"}
    days, hours = divmod(hours, 24)
    return gettext("%(days)s d %(hours)s h") % {"days": days, "hours": hours}


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
