"""Template helpers for showing how long a case has waited against the SLA, and a time.

The rules live in hotline/desk/display.py, shared with the queue's rows."""

from datetime import datetime

from django import template
from django.utils.safestring import SafeString

from hotline.desk import display
from hotline.models import Case, CloseReason

register = template.Library()


@register.simple_tag
def sla_state(case: Case) -> display.SlaView:
    """The case against the promise (display.SlaView: state, waited, over, left)."""
    return display.sla_view(case)


@register.simple_tag
def time_element(when: datetime | None, fmt: str = "short", *, text: str = "", title: bool = False) -> SafeString:
    """`<time datetime="ISO">` in the viewer's time zone (display.time_html). One conversion and
    strftime: with the `date` filter three times per <time>, the "all" queue page took 57.8 ms
    in process at 100k, 49.2 ms with this tag (docs/notes/perf-pages.md)."""
    return display.time_html(when, fmt, text=text, title=title)


@register.filter
def stage_label(value: str) -> str:
    """A stage's translated name from its stored value (timeline event data)."""
    return display.stage_label(value)


@register.filter
def close_reason_label(value: str) -> str:
    return str(CloseReason(value).label) if value in CloseReason.values else value


@register.filter
def join_or_value(value: object) -> str:
    """A staff event's before/after: a list of codes joined, a number or a name as it is."""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "—"
    return "—" if value in (None, "") else str(value)
