"""Formatting for the dashboard's figures."""

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def duration(value: float | timedelta | None) -> str:
    """Seconds (or a timedelta) as "1 d 3 h", "2 h 05 min", "12 min" or "40 s"."""
    if value is None or value == "":
        return "—"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    seconds = max(seconds, 0)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
