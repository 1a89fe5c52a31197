"""Formatting for the dashboard's figures."""

from datetime import timedelta

from django import template
from django.utils import formats
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
    """A share as a percentage written the way the interface language writes it: 66.7% in
    English, 66,7 % in Ukrainian (decimal comma, a no-break space before the sign)."""
    if value is None:
        return "—"
    number = formats.number_format(round(value * 100, 1), decimal_pos=1, use_l10n=True)
    return gettext("%(number)s%%") % {"number": number}


@register.filter
def count(value: int | None) -> str:
    """A whole number grouped by thousands as the interface language does (12,345 / 12 345)."""
    if value is None:
        return "—"
    return formats.number_format(value, use_l10n=True, force_grouping=True)
