"""Every write to a case but its owner: one function per action (the owner: desk/ownership.py).

Each action takes a keyword-only `actor`, locks what it changes (in the fixed order contact,
operator profile, case), checks the stage and the actor's right, writes with
`update_fields`, and records its CaseEvent in the same transaction. An action that is
already done returns the case without a second event.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext

from hotline import identity, queueing
from hotline.desk import live, ownership, search
from hotline.desk.access import case_for, require_answer, require_manage
from hotline.desk.guards import MAX_TEXT, clean_text, lock_profile, record_event, require_open
from hotline.errors import InvalidInput, InvalidTransition
from hotline.models import (
    CASE_PERSONAL_FIELDS,
    OPEN_STAGES,
    REPLYABLE_CHANNELS,
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
    MessageRevision,
    NoticeKind,
    Notification,
    RewardState,
    Stage,
)
from operators.roles import require_supervisor, require_worker

logger = logging.getLogger(__name__)

# Stage moves made by case_advance; the others have their own actions.
ADVANCES = {Stage.IN_CONTACT: Stage.VERIFIED, Stage.VERIFIED: Stage.PLANNING}


# --- intake -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    case: Case
    message: Message  # the stored request, with its case (and the case's contact) attached
    duplicate: bool  # the same intake key was stored before; nothing new was written
    opened: bool = False  # this request opened a new case or reopened a closed one


@dataclass(frozen=True)
class IncomingRequest:
    """One inbound request as an intake channel hands it over (requests_receive_batch)."""

    channel: str
    identifier: str
    text: str
    display_name: str = ""
    language: str = ""
    received_at: datetime | None = None
    intake_key: str | None = None
    external_id: str = ""
    is_call: bool = False
    username: str = ""  # a Telegram @username, without the @


ContactKey = tuple[str, str]  # (channel, lookup_hash): how a contact is found


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
    username: str = "",
) -> Received:
    """Store one inbound request: find or create the contact, join its open case (or reopen
    or open one) and start the wait. `actor` is None for the bot and integrations.

    Idempotent by `intake_key`: a retried delivery returns the stored request. A batch of one
    (requests_receive_batch): one request and a thousand are stored by the same code. `username`:
    the contact's Telegram @username, kept encrypted and findable by search (desk/search.py).
    """
    request = IncomingRequest(
        channel=channel, identifier=identifier, text=text, display_name=display_name, language=language,
        received_at=received_at, intake_key=intake_key, external_id=external_id, is_call=is_call, username=username,
    )
    try:
        [received] = requests_receive_batch([request], actor=actor)
    except IntegrityError:
        # The same key was stored meanwhile for another contact: what it stored is the answer.
        stored = _stored_requests([intake_key]).get(intake_key) if intake_key else None
        if stored is None:
            raise
        return stored
    return received


def contact_key(channel: str, identifier: str) -> ContactKey:
    return (channel, identity.lookup_hash(channel, identifier))


def _validated(request: IncomingRequest, now: datetime) -> IncomingRequest:
    if request.channel not in Channel.values:
        raise InvalidInput(gettext("Unknown channel %(channel)r.") % {"channel": request.channel})
    if not request.identifier.strip():
        raise InvalidInput(gettext("A request needs the contact's identifier."))
    return replace(
        request, text=clean_text(request.text)[:MAX_TEXT], display_name=clean_text(request.display_name)[:200],
        language=request.language[:8], received_at=request.received_at or now, intake_key=request.intake_key or None,
        username=clean_text(request.username).strip().lstrip("@")[:64],
    )


def _stored_requests(keys: Iterable[str]) -> dict[str, Received]:
    """The requests already stored under these intake keys, by key: one query."""
    keys = list(keys)
    if not keys:
        return {}
    messages = Message.objects.select_related("case", "case__contact").filter(intake_key__in=keys)
    return {m.intake_key: Received(case=m.case, message=m, duplicate=True) for m in messages if m.intake_key}


def contacts_lock_many(
    requests: Sequence[IncomingRequest], *, existing: Iterable[tuple[str, str]] = (),
) -> dict[ContactKey, Contact]:
    """Find or create the contacts of `requests` (and find, never create, those of `existing`:
    (channel, identifier) pairs), locked, by ContactKey: at most three statements.

    Existing contacts are locked in id order, missing ones inserted in key order (a concurrent
    insert of the same contact waits for ours, or ours for theirs): so one contact's requests
    are stored one transaction at a time, and two simultaneous first messages open one case.
    """
    now = timezone.now()
    first: dict[ContactKey, IncomingRequest] = {}
    for request in requests:
        first.setdefault(contact_key(request.channel, request.identifier), request)
    wanted = set(first) | {contact_key(channel, identifier) for channel, identifier in existing}
    if not wanted:
        return {}
    found = _contacts_locked(wanted)
    missing = sorted(key for key in first if key not in found)
    if missing:
        Contact.objects.bulk_create([
            Contact(
                channel=key[0], lookup_hash=key[1],
                identifier=identity.normalise_identifier(key[0], first[key].identifier),
                display_name=clean_text(first[key].display_name)[:200], language=first[key].language[:8],
                username=clean_text(first[key].username).strip().lstrip("@")[:64],
                created_at=first[key].received_at or now,
            ) for key in missing
        ], ignore_conflicts=True)
        created = _contacts_locked(missing)
        for key, contact in created.items():
            # What was just written (the load deferred it): search indexes a phone's digits.
            contact.identifier = identity.normalise_identifier(key[0], first[key].identifier)
        # Findable from the moment they exist, whichever path created them (the inbox creates
        # them while it claims a batch): two statements.
        search.index_contacts(created.values())
        found |= created
    return found


def _contacts_locked(keys: Iterable[ContactKey]) -> dict[ContactKey, Contact]:
    hashes: dict[str, list[str]] = {}
    for channel, digest in keys:
        hashes.setdefault(channel, []).append(digest)
    match = Q()
    for channel, digests in hashes.items():
        match |= Q(channel=channel, lookup_hash__in=digests)
    contacts = Contact.objects.select_for_update().filter(match).defer("identifier").order_by("pk")
    return {(c.channel, c.lookup_hash): c for c in contacts}


def _contacts_refresh(
    contacts: Mapping[ContactKey, Contact], stored: Sequence[tuple[ContactKey, IncomingRequest]],
) -> list[Contact]:
    """Each contact's name, username and language as its latest request in the batch gives them:
    one UPDATE. Returns the contacts whose name or username changed (their search keys follow)."""
    latest: dict[ContactKey, dict[str, str]] = {}
    for key, request in stored:
        values = latest.setdefault(key, {})
        if request.display_name:
            values["display_name"] = request.display_name
        if request.language:
            values["language"] = request.language
        if request.username:
            values["username"] = request.username
    changed, renamed = [], []
    for key, values in latest.items():
        contact = contacts[key]
        if any(getattr(contact, field) != value for field, value in values.items()):
            if any(getattr(contact, field) != values.get(field, getattr(contact, field))
                   for field in ("display_name", "username")):
                renamed.append(contact)
            for field, value in values.items():
                setattr(contact, field, value)
            changed.append(contact)
    if changed:
        Contact.objects.bulk_update(changed, ["display_name", "language", "username"])
    return renamed


def _cases_locked(contact_ids: Sequence[int]) -> tuple[dict[int, Case], dict[int, Case]]:
    """Per contact, its latest open case and its latest case, locked: one statement."""
    latest = (
        Case.objects.filter(contact_id__in=contact_ids).order_by().values("contact_id")
        .annotate(last=Max("pk")).values("last")
    )
    rows = (
        Case.objects.select_for_update().filter(contact_id__in=contact_ids)
        .filter(Q(closed_at__isnull=True) | Q(pk__in=latest)).defer(*CASE_PERSONAL_FIELDS).order_by("pk")
    )
    open_cases: dict[int, Case] = {}
    last: dict[int, Case] = {}
    for case in rows:  # ascending ids: the last one seen per contact is its latest
        last[case.contact_id] = case
        if case.closed_at is None:
            open_cases[case.contact_id] = case
    return open_cases, last


@transaction.atomic
def requests_receive_batch(requests: Sequence[IncomingRequest], *, actor: User | None = None) -> list[Received]:
    """Store inbound requests as if received one after another, in a constant number of
    statements whatever their number; one Received per request, in the order given.

    Contacts are locked first (contacts_lock_many), so whatever another transaction stores for
    a contact is committed before; then one duplicate check by intake key (a key stored
    before, or earlier in this batch, is a duplicate), the contacts' latest cases (locked), new
    cases, messages, events and case updates, each one statement. A closed case that is
    reopened goes through `_reopen` (one at a time, rare). Auto-assignment of the waiting cases
    is queued once, after commit. Bad input (InvalidInput) refuses the batch before any write.
    """
    return _receive(requests, actor=actor, assign=True)


def _receive(requests: Sequence[IncomingRequest], *, actor: User | None, assign: bool) -> list[Received]:
    now = timezone.now()
    requests = [_validated(request, now) for request in requests]
    if not requests:
        return []
    contacts = contacts_lock_many(requests)
    keys = [contact_key(r.channel, r.identifier) for r in requests]
    stored = _stored_requests(r.intake_key for r in requests if r.intake_key)
    fresh: list[int] = []
    first_with_key: dict[str, int] = {}
    for i, request in enumerate(requests):
        key = request.intake_key
        if key is not None and (key in stored or key in first_with_key):
            continue
        if key is not None:
            first_with_key[key] = i
        fresh.append(i)
    renamed = _contacts_refresh(contacts, [(keys[i], requests[i]) for i in fresh])
    if renamed:  # search keys (desk/search.py) follow a new name or username: two statements
        search.index_contacts(renamed)

    per_contact: dict[int, list[int]] = {}
    for i in fresh:
        per_contact.setdefault(contacts[keys[i]].pk, []).append(i)
    open_cases, last_cases = _cases_locked(sorted(per_contact))
    cases: dict[int, Case] = {}  # contact id -> the case its requests join
    opened_by: dict[int, int] = {}  # case's contact id -> index of the request that opened (or reopened) it
    created: list[Case] = []
    for contact in sorted({c.pk: c for c in contacts.values() if c.pk in per_contact}.values(), key=lambda c: c.pk):
        indexes = per_contact[contact.pk]
        case = open_cases.get(contact.pk)
        if case is None:
            at = requests[indexes[0]].received_at
            assert at is not None
            last = last_cases.get(contact.pk)
            opened_by[contact.pk] = indexes[0]
            # An anonymised case (retention) is never reopened: its history is gone, start afresh.
            if (
                last is not None and last.stage == Stage.CLOSED and last.anonymised_at is None
                and settings.CASE_NEW_REQUEST_ON_CLOSED == "reopen"
            ):
                _reopen(last, actor, at, reason="new request")
                case = last
            else:
                case = Case(
                    contact=contact, channel=contact.channel, stage=Stage.NEW, received_at=at, last_request_at=at,
                    language=next((lang for lang in (requests[indexes[0]].language, contact.language,
                                                     *(requests[i].language for i in indexes)) if lang), ""),
                )
                created.append(case)
        case.contact = contact
        cases[contact.pk] = case
    if created:
        Case.objects.bulk_create(created)
    created_ids = {case.pk for case in created}

    messages: dict[int, Message] = {}
    for i in fresh:
        r = requests[i]
        messages[i] = Message(
            case=cases[contacts[keys[i]].pk], direction=Direction.INBOUND, channel=r.channel, body=r.text,
            is_call=r.is_call, intake_key=r.intake_key, external_id=r.external_id, created_at=r.received_at,
        )
    Message.objects.bulk_create(list(messages.values()))

    events: list[CaseEvent] = []
    changed: dict[int, Case] = {}
    for i in fresh:
        r, contact_id = requests[i], contacts[keys[i]].pk
        case = cases[contact_id]
        assert r.received_at is not None
        if case.pk in created_ids and opened_by.get(contact_id) == i:
            events.append(CaseEvent(case_id=case.pk, kind=EventKind.CREATED, actor=actor, created_at=r.received_at,
                                    data={"channel": case.channel}))
        events.append(CaseEvent(
            case_id=case.pk, kind=EventKind.REQUEST, actor=actor, created_at=r.received_at,
            data={"message_id": messages[i].pk, "channel": r.channel, "call": r.is_call},
        ))
        case.last_request_at = max(case.last_request_at, r.received_at)
        if case.awaiting_since is None:
            case.awaiting_since = r.received_at
        if r.language and not case.language:
            case.language = r.language
        case.updated_at = now
        changed[case.pk] = case
    CaseEvent.objects.bulk_create(events)
    _cases_update_waits(list(changed.values()), now)
    live.bump_after_commit(changed)  # open pages of these cases, and the desk's counts
    for i in fresh:
        logger.info("request stored case=%s message=%s channel=%s", messages[i].case_id, messages[i].pk,
                    requests[i].channel)

    if assign:
        _on_commit_assign({case.pk for case in cases.values() if case.owner_id is None and case.closed_at is None})
    received: list[Received] = []
    for i, request in enumerate(requests):
        if i in messages:
            case = cases[contacts[keys[i]].pk]
            received.append(Received(case=case, message=messages[i], duplicate=False,
                                     opened=opened_by.get(case.contact_id) == i))
        elif request.intake_key in stored:
            received.append(stored[request.intake_key])
        else:
            first = messages[first_with_key[request.intake_key]]  # type: ignore[index]
            received.append(Received(case=first.case, message=first, duplicate=True))
    return received


# Django's bulk_update builds a CASE WHEN per row and field: at 200 cases, resolving those
# expressions cost more than everything else in a batch (docs/notes/perf-intake.md).
_UPDATE_WAITS = """
UPDATE hotline_case AS c
   SET last_request_at = v.last_request_at, awaiting_since = v.awaiting_since, language = v.language, updated_at = %s
  FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::varchar[])
       AS v (id, last_request_at, awaiting_since, language)
 WHERE c.id = v.id
"""


def _cases_update_waits(cases: list[Case], now: datetime) -> None:
    """The cases' last request, wait and language as the batch left them: one UPDATE."""
    if not cases:
        return
    if connection.vendor != "postgresql":
        Case.objects.bulk_update(cases, ["last_request_at", "awaiting_since", "language", "updated_at"])
        return
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_WAITS, [
            now, [c.pk for c in cases], [c.last_request_at for c in cases], [c.awaiting_since for c in cases],
            [c.language for c in cases],
        ])


def _on_commit_assign(case_ids: set[int]) -> None:
    """Offer the waiting cases of a batch to operators after commit: one task for the batch."""
    if len(case_ids) == 1:
        ownership.on_commit_assign_case(next(iter(case_ids)))
    elif case_ids and settings.AUTO_ASSIGN:
        queueing.enqueue_on_commit(queueing.AUTO_ASSIGN_CASES, sorted(case_ids))


# --- the conversation -------------------------------------------------------------------------


def _record_human_answer(case: Case, at: datetime, actor: User, *, taken: bool = True) -> dict[str, Any]:
    """A human answered: the wait ends, and with it its flags (hotline.desk.sla reads them from the
    wait); the first answer is the first response. `taken` False: the one who answered was at
    their limit, so the case stayed unassigned (the event says so)."""
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
    return {"waited_seconds": waited} if taken else {"waited_seconds": waited, "at_limit": True}


@transaction.atomic
def case_reply(*, actor: User, case_id: int, text: str) -> Message:
    """Answer the contact through the case's channel; delivery runs in Celery after commit."""
    text = clean_text(text).strip()
    if not text:
        raise InvalidInput(gettext("A reply cannot be empty."), field="text")
    if len(text) > 4096:
        raise InvalidInput(gettext("A reply can be at most 4096 characters (Telegram's limit)."), field="text")
    case = case_for(actor, case_id, lock=True)
    require_answer(actor, case)
    require_open(case)
    if case.channel not in REPLYABLE_CHANNELS:
        raise InvalidInput(
            gettext("%(channel)s contacts cannot be written to; log a call instead.")
            % {"channel": case.get_channel_display()}
        )
    now = timezone.now()
    taken = ownership.take_for_answer(case, actor, now)
    message = Message.objects.create(
        case=case, direction=Direction.OUTBOUND, channel=case.channel, author=actor, body=text,
        delivery=Delivery.QUEUED, created_at=now,
    )
    answer = _record_human_answer(case, now, actor, taken=taken)
    record_event(case, EventKind.REPLIED, actor, now, message_id=message.pk, **answer)
    queueing.enqueue_on_commit(queueing.DELIVER_MESSAGE, message.pk)
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
    require_answer(actor, case)
    require_open(case)
    now = timezone.now()
    taken = ownership.take_for_answer(case, actor, now)
    message = Message.objects.create(
        case=case, direction=direction, channel=Channel.PHONE, author=actor, is_call=True,
        body=clean_text(summary).strip()[:MAX_TEXT], created_at=now,
    )
    answer = _record_human_answer(case, now, actor, taken=taken)
    record_event(
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
    unless a colleague already owns it.

    A colleague's case still gets the call (nothing is lost), but the number typed in has
    looked into someone else's case: that lookup is a VIEWED event (via "call") that
    supervisors see in the audit, and the owner gets a notice. The caller of this function
    must not show a case the actor may not see (desk/views/queue.py says neither its number
    nor its owner); SECURITY.md says what the operator can still infer.
    """
    require_worker(actor)
    identifier = clean_text(identifier).strip()
    if not identifier:
        raise InvalidInput(gettext("Give the caller's number or name."))
    summary = clean_text(summary).strip()
    if not summary:
        raise InvalidInput(gettext("Summarise the call."))
    profile = lock_profile(actor)  # the profile before the case, as in case_take
    now = timezone.now()
    [received] = _receive([IncomingRequest(
        channel=Channel.PHONE, identifier=identifier, text=summary[:MAX_TEXT],
        display_name=clean_text(caller_name).strip()[:200], language=language[:8], received_at=now, is_call=True,
    )], actor=actor, assign=False)
    case, message = received.case, received.message
    message.author = actor
    message.save(update_fields=["author"])
    taken = ownership.take_for_answer(case, actor, now, profile=profile)
    answer = _record_human_answer(case, now, actor, taken=taken)
    record_event(case, EventKind.CALL_LOGGED, actor, now, message_id=message.pk, direction=Direction.INBOUND, **answer)
    if case.owner_id is not None and case.owner_id != actor.pk:  # None: the actor was at their limit
        record_event(case, EventKind.VIEWED, actor, now, via="call")
        Notification.objects.create(
            kind=NoticeKind.CALL_ON_YOUR_CASE, recipient_id=case.owner_id, actor=actor, case=case, created_at=now,
            text=f"{actor.get_username()} logged a call from the person of case {case.number}.",
        )
        logger.info("call logged on another's case case=%s by=%s owner=%s", case.pk, actor.pk, case.owner_id)
    return received


@transaction.atomic
def notices_mark_read(*, actor: User) -> int:
    """The actor has read their notices: the header stops counting them. Returns how many."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def case_add_note(*, actor: User, case_id: int, text: str) -> Message:
    """An internal note: never sent, never an answer, so the wait goes on."""
    text = clean_text(text).strip()
    if not text:
        raise InvalidInput(gettext("A note cannot be empty."), field="text")
    case = case_for(actor, case_id, lock=True)
    require_answer(actor, case)
    now = timezone.now()
    message = Message.objects.create(
        case=case, direction=Direction.NOTE, channel=case.channel, author=actor, body=text[:MAX_TEXT],
        created_at=now,
    )
    record_event(case, EventKind.NOTE_ADDED, actor, now, message_id=message.pk)
    return message


def message_record_automatic(*, case_id: int, text: str) -> Message:
    """A bot message (acknowledgement, triage question): sent, but never a human answer."""
    return messages_record_automatic([(case_id, text)])[0]


@transaction.atomic
def messages_record_automatic(texts: Sequence[tuple[int, str]]) -> list[Message]:
    """Bot messages, (case id, text) each, in one INSERT; each delivered by its own task after
    commit (published over one broker connection). Raises Case.DoesNotExist for a missing case."""
    if not texts:
        return []
    ids = sorted({case_id for case_id, _ in texts})
    channels = dict(Case.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", "channel"))
    if len(channels) != len(ids):
        raise Case.DoesNotExist("Case matching query does not exist.")
    now = timezone.now()
    messages = Message.objects.bulk_create([
        Message(
            case_id=case_id, direction=Direction.OUTBOUND, channel=channels[case_id],
            body=clean_text(text)[:MAX_TEXT], is_automatic=True, delivery=Delivery.QUEUED, created_at=now,
        ) for case_id, text in texts
    ])
    queueing.enqueue_each_on_commit(queueing.DELIVER_MESSAGE, [(m.pk,) for m in messages])
    live.bump_after_commit([case_id for case_id, _ in texts])  # no event: news only to open pages
    return messages


# --- the path to surrender ----------------------------------------------------------------------


@transaction.atomic
def case_advance(*, actor: User, case_id: int, to_stage: str) -> Case:
    """Move a case one step on: in contact -> verified -> planning."""
    case = case_for(actor, case_id, lock=True)
    require_manage(actor, case)
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
    record_event(case, EventKind.STAGE_CHANGED, actor, timezone.now(), **{"from": previous, "to": to_stage})
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
    require_manage(actor, case)
    if case.stage not in (Stage.IN_CONTACT, Stage.VERIFIED, Stage.PLANNING):
        raise InvalidTransition(gettext("Equipment is declared while in contact, verified or planning."))
    rows = _equipment_rows(equipment)
    CaseEquipment.objects.filter(case=case, role=EquipmentRole.DECLARED).delete()
    CaseEquipment.objects.bulk_create(
        CaseEquipment(case=case, equipment_type=t, role=EquipmentRole.DECLARED, quantity=q) for t, q in rows
    )
    record_event(case, EventKind.EQUIPMENT_DECLARED, actor, timezone.now(), items={str(t.pk): q for t, q in rows})
    return case


@transaction.atomic
def case_record_surrender(
    *, actor: User, case_id: int, surrendered_at: datetime, place: str, equipment: Mapping[int, int],
) -> Case:
    """The person is safe: record when, where and what came; a reward is due for equipment."""
    case = case_for(actor, case_id, lock=True)
    require_manage(actor, case)
    if case.stage != Stage.PLANNING:
        raise InvalidTransition(gettext("A surrender is recorded from the planning stage."))
    now = timezone.now()
    if timezone.is_naive(surrendered_at):
        raise InvalidInput(gettext("The surrender time needs a time zone."), field="surrendered_at")
    # The form gives minutes: a surrender in the minute of the first request is within it.
    if surrendered_at > now or surrendered_at < case.received_at.replace(second=0, microsecond=0):
        raise InvalidInput(
            gettext("The surrender time must be between the first request and now."), field="surrendered_at",
        )
    place = place.strip()
    if not place:
        raise InvalidInput(gettext("Say where the surrender took place."), field="place")
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
    record_event(
        case, EventKind.SURRENDERED, actor, now, items={str(t.pk): q for t, q in rows},
        reward_total=str(total),
    )
    if case.owner_id is not None:
        ownership.on_commit_fill(case.owner_id)
    return case


@transaction.atomic
def case_mark_reward_paid(*, actor: User, case_id: int) -> Case:
    require_supervisor(actor, gettext("Only supervisors mark rewards paid."))
    case = case_for(actor, case_id, lock=True)
    if case.reward_state == RewardState.PAID:
        return case
    if case.reward_state != RewardState.DUE:
        raise InvalidTransition(gettext("Case %(number)s has no reward due.") % {"number": case.number})
    now = timezone.now()
    case.reward_state = RewardState.PAID
    case.reward_paid_at = now
    case.save(update_fields=["reward_state", "reward_paid_at", "updated_at"])
    record_event(case, EventKind.REWARD_PAID, actor, now)
    return case


# --- closing and reopening --------------------------------------------------------------------


@transaction.atomic
def case_close(*, actor: User, case_id: int, reason: str, comment: str = "") -> Case:
    """Close an open case with a reason; an unassigned case may be closed by any operator
    (duplicates and provocations are spotted in the queue)."""
    if reason not in CloseReason.values:
        raise InvalidInput(gettext("Unknown close reason %(reason)r.") % {"reason": reason})
    case = case_for(actor, case_id, lock=True)
    require_answer(actor, case)
    if case.stage == Stage.CLOSED:
        return case
    require_open(case)
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
    comment = clean_text(comment).strip()[:MAX_TEXT]
    note = Message.objects.create(
        case=case, direction=Direction.NOTE, channel=case.channel, author=actor, body=comment, created_at=now,
    ) if comment else None
    record_event(
        case, EventKind.CLOSED, actor, now, reason=reason, note_id=note.pk if note else None, **{"from": previous},
    )
    if case.owner_id is not None:
        ownership.on_commit_fill(case.owner_id)
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
    record_event(case, EventKind.REOPENED, actor, at, to=stage, reason=reason)
    # Back to its owner only within their capacity; otherwise to the queue (offered to others).
    ownership.release_if_over_capacity(case, actor, at)


@transaction.atomic
def case_reopen(*, actor: User, case_id: int) -> Case:
    """Bring a closed case back to the stage it was closed from."""
    case = case_for(actor, case_id, lock=True)
    require_manage(actor, case)
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
        ownership.on_commit_assign_case(case.pk)
    return case


# --- intake channels: edits, reachability, triage (issue 3) -----------------------------------


@transaction.atomic
def message_record_edit(*, message_id: int, text: str, at: datetime | None = None) -> Message:
    """The contact edited a request they sent: keep the new words, note when, log the edit
    (the event holds no text). The same edit delivered twice changes nothing the second time."""
    message = Message.objects.select_for_update().get(pk=message_id)
    if message.direction != Direction.INBOUND:
        raise InvalidInput(gettext("Only a contact's own requests can be edited."))
    text = clean_text(text)[:MAX_TEXT]
    if message.body == text:
        return message
    MessageRevision.objects.create(message=message, body=message.body, replaced_at=at or timezone.now())
    message.body = text
    message.edited_at = at or timezone.now()
    message.save(update_fields=["body", "edited_at"])
    record_event(message.case, EventKind.MESSAGE_EDITED, None, message.edited_at, message_id=message.pk)
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
        record_event(case, EventKind.CONTACT_UPDATED, None, at, reachable=reachable, source=source)
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
    entry = {"answer": answer, "label": clean_text(label)[:200], "answered_at": now.isoformat()}
    if isinstance(previous, dict) and previous.get("answer") == answer:
        return False
    case.triage = {**case.triage, question: entry}
    case.save(update_fields=["triage", "updated_at"])
    # Which question, not the answer: answers are the person's and live encrypted in Case.triage.
    record_event(case, EventKind.TRIAGE_ANSWERED, None, now, question=question)
    return previous is None


def case_record_view(*, actor: User, case: Case, via: str = "page", background: bool = False) -> bool:
    """Every read of a case is an event: supervisors can see who looked at what, and where
    ("page", "api"). Returns whether this read was recorded.

    A read is a visit, not a request: a person who had the case page in front of them within
    the last CASE_VIEW_VISIT_MINUTES is still on the same visit (reloads, the page shown again
    after each action they take on it), so no second VIEWED event is written for it. A request
    the page makes by itself (`background`: polling) is never a read. An API call is one read
    each (a program asked for the whole case)."""
    now = timezone.now()
    if background:
        return False
    if via == "page" and CaseEvent.objects.filter(
        actor=actor, created_at__gte=now - timedelta(minutes=settings.CASE_VIEW_VISIT_MINUTES),
        case=case, kind=EventKind.VIEWED, data__via="page",
    ).exists():
        return False
    record_event(case, EventKind.VIEWED, actor, now, via=via)
    return True


def case_mark_seen(*, actor: User, case: Case) -> bool:
    """The case's owner has the case in front of them: its requests so far are read (the
    queue's unread marker, desk/selectors.py). Written only when something was unread; not
    a timeline event (the read itself is one, case_record_view). Returns whether it wrote."""
    if case.owner_id is None or case.owner_id != actor.pk:
        return False
    if case.owner_seen_at is not None and case.owner_seen_at >= case.last_request_at:
        return False
    now = timezone.now()
    Case.objects.filter(pk=case.pk, owner=actor).update(owner_seen_at=now)
    case.owner_seen_at = now
    return True
