"""What every write to a case shares: the event writer, the open-stage check, text cleaning,
and the operator profile lock. Used by desk/services.py and desk/ownership.py alike.

Lock order, everywhere: contact, then operator profile(s) by user id, then case(s) by id.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import gettext

from hotline.desk import live
from hotline.errors import InvalidTransition
from hotline.models import OPEN_STAGES, Case, CaseEvent, EventKind
from operators.models import OperatorProfile

MAX_TEXT = 20_000


def record_event(case: Case | int, kind: str, actor: User | None, at: datetime, **data: Any) -> CaseEvent:
    """One immutable timeline row; `data` holds ids and codes, never personal data. Open pages
    of the case see it after commit (desk/live.py), a read (VIEWED) excepted: it changes nothing shown."""
    case_id = case if isinstance(case, int) else case.pk
    event = CaseEvent.objects.create(case_id=case_id, kind=kind, actor=actor, created_at=at, data=data)
    if kind != EventKind.VIEWED:
        live.bump_after_commit([case_id])
    return event


def record_events(rows: Iterable[tuple[int, dict[str, Any]]], kind: str, actor: User | None, at: datetime) -> None:
    """The same event on many cases in one INSERT: (case id, data) per case."""
    events = CaseEvent.objects.bulk_create(
        CaseEvent(case_id=case_id, kind=kind, actor=actor, created_at=at, data=data) for case_id, data in rows
    )
    if kind != EventKind.VIEWED:
        live.bump_after_commit([event.case_id for event in events])


def clean_text(text: str) -> str:
    """PostgreSQL refuses NUL in text: drop it, keep every other character."""
    return text.replace("\x00", "")


def require_open(case: Case) -> None:
    if case.stage not in OPEN_STAGES:
        raise InvalidTransition(
            gettext("Case %(number)s is %(stage)s; reopen it first.")
            % {"number": case.number, "stage": case.get_stage_display().lower()}
        )


def lock_profiles(*users: User) -> dict[int, OperatorProfile]:
    """Lock the operators' profiles (created if missing) in user-id order: the order every
    writer takes them in, so two writers never wait on each other in a circle."""
    profiles = {}
    for user in sorted({u.pk: u for u in users}.values(), key=lambda u: u.pk):
        OperatorProfile.objects.get_or_create(user=user)
        profiles[user.pk] = OperatorProfile.objects.select_for_update().select_related("user").get(user=user)
    return profiles


def lock_profile(user: User) -> OperatorProfile:
    return lock_profiles(user)[user.pk]
