"""How the desk shows a time and the 24-hour promise: the queue's rows, built here in Python,
and the template tags of the other pages (hotline/templatetags/hotline_tags.py), from one set
of rules.

Why the queue's rows are built here: the template language spends about half a millisecond on
a row with a dozen tags and filters, and a page has 50 rows; the same values computed in
Python, with the markup left to the template, take a fraction of that
(docs/notes/perf-pages.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext

from hotline.desk import sla
from hotline.models import Case, Channel, Stage

# The desk's numeric date formats (the same in every language), as strftime patterns.
TIME_FORMATS = {"short": "%d.%m %H:%M", "long": "%d.%m.%Y %H:%M", "seconds": "%d.%m.%Y %H:%M:%S"}
_STAGES = frozenset(Stage.values)
_CHANNELS = frozenset(Channel.values)
NO_VALUE = "—"


def time_html(when: datetime | None, fmt: str = "short", *, text: str = "", title: bool = False) -> SafeString:
    """`<time datetime="ISO">` showing `when` in the viewer's time zone, as `fmt` (short: d.m
    H:i, long: d.m.Y H:i, seconds: d.m.Y H:i:s) or as `text`; `title` adds the long form on
    hover. "—" when there is no time."""
    if when is None:
        return SafeString(NO_VALUE)
    local = timezone.localtime(when)
    shown = text or local.strftime(TIME_FORMATS[fmt])
    if title:
        return format_html(
            '<time datetime="{}" title="{}">{}</time>', local.isoformat(), local.strftime(TIME_FORMATS["long"]), shown,
        )
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), shown)


def stage_label(value: str) -> str:
    """A stage's translated name from its stored value (get_stage_display rebuilds the
    choices on every call)."""
    return str(Stage(value).label) if value in _STAGES else value


def channel_label(value: str) -> str:
    return str(Channel(value).label) if value in _CHANNELS else value


@dataclass(frozen=True)
class SlaView:
    """Where a case stands against the promise: state "overdue", "risk" (past the warning
    threshold), "ok", or "idle" (not waiting); how long it has waited, by how much it is
    over, or how long is left."""

    state: str
    waited: str = ""
    over: str = ""
    left: str = ""


def sla_view(case: Case, now: datetime | None = None) -> SlaView:
    if case.awaiting_since is None:
        return SlaView("idle")
    now = now or timezone.now()
    waited = timesince(case.awaiting_since, now)
    if case.closed_at is not None:
        return SlaView("idle", waited)
    deadline = sla.sla_deadline(case.awaiting_since)
    state = sla.sla_state(case.awaiting_since, now)
    if state == "overdue":
        return SlaView("overdue", waited, over=timesince(deadline, now) if now > deadline else "")
    return SlaView("risk" if state == "at_risk" else "ok", waited, left=timeuntil(deadline, now))


def _time_left_html(view: SlaView) -> SafeString:
    if view.state == "idle" and view.waited:  # closed while a request waited: no promise runs
        return SafeString("")
    if view.state == "overdue":
        badge = format_html('<span class="badge badge-overdue">{}</span>', gettext("Overdue"))
        if not view.over:
            return badge
        return format_html("{} {}", badge, gettext("by %(over)s") % {"over": view.over})
    if view.state == "risk":
        return format_html('<span class="badge badge-risk">{}</span> {}', gettext("At risk"), view.left)
    if view.state == "ok":
        return format_html("{}", view.left)
    return format_html('<span class="muted">{}</span>', gettext("Answered"))


@dataclass(frozen=True, repr=False)
class QueueRow:
    """One row of the queue as shown: text to escape, and three cells already marked up.

    Its repr names the case only: a template's failed lookup logs the context's reprs (at
    DEBUG), and a row holds a person's name and words (tests/privacy/test_log_redaction.py)."""

    pk: int
    number: str
    href: str
    state: str
    name: str
    preview: str
    unread: bool
    stage: str
    channel: str
    language: str
    owner: str
    last_activity: SafeString
    waiting: SafeString
    time_left: SafeString

    def __repr__(self) -> str:
        return f"<QueueRow {self.number}>"


def queue_rows_shown(cases: list[Case], *, owners: bool, now: datetime | None = None) -> list[QueueRow]:
    """The page's rows (cases carrying `row`, from selectors.queue_rows), one clock for all;
    `owners`: the owner's name too (the "all" queue, whose query joins the owner)."""
    now = now or timezone.now()
    rows = []
    for case in cases:
        view = sla_view(case, now)
        details = case.row
        rows.append(QueueRow(
            pk=case.pk, number=case.number, href=reverse("case", args=[case.pk]), state=view.state,
            name=details.name, preview=details.preview, unread=details.unread,
            stage=stage_label(case.stage), channel=channel_label(case.channel), language=case.language or NO_VALUE,
            owner=str(case.owner) if owners and case.owner_id is not None else NO_VALUE,
            last_activity=time_html(details.last_at, title=True),
            waiting=time_html(case.awaiting_since, text=view.waited, title=True),
            time_left=_time_left_html(view),
        ))
    return rows
