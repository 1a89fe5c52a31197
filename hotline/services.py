"""Every write to a case: one function per action.

Each action takes a keyword-only `actor`, locks what it changes (in the fixed order contact,
operator profile, case), checks the stage and the actor's right, writes with
`update_fields`, and records its CaseEvent in the same transaction. An action that is
already done returns the case without a second event.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from operators.models import OperatorProfile
from operators.roles import can_work, is_supervisor

from . import assignment, identity
from .access import case_for, cases_visible_to
from .errors import DomainError, InvalidInput, InvalidTransition, NotAllowed
from .models import (
    OPEN_STAGES,
    Case,
    CaseEquipment,
    CaseEvent,
    Channel,
    CloseReason,
    Contact,
    Delivery,
    Direction,
    EquipmentRole,
    EquipmentType,
    EventKind,
    Message,
    RewardState,
    Stage,
)

logger = logging.getLogger(__name__)

# Channels the desk can write back through; on the others an operator logs a call instead.
REPLYABLE_CHANNELS = frozenset({Channel.TELEGRAM})
# Stage moves made by case_advance; the others have their own actions.
ADVANCES = {Stage.IN_CONTACT: Stage.VERIFIED, Stage.VERIFIED: Stage.PLANNING}
MAX_TEXT = 20_000


def _event(case: Case, kind: str, actor: User | None, at: datetime, **data: Any) -> CaseEvent:
    return CaseEvent.objects.create(case=case, kind=kind, actor=actor, created_at=at, data=data)


def _clean_text(text: str) -> str:
    """PostgreSQL refuses NUL in text: drop it, keep every other character."""
    return text.replace("\x00", "")


def _require_worker(actor: User) -> None:
    if not can_work(actor):
        raise NotAllowed(gettext("Only operators can work cases."))


def _require_owner_or_supervisor(actor: User, case: Case) -> None:
    _require_worker(actor)
    if case.owner_id != actor.pk and not is_supervisor(actor):
        raise NotAllowed(gettext("Only the case's owner or a supervisor can do this."))


def _require_open(case: Case) -> None:
    if case.stage not in OPEN_STAGES:
        raise InvalidTransition(
            gettext("Case %(number)s is %(stage)s; reopen it first.")
            % {"number": case.number, "stage": case.get_stage_display().lower()}
        )


# --- intake -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    case: Case
    message: Message
    duplicate: bool  # the same intake key was stored before; nothing new was written
    opened: bool = False  # this request opened a new case or reopened a closed one


def request_receive(
    *,
    actor: User | None,
    channel: str,
    identifier: str,
    text: str,
    display_name: str = "",
    language: str = "",
    received_at: datetime | None = None,
    intake_key: str | None = None,
    external_id: str = "",
    is_call: bool = False,
) -> Received:
    """Store one inbound request: find or create the contact, join its open case (or reopen
    or open one) and start the wait. `actor` is None for the bot and integrations.

    Idempotent by `intake_key`: a retried delivery returns the stored request.
    """
    if channel not in Channel.values:
        raise InvalidInput(gettext("Unknown channel %(channel)r.") % {"channel": channel})
    if not identifier.strip():
        raise InvalidInput(gettext("A request needs the contact's identifier."))
    if intake_key:
        stored = _stored_request(intake_key)
        if stored:
            return stored
    try:
        received = _request_receive(
            actor=actor, channel=channel, identifier=identifier, text=_clean_text(text)[:MAX_TEXT],
            display_name=_clean_text(display_name)[:200], language=language[:8],
            received_at=received_at or timezone.now(), intake_key=intake_key,
            external_id=external_id, is_call=is_call,
        )
    except IntegrityError:
        # The same delivery raced us and won: what it stored is the answer.
        stored = _stored_request(intake_key) if intake_key else None
        if stored is None:
            raise
        return stored
    if not received.duplicate and received.case.owner_id is None and received.case.closed_at is None:
        assignment.on_commit_assign_case(received.case.pk)
    return received


def _stored_request(intake_key: str) -> Received | None:
    message = Message.objects.select_related("case").filter(intake_key=intake_key).first()
    return Received(case=message.case, message=message, duplicate=True) if message else None


@transaction.atomic
def _request_receive(
    *, actor: User | None, channel: str, identifier: str, text: str, display_name: str, language: str,
    received_at: datetime, intake_key: str | None, external_id: str, is_call: bool,
) -> Received:
    contact = _contact_locked(channel, identifier, display_name, language, received_at)
    if intake_key:  # under the contact's lock, a concurrent duplicate has committed by now
        stored = _stored_request(intake_key)
        if stored:
            return stored
    case = Case.objects.select_for_update().filter(contact=contact, closed_at__isnull=True).order_by("-pk").first()
    opened = case is None
    if case is None:
        case = _reopen_or_open(contact, actor, received_at)
    message = Message.objects.create(
        case=case, direction=Direction.INBOUND, channel=channel, body=text, is_call=is_call,
        intake_key=intake_key, external_id=external_id, created_at=received_at,
    )
    fields = ["last_request_at", "updated_at"]
    case.last_request_at = max(case.last_request_at, received_at)
    if case.awaiting_since is None:
        case.awaiting_since = received_at
        fields.append("awaiting_since")
    if language and not case.language:
        case.language = language
        fields.append("language")
    case.save(update_fields=fields)
    _event(case, EventKind.REQUEST, actor, received_at, message_id=message.pk, channel=channel, call=is_call)
    logger.info("request stored case=%s message=%s channel=%s", case.pk, message.pk, channel)
    return Received(case=case, message=message, duplicate=False, opened=opened)


def _contact_locked(channel: str, identifier: str, display_name: str, language: str, at: datetime) -> Contact:
    """Find or create the contact and lock it: one contact's requests are stored one at a time,
    so two simultaneous first messages open one case, not two."""
    digest = identity.lookup_hash(channel, identifier)
    contact = Contact.objects.select_for_update().filter(channel=channel, lookup_hash=digest).first()
    if contact is None:
        try:
            with transaction.atomic():
                contact = Contact.objects.create(
                    channel=channel, lookup_hash=digest,
                    identifier=identity.normalise_identifier(channel, identifier),
                    display_name=display_name, language=language, created_at=at,
                )
        except IntegrityError:
            contact = Contact.objects.select_for_update().get(channel=channel, lookup_hash=digest)
    changed = []
    if display_name and display_name != contact.display_name:
        contact.display_name = display_name
        changed.append("display_name")
    if language and language != contact.language:
        contact.language = language
        changed.append("language")
    if changed:
        contact.save(update_fields=changed)
    return contact


def _reopen_or_open(contact: Contact, actor: User | None, at: datetime) -> Case:
    last = Case.objects.select_for_update().filter(contact=contact).order_by("-pk").first()
    # An anonymised case (retention) is never reopened: its history is gone, start afresh.
    if (
        last is not None and last.stage == Stage.CLOSED and last.anonymised_at is None
        and settings.CASE_NEW_REQUEST_ON_CLOSED == "reopen"
    ):
        _reopen(last, actor, at, reason="new request")
        return last
    case = Case.objects.create(
        contact=contact, channel=contact.channel, language=contact.language, stage=Stage.NEW,
        received_at=at, last_request_at=at,
    )
    _event(case, EventKind.CREATED, actor, at, channel=contact.channel)
    return case


# --- ownership --------------------------------------------------------------------------------


def _profile_locked(user: User) -> OperatorProfile:
    profile, _ = OperatorProfile.objects.get_or_create(user=user)
    return OperatorProfile.objects.select_for_update().get(pk=profile.pk)


def _assign(case: Case, operator: User, actor: User | None, at: datetime, profile: OperatorProfile) -> None:
    previous = case.owner_id
    case.owner = operator
    case.assigned_at = at
    fields = ["owner", "assigned_at", "updated_at"]
    if case.stage == Stage.NEW:
        case.stage = Stage.ASSIGNED
        fields.append("stage")
    case.save(update_fields=fields)
    profile.last_assigned_at = at
    profile.save(update_fields=["last_assigned_at"])
    _event(case, EventKind.ASSIGNED, actor, at, operator_id=operator.pk, previous_owner_id=previous)


def active_case_count(operator: User) -> int:
    return Case.objects.filter(owner=operator, closed_at__isnull=True).count()


@transaction.atomic
def case_assign(*, actor: User, case_id: int, operator: User) -> Case:
    """A supervisor gives a case to an operator (may exceed capacity: a deliberate choice)."""
    if not is_supervisor(actor):
        raise NotAllowed(gettext("Only supervisors assign cases to others."))
    if not can_work(operator):
        raise InvalidInput(gettext("%(name)s cannot work cases.") % {"name": operator.get_username()})
    profile = _profile_locked(operator)
    case = case_for(actor, case_id, lock=True)
    _require_open(case)
    if case.owner_id == operator.pk:
        return case
    previous = case.owner_id
    _assign(case, operator, actor, timezone.now(), profile)
    if previous is not None:
        assignment.on_commit_fill(previous)
    return case


@transaction.atomic
def case_take(*, actor: User, case_id: int) -> Case:
    """An operator takes an unassigned case for themself, within their capacity."""
    _require_worker(actor)
    profile = _profile_locked(actor)
    case = case_for(actor, case_id, lock=True)
    _require_open(case)
    if case.owner_id == actor.pk:
        return case
    if case.owner_id is not None:
        raise InvalidTransition(gettext("Case %(number)s already has an owner.") % {"number": case.number})
    if active_case_count(actor) >= profile.capacity:
        raise InvalidTransition(
            ngettext(
                "You are at your capacity of %(n)s active case.", "You are at your capacity of %(n)s active cases.",
                profile.capacity,
            ) % {"n": profile.capacity}
        )
    _assign(case, actor, actor, timezone.now(), profile)
    return case


@transaction.atomic
def case_take_next(*, actor: User) -> Case | None:
    """Give the actor the longest-waiting unassigned case in a language they speak.

    SKIP LOCKED lets operators pressing at the same moment each get a different case.
    Returns None when nothing fits or the actor is at capacity.
    """
    _require_worker(actor)
    profile = _profile_locked(actor)
    if active_case_count(actor) >= profile.capacity:
        return None
    queue = cases_visible_to(actor).filter(owner__isnull=True, closed_at__isnull=True)
    languages = list(profile.languages.values_list("code", flat=True))
    if languages:
        queue = queue.filter(language__in=[*languages, ""])
    case = (
        queue.order_by(F("awaiting_since").asc(nulls_last=True), "received_at")
        .select_for_update(skip_locked=True)
        .first()
    )
    if case is None:
        return None
    _assign(case, actor, actor, timezone.now(), profile)
    return case


@transaction.atomic
def case_unassign(*, actor: User, case_id: int) -> Case:
    """Return a case to the unassigned queue."""
    case = case_for(actor, case_id, lock=True)
    _require_owner_or_supervisor(actor, case)
    _require_open(case)
    if case.owner_id is None:
        return case
    previous = case.owner_id
    case.owner = None
    case.assigned_at = None
    fields = ["owner", "assigned_at", "updated_at"]
    if case.stage == Stage.ASSIGNED:
        case.stage = Stage.NEW
        fields.append("stage")
    case.save(update_fields=fields)
    _event(case, EventKind.UNASSIGNED, actor, timezone.now(), previous_owner_id=previous)
    # Someone else may take it; the one who returned it gets other work, not this case back.
    assignment.on_commit_assign_case(case.pk, exclude_user_id=previous)
    assignment.on_commit_fill(previous, exclude_case_ids=[case.pk])
    return case


# --- the conversation -------------------------------------------------------------------------


def _take_if_unowned(case: Case, actor: User, at: datetime) -> None:
    """Answering an unassigned case makes the one who answers its owner."""
    if case.owner_id is None:
        _assign(case, actor, actor, at, _profile_locked(actor))


def _record_human_answer(case: Case, at: datetime, actor: User) -> dict[str, Any]:
    """A human answered: the wait ends, and with it its flags (hotline.sla reads them from the
    wait); the first answer is the first response."""
    waited = (at - case.awaiting_since).total_seconds() if case.awaiting_since else None
    case.awaiting_since = None
    fields = ["awaiting_since", "updated_at"]
    if case.first_response_at is None:
        case.first_response_at = at
        case.first_responder = actor
        fields += ["first_response_at", "first_responder"]
    if case.stage in (Stage.NEW, Stage.ASSIGNED):
        case.stage = Stage.IN_CONTACT
        fields.append("stage")
    case.save(update_fields=fields)
    return {"waited_seconds": waited}


@transaction.atomic
def case_reply(*, actor: User, case_id: int, text: str) -> Message:
    """Answer the contact through the case's channel; delivery runs in Celery after commit."""
    text = _clean_text(text).strip()
    if not text:
        raise InvalidInput(gettext("A reply cannot be empty."))
    if len(text) > 4096:
        raise InvalidInput(gettext("A reply can be at most 4096 characters (Telegram's limit)."))
    case = case_for(actor, case_id, lock=True)
    _require_worker(actor)
    _require_open(case)
    if case.owner_id not in (None, actor.pk) and not is_supervisor(actor):
        raise NotAllowed(gettext("Only the case's owner or a supervisor can do this."))
    if case.channel not in REPLYABLE_CHANNELS:
        raise InvalidInput(
            gettext("%(channel)s contacts cannot be written to; log a call instead.")
            % {"channel": case.get_channel_display()}
        )
    now = timezone.now()
    _take_if_unowned(case, actor, now)
    message = Message.objects.create(
        case=case, direction=Direction.OUTBOUND, channel=case.channel, author=actor, body=text,
        delivery=Delivery.QUEUED, created_at=now,
    )
    answer = _record_human_answer(case, now, actor)
    _event(case, EventKind.REPLIED, actor, now, message_id=message.pk, **answer)
    from .queueing import enqueue_on_commit
    from .tasks import deliver_message_task

    enqueue_on_commit(deliver_message_task, message.pk)
    return message


@transaction.atomic
def case_log_call(
    *, actor: User, case_id: int, summary: str, direction: str = Direction.OUTBOUND,
    duration_seconds: int | None = None,
) -> Message:
    """Record a phone conversation with the contact: a human answer, whichever side called."""
    if direction not in (Direction.INBOUND, Direction.OUTBOUND):
        raise InvalidInput(gettext("A call is inbound or outbound."))
    if duration_seconds is not None and duration_seconds < 0:
        raise InvalidInput(gettext("A call's duration cannot be negative."))
    case = case_for(actor, case_id, lock=True)
    _require_worker(actor)
    _require_open(case)
    if case.owner_id not in (None, actor.pk) and not is_supervisor(actor):
        raise NotAllowed(gettext("Only the case's owner or a supervisor can do this."))
    now = timezone.now()
    _take_if_unowned(case, actor, now)
    message = Message.objects.create(
        case=case, direction=direction, channel=Channel.PHONE, author=actor, is_call=True,
        body=_clean_text(summary).strip()[:MAX_TEXT], created_at=now,
    )
    answer = _record_human_answer(case, now, actor)
    _event(
        case, EventKind.CALL_LOGGED, actor, now, message_id=message.pk, direction=direction,
        duration_seconds=duration_seconds, **answer,
    )
    return message


@transaction.atomic
def call_log_inbound(
    *, actor: User, identifier: str, caller_name: str = "", language: str = "", summary: str,
) -> Received:
    """An operator answered the hotline's phone: the call is the request (received now) and,
    since a human talked to the caller, also its answer. The logging operator takes the case
    unless a colleague already owns it (the call is then added to their case).
    """
    _require_worker(actor)
    identifier = _clean_text(identifier).strip()
    if not identifier:
        raise InvalidInput(gettext("Give the caller's number or name."))
    summary = _clean_text(summary).strip()
    if not summary:
        raise InvalidInput(gettext("Summarise the call."))
    profile = _profile_locked(actor)  # the profile before the case, as in case_take
    now = timezone.now()
    received = _request_receive(
        actor=actor, channel=Channel.PHONE, identifier=identifier, text=summary[:MAX_TEXT],
        display_name=_clean_text(caller_name).strip()[:200], language=language[:8], received_at=now,
        intake_key=None, external_id="", is_call=True,
    )
    case, message = received.case, received.message
    message.author = actor
    message.save(update_fields=["author"])
    if case.owner_id is None:
        _assign(case, actor, actor, now, profile)
    answer = _record_human_answer(case, now, actor)
    _event(case, EventKind.CALL_LOGGED, actor, now, message_id=message.pk, direction=Direction.INBOUND, **answer)
    return received


@transaction.atomic
def case_add_note(*, actor: User, case_id: int, text: str) -> Message:
    """An internal note: never sent, never an answer, so the wait goes on."""
    text = _clean_text(text).strip()
    if not text:
        raise InvalidInput(gettext("A note cannot be empty."))
    case = case_for(actor, case_id, lock=True)
    _require_worker(actor)
    if case.owner_id not in (None, actor.pk) and not is_supervisor(actor):
        raise NotAllowed(gettext("Only the case's owner or a supervisor can do this."))
    now = timezone.now()
    message = Message.objects.create(
        case=case, direction=Direction.NOTE, channel=case.channel, author=actor, body=text[:MAX_TEXT],
        created_at=now,
    )
    _event(case, EventKind.NOTE_ADDED, actor, now, message_id=message.pk)
    return message


@transaction.atomic
def message_record_automatic(*, case_id: int, text: str) -> Message:
    """A bot message (acknowledgement, triage question): sent, but never a human answer."""
    case = Case.objects.select_for_update().get(pk=case_id)
    now = timezone.now()
    message = Message.objects.create(
        case=case, direction=Direction.OUTBOUND, channel=case.channel, body=_clean_text(text)[:MAX_TEXT],
        is_automatic=True, delivery=Delivery.QUEUED, created_at=now,
    )
    from .queueing import enqueue_on_commit
    from .tasks import deliver_message_task

    enqueue_on_commit(deliver_message_task, message.pk)
    return message


# --- the path to surrender ----------------------------------------------------------------------


@transaction.atomic
def case_advance(*, actor: User, case_id: int, to_stage: str) -> Case:
    """Move a case one step on: in contact -> verified -> planning."""
    case = case_for(actor, case_id, lock=True)
    _require_owner_or_supervisor(actor, case)
    if case.stage == to_stage:
        return case
    if ADVANCES.get(Stage(case.stage)) != to_stage:
        raise InvalidTransition(
            gettext("A case in stage %(stage)s cannot move to %(to)s.")
            % {"stage": case.get_stage_display().lower(), "to": Stage(to_stage).label.lower()}
            if to_stage in Stage.values else gettext("Unknown stage %(stage)r.") % {"stage": to_stage}
        )
    previous = case.stage
    case.stage = to_stage
    case.save(update_fields=["stage", "updated_at"])
    _event(case, EventKind.STAGE_CHANGED, actor, timezone.now(), **{"from": previous, "to": to_stage})
    return case


def _equipment_rows(items: Mapping[int, int]) -> list[tuple[EquipmentType, int]]:
    types = EquipmentType.objects.in_bulk([int(pk) for pk in items])
    rows = []
    for pk, quantity in items.items():
        equipment_type = types.get(int(pk))
        if equipment_type is None:
            raise InvalidInput(gettext("Unknown equipment type %(pk)s.") % {"pk": pk})
        if not 0 < int(quantity) <= 1000:
            raise InvalidInput(
                gettext("Quantity of %(name)s must be between 1 and 1000.") % {"name": equipment_type.name}
            )
        rows.append((equipment_type, int(quantity)))
    return rows


@transaction.atomic
def case_declare_equipment(*, actor: User, case_id: int, equipment: Mapping[int, int]) -> Case:
    """What the person says they will bring (replaces the previous declaration)."""
    case = case_for(actor, case_id, lock=True)
    _require_owner_or_supervisor(actor, case)
    if case.stage not in (Stage.IN_CONTACT, Stage.VERIFIED, Stage.PLANNING):
        raise InvalidTransition(gettext("Equipment is declared while in contact, verified or planning."))
    rows = _equipment_rows(equipment)
    CaseEquipment.objects.filter(case=case, role=EquipmentRole.DECLARED).delete()
    CaseEquipment.objects.bulk_create(
        CaseEquipment(case=case, equipment_type=t, role=EquipmentRole.DECLARED, quantity=q) for t, q in rows
    )
    _event(case, EventKind.EQUIPMENT_DECLARED, actor, timezone.now(), items={str(t.pk): q for t, q in rows})
    return case


@transaction.atomic
def case_record_surrender(
    *, actor: User, case_id: int, surrendered_at: datetime, place: str, equipment: Mapping[int, int],
) -> Case:
    """The person is safe: record when, where and what came; a reward is due for equipment."""
    case = case_for(actor, case_id, lock=True)
    _require_owner_or_supervisor(actor, case)
    if case.stage != Stage.PLANNING:
        raise InvalidTransition(gettext("A surrender is recorded from the planning stage."))
    now = timezone.now()
    if timezone.is_naive(surrendered_at):
        raise InvalidInput(gettext("The surrender time needs a time zone."))
    if surrendered_at > now or surrendered_at < case.received_at:
        raise InvalidInput(gettext("The surrender time must be between the first request and now."))
    place = place.strip()
    if not place:
        raise InvalidInput(gettext("Say where the surrender took place."))
    rows = _equipment_rows(equipment)
    CaseEquipment.objects.bulk_create(
        CaseEquipment(
            case=case, equipment_type=t, role=EquipmentRole.SURRENDERED, quantity=q,
            unit_reward=t.reward_amount, currency=t.currency,
        )
        for t, q in rows
    )
    total = sum((t.reward_amount * q for t, q in rows), Decimal("0"))
    case.stage = Stage.SURRENDERED
    case.surrendered_at = surrendered_at
    case.surrender_place = place[:200]
    case.closed_at = now
    case.awaiting_since = None
    case.reward_state = RewardState.DUE if total > 0 else RewardState.NONE
    case.save(update_fields=[
        "stage", "surrendered_at", "surrender_place", "closed_at", "awaiting_since", "reward_state", "updated_at",
    ])
    _event(
        case, EventKind.SURRENDERED, actor, now, items={str(t.pk): q for t, q in rows},
        reward_total=str(total),
    )
    if case.owner_id is not None:
        assignment.on_commit_fill(case.owner_id)
    return case


@transaction.atomic
def case_mark_reward_paid(*, actor: User, case_id: int) -> Case:
    if not is_supervisor(actor):
        raise NotAllowed(gettext("Only supervisors mark rewards paid."))
    case = case_for(actor, case_id, lock=True)
    if case.reward_state == RewardState.PAID:
        return case
    if case.reward_state != RewardState.DUE:
        raise InvalidTransition(gettext("Case %(number)s has no reward due.") % {"number": case.number})
    now = timezone.now()
    case.reward_state = RewardState.PAID
    case.reward_paid_at = now
    case.save(update_fields=["reward_state", "reward_paid_at", "updated_at"])
    _event(case, EventKind.REWARD_PAID, actor, now)
    return case


# --- closing and reopening --------------------------------------------------------------------


@transaction.atomic
def case_close(*, actor: User, case_id: int, reason: str, comment: str = "") -> Case:
    """Close an open case with a reason; an unassigned case may be closed by any operator
    (duplicates and provocations are spotted in the queue)."""
    if reason not in CloseReason.values:
        raise InvalidInput(gettext("Unknown close reason %(reason)r.") % {"reason": reason})
    case = case_for(actor, case_id, lock=True)
    _require_worker(actor)
    if case.owner_id not in (None, actor.pk) and not is_supervisor(actor):
        raise NotAllowed(gettext("Only the case's owner or a supervisor can do this."))
    if case.stage == Stage.CLOSED:
        return case
    _require_open(case)
    now = timezone.now()
    previous = case.stage
    case.stage_before_close = previous
    case.stage = Stage.CLOSED
    case.close_reason = reason
    case.closed_at = now
    case.awaiting_since = None
    case.save(update_fields=[
        "stage", "stage_before_close", "close_reason", "closed_at", "awaiting_since", "updated_at",
    ])
    # The comment is free text that may name the person: it is kept as an internal note
    # (encrypted, erased by retention), never in the immutable event.
    comment = _clean_text(comment).strip()[:MAX_TEXT]
    note = Message.objects.create(
        case=case, direction=Direction.NOTE, channel=case.channel, author=actor, body=comment, created_at=now,
    ) if comment else None
    _event(
        case, EventKind.CLOSED, actor, now, reason=reason, note_id=note.pk if note else None, **{"from": previous},
    )
    if case.owner_id is not None:
        assignment.on_commit_fill(case.owner_id)
    return case


def _reopen(case: Case, actor: User | None, at: datetime, reason: str) -> None:
    stage = case.stage_before_close or Stage.NEW
    if stage == Stage.NEW and case.owner_id:
        stage = Stage.ASSIGNED
    if stage == Stage.ASSIGNED and not case.owner_id:
        stage = Stage.NEW
    case.stage = stage
    case.close_reason = ""
    case.closed_at = None
    case.save(update_fields=["stage", "close_reason", "closed_at", "updated_at"])
    _event(case, EventKind.REOPENED, actor, at, to=stage, reason=reason)


@transaction.atomic
def case_reopen(*, actor: User, case_id: int) -> Case:
    """Bring a closed case back to the stage it was closed from."""
    case = case_for(actor, case_id, lock=True)
    _require_owner_or_supervisor(actor, case)
    if case.stage in OPEN_STAGES:
        return case
    if case.stage == Stage.SURRENDERED:
        raise InvalidTransition(gettext("A completed surrender cannot be reopened."))
    if case.anonymised_at is not None:
        raise InvalidTransition(
            gettext("Case %(number)s's personal data was erased; it cannot be reopened.") % {"number": case.number}
        )
    _reopen(case, actor, timezone.now(), reason="by operator")
    if case.owner_id is None:
        assignment.on_commit_assign_case(case.pk)
    return case


# --- intake channels: edits, reachability, triage (issue 3) -----------------------------------


@transaction.atomic
def message_record_edit(*, message_id: int, text: str, at: datetime | None = None) -> Message:
    """The contact edited a request they sent: keep the new words, note when, log the edit
    (the event holds no text). The same edit delivered twice changes nothing the second time."""
    message = Message.objects.select_for_update().get(pk=message_id)
    if message.direction != Direction.INBOUND:
        raise InvalidInput(gettext("Only a contact's own requests can be edited."))
    text = _clean_text(text)[:MAX_TEXT]
    if message.body == text:
        return message
    message.body = text
    message.edited_at = at or timezone.now()
    message.save(update_fields=["body", "edited_at"])
    _event(message.case, EventKind.MESSAGE_EDITED, None, message.edited_at, message_id=message.pk)
    return message


@transaction.atomic
def contact_set_reachable(*, contact_id: int, reachable: bool, at: datetime | None = None, source: str = "") -> Contact:
    """The channel says the contact can (not) be written to, e.g. they blocked the bot.

    Recorded on the contact and, as an event, on its latest case so the operator sees why
    replies fail. Already in that state: nothing is written.
    """
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    if (contact.unreachable_since is None) == reachable:
        return contact
    at = at or timezone.now()
    contact.unreachable_since = None if reachable else at
    contact.save(update_fields=["unreachable_since"])
    case = Case.objects.filter(contact=contact).order_by("-pk").first()
    if case is not None:
        _event(case, EventKind.CONTACT_UPDATED, None, at, reachable=reachable, source=source)
    return contact


@transaction.atomic
def case_record_triage_answer(*, case_id: int, question: str, answer: str, label: str = "") -> bool:
    """The contact answered a triage question (bot buttons): kept in Case.triage for the operator.

    Returns True when this is the question's first answer (so the bot may ask the next one).
    An answer given again changes nothing; a changed answer replaces the old one.
    """
    case = Case.objects.select_for_update().get(pk=case_id)
    previous = case.triage.get(question)
    now = timezone.now()
    entry = {"answer": answer, "label": _clean_text(label)[:200], "answered_at": now.isoformat()}
    if isinstance(previous, dict) and previous.get("answer") == answer:
        return False
    case.triage = {**case.triage, question: entry}
    case.save(update_fields=["triage", "updated_at"])
    # Which question, not the answer: answers are the person's and live encrypted in Case.triage.
    _event(case, EventKind.TRIAGE_ANSWERED, None, now, question=question)
    return previous is None


def case_record_view(*, actor: User, case: Case, via: str = "page") -> None:
    """Every read of a case is an event: supervisors can see who looked at what, and where
    ("page", "api"). One event per read, written whatever the reader may do next."""
    _event(case, EventKind.VIEWED, actor, timezone.now(), via=via)


__all__ = [
    "DomainError", "Received", "active_case_count", "call_log_inbound", "case_add_note", "case_advance", "case_assign",
    "case_close", "case_declare_equipment", "case_log_call", "case_mark_reward_paid", "case_record_surrender",
    "case_record_view",
    "case_reopen", "case_reply", "case_take", "case_take_next", "case_unassign", "message_record_automatic",
    "request_receive",
]
__all__ += ["case_record_triage_answer", "contact_set_reachable", "message_record_edit"]  # intake (issue 3)
