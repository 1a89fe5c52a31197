"""The queue's rows as shown (hotline/desk/display.py): built in Python for speed, so the rules the
template used to apply are checked here, cell by cell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone, translation

from hotline.desk.display import queue_rows_shown, time_html
from hotline.desk.selectors import QueueRowDetails
from hotline.models import Case, Channel, Stage

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def _row(waited: timedelta | None, *, closed: bool = False, name: str = "Остап", language: str = "uk"):
    case = Case(
        pk=41, stage=Stage.IN_CONTACT, channel=Channel.TELEGRAM, language=language,
        awaiting_since=None if waited is None else NOW - waited, closed_at=NOW if closed else None,
    )
    case.row = QueueRowDetails(name=name, preview="де зустрітися?", last_at=NOW - timedelta(minutes=5), unread=True)
    [row] = queue_rows_shown([case], owners=False, now=NOW)
    return row


def test_each_state_shows_its_own_time_left():
    with translation.override("en"), timezone.override("UTC"):
        overdue = _row(timedelta(hours=26))
        risk = _row(timedelta(hours=21))
        ok = _row(timedelta(hours=3))
        answered = _row(None)
    assert overdue.state == "overdue"
    assert overdue.time_left == '<span class="badge badge-overdue">Overdue</span> by 2\xa0hours'
    assert risk.state == "risk"
    assert risk.time_left == '<span class="badge badge-risk">At risk</span> 3\xa0hours'
    assert ok.state == "ok" and ok.time_left == "21\xa0hours"
    assert answered.state == "idle" and answered.time_left == '<span class="muted">Answered</span>'
    assert answered.waiting == "—"
    assert _row(timedelta(hours=3), closed=True).time_left == ""  # closed while waiting: no promise runs


def test_times_are_in_the_viewers_zone_with_the_wait_as_text():
    with translation.override("en"), timezone.override("Europe/Kyiv"):
        row = _row(timedelta(hours=3, minutes=10))
        exact = time_html(NOW, "seconds")
    assert exact == '<time datetime="2026-12-06T12:00:00+02:00">06.12.2026 12:00:00</time>'
    assert row.waiting == (
        '<time datetime="2026-12-06T08:50:00+02:00" title="06.12.2026 08:50">3\xa0hours, 10\xa0minutes</time>'
    )
    assert row.last_activity == '<time datetime="2026-12-06T11:55:00+02:00" title="06.12.2026 11:55">06.12 11:55</time>'


def test_labels_are_translated_and_the_text_is_escaped_by_the_template_not_here():
    with translation.override("uk"), timezone.override("UTC"):
        row = _row(timedelta(hours=1), name="<b>Остап</b>", language="")
    assert row.stage == "На зв'язку" and row.channel == "Telegram"
    assert row.language == "—" and row.owner == "—"
    assert row.name == "<b>Остап</b>"  # a plain string: {{ row.name }} escapes it
    assert row.href == "/cases/41/" and row.number == "#41"


def test_a_rows_repr_names_the_case_only():
    """A template's failed variable lookup logs the context's reprs at DEBUG."""
    row = _row(timedelta(hours=1), name="Остап Вишня")
    assert repr(row) == "<QueueRow #41>"
    assert "Остап" not in repr([row]) and "зустрітися" not in repr([row])
