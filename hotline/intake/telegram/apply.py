"""Applying stored Bot API updates: store what they mean through the services.

Runs in a worker (hotline/telegram/inbox.py hands a batch of stored updates here, inside one
transaction; consecutive new requests are stored together, docs/notes/perf-intake.md; one
update alone is a batch of one). Deduplication has two layers (docs/telegram.md, "Idempotency"):
- the TelegramUpdate row per update_id (unique), written by the webhook, so a redelivered
  update is stored, and therefore applied, once; rows are pruned after
  TELEGRAM_UPDATE_RETENTION_DAYS because Telegram may restart update_id after a week;
- each stored request's Message.intake_key "tg:<bot id>:<update_id>:<message date>": the
  same delivery always carries the same message date, a reused update_id weeks later does
  not, so an old key never swallows a new request.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from hotline import identity, queueing
from hotline.delivery import client
from hotline.desk import services, triage
from hotline.intake.telegram import flood, media
from hotline.intake.telegram.updates import (
    Action,
    ButtonPressed,
    Edit,
    Ignored,
    NewRequest,
    Reachability,
    classify,
    update_kind,
)
from hotline.models import Case, Channel, Contact, Direction, Message, TelegramUpdate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What the update became, for the log and the webhook's answer (ids only)."""

    result: str  # request | duplicate | edit | triage | reachability | ignored | failed
    case_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True)
class Parsed:
    """A Bot API update and what it means (classify), before anything is stored."""

    update: dict[str, Any]
    kind: str
    action: Action


@dataclass(frozen=True)
class Applied:
    """One applied update: what it became, and for a request the stored message (its case and
    the case's contact attached) and whether it was new or a duplicate (`received`). Callers
    that act on each stored message (media, live pages) read it here."""

    parsed: Parsed
    outcome: Outcome
    received: services.Received | None = None


def parse(update: dict[str, Any]) -> Parsed:
    """Read one update (raises on an update the code cannot handle: the caller falls back)."""
    return Parsed(update=update, kind=update_kind(update), action=classify(update))


def apply_update(update: dict[str, Any], *, quiet: bool | None = None) -> Outcome:
    """What one update means for the desk, stored in the caller's transaction: a batch of one.

    `quiet`: the flood limit's verdict if the caller counted it already (flood.over_limit)."""
    parsed = parse(update)
    verdict = flood.over_limit(update) if quiet is None else quiet
    return apply_parsed([parsed], [verdict])[0].outcome


def lock_contacts(items: Sequence[Parsed]) -> None:
    """Find or create, and lock, the contacts these updates are about (desk.services.contacts_lock_many):
    the inbox takes them while it claims a batch, so a later batch touching the same chat
    waits for this one to commit and a chat's updates are applied in order."""
    requests: list[services.IncomingRequest] = []
    existing: list[tuple[str, str]] = []
    for item in items:
        action = item.action
        if isinstance(action, NewRequest | Edit):  # an edit of an unknown message becomes a request
            at = action.sent_at if isinstance(action, NewRequest) else action.edited_at
            requests.append(services.IncomingRequest(
                channel=Channel.TELEGRAM, identifier=action.sender.chat_id, text="",
                display_name=action.sender.display_name, language=action.sender.language, received_at=at,
                username=action.sender.username,
            ))
        elif (chat := _chat_of(action)) is not None:
            existing.append((Channel.TELEGRAM, chat))
    services.contacts_lock_many(requests, existing=existing)


def _chat_of(action: Action) -> str | None:
    if isinstance(action, NewRequest | Edit):
        return action.sender.chat_id
    if isinstance(action, ButtonPressed | Reachability):
        return action.chat_id
    return None


def apply_parsed(items: Sequence[Parsed], quiet: Sequence[bool]) -> list[Applied]:
    """Apply parsed updates in order, in the caller's transaction; raises on the first failure
    (the inbox then applies the batch one update at a time).

    Consecutive new requests are stored together (desk.services.requests_receive_batch); any
    other update (an edit, a button, a block) is applied alone, after the requests of its own
    chat that came before it, so each chat sees its updates in order."""
    applied: list[Applied | None] = [None] * len(items)
    pending: list[int] = []
    chats: set[str] = set()

    def flush() -> None:
        entries = []
        for i in pending:
            action = items[i].action
            assert isinstance(action, NewRequest)
            entries.append((items[i], _incoming(action, items[i].update["update_id"]), quiet[i]))
        for i, result in zip(pending, _store_requests(entries), strict=True):
            applied[i] = result
        pending.clear()
        chats.clear()

    for i, item in enumerate(items):
        if quiet[i]:
            logger.warning(
                "telegram update=%s kind=%s over the per-user rate: bot replies suppressed",
                item.update["update_id"], item.kind,
            )
        if isinstance(item.action, NewRequest):
            pending.append(i)
            chats.add(item.action.sender.chat_id)
            continue
        if _chat_of(item.action) in chats:
            flush()
        applied[i] = Applied(item, _apply_one(item, quiet=quiet[i]))
    flush()
    done = [a for a in applied if a is not None]
    for result in done:
        logger.info(
            "telegram update=%s kind=%s -> %s case=%s message=%s", result.parsed.update["update_id"],
            result.parsed.kind, result.outcome.result, result.outcome.case_id, result.outcome.message_id,
        )
    return done


def _apply_one(item: Parsed, *, quiet: bool) -> Outcome:
    action, update_id = item.action, item.update["update_id"]
    if isinstance(action, Ignored):
        logger.info("telegram update=%s kind=%s ignored: %s", update_id, item.kind, action.reason)
        if isinstance(item.update.get("callback_query"), dict) and not quiet:
            _answer_button(item.update["callback_query"].get("id"), "")
        return Outcome("ignored")
    if isinstance(action, Edit):
        return _edit(action, item, quiet=quiet)
    if isinstance(action, ButtonPressed):
        return _button(action, quiet=quiet)
    if isinstance(action, Reachability):
        return _reachability(action)
    return Outcome("ignored")


def intake_key(update_id: int, at_seconds: int) -> str:
    return f"tg:{client.bot_id()}:{update_id}:{at_seconds}"


def _incoming(action: NewRequest, update_id: int, *, body: str | None = None) -> services.IncomingRequest:
    sender = action.sender
    return services.IncomingRequest(
        channel=Channel.TELEGRAM, identifier=sender.chat_id, text=action.body if body is None else body,
        display_name=sender.display_name, language=sender.language, received_at=action.sent_at,
        intake_key=intake_key(update_id, int(action.sent_at.timestamp())), external_id=action.message_id,
        username=sender.username,
    )


def _store_requests(entries: Sequence[tuple[Parsed, services.IncomingRequest, bool]]) -> list[Applied]:
    """Store requests (one batch) and acknowledge the cases they opened: the one place every
    stored Telegram request passes, alone or in a batch."""
    received = services.requests_receive_batch([request for _, request, _ in entries])
    done, opened = [], []
    for (item, _, quiet), stored in zip(entries, received, strict=True):
        if stored.duplicate:
            outcome = Outcome("duplicate", stored.case.pk, stored.message.pk)
        else:
            outcome = Outcome("request", stored.case.pk, stored.message.pk)
            media.attach(stored.message, getattr(item.action, "media", None))
            if stored.opened and not quiet:
                opened.append(stored.case)
        done.append(Applied(item, outcome, stored))
    _acknowledge(opened)
    return done


def _acknowledge(cases: Sequence[Case]) -> None:
    """New (or reopened) cases: say we heard, and ask the first triage question with it."""
    texts = []
    for case in cases:
        question = triage.next_question(case.triage)
        text = settings.TELEGRAM_ACK_TEXT.strip()
        if question is not None:
            text = f"{text}\n\n{question.text}" if text else question.text
        if text:
            texts.append((case.pk, text))
    services.messages_record_automatic(texts)


def _contact(chat_id: str) -> Contact | None:
    digest = identity.lookup_hash(Channel.TELEGRAM, chat_id)
    return Contact.objects.filter(channel=Channel.TELEGRAM, lookup_hash=digest).first()


def _edit(action: Edit, item: Parsed, *, quiet: bool = False) -> Outcome:
    contact = _contact(action.sender.chat_id)
    original = None
    if contact is not None and action.message_id:
        original = (
            Message.objects.filter(
                case__contact=contact, direction=Direction.INBOUND, channel=Channel.TELEGRAM,
                external_id=action.message_id,
            ).order_by("-pk").first()
        )
    if original is None:
        # An edit of something we never stored (sent before the bot was connected, or a
        # service message): keep the words as a new request rather than lose them.
        as_new = NewRequest(
            sender=action.sender, message_id=action.message_id, body=action.body, sent_at=action.edited_at,
        )
        request = _incoming(as_new, item.update["update_id"], body=f"[edited] {action.body}")
        return _store_requests([(item, request, quiet)])[0].outcome
    services.message_record_edit(message_id=original.pk, text=action.body, at=action.edited_at)
    return Outcome("edit", original.case_id, original.pk)


def _button(action: ButtonPressed, *, quiet: bool = False) -> Outcome:
    parsed = triage.parse_callback(action.data)
    contact = _contact(action.chat_id) if action.chat_id else None
    case = Case.objects.filter(contact=contact).order_by("-pk").first() if contact else None
    if parsed is None or case is None:
        if not quiet:
            _answer_button(action.callback_query_id, "")
        return Outcome("ignored", case.pk if case else None)
    question, code, label = parsed
    first_answer = services.case_record_triage_answer(case_id=case.pk, question=question.key, answer=code, label=label)
    if quiet:
        return Outcome("triage", case.pk)  # the answer is kept; the bot says nothing more
    _answer_button(action.callback_query_id, settings.TELEGRAM_TRIAGE_THANKS)
    if first_answer and case.is_open:
        case.refresh_from_db(fields=["triage"])
        following = triage.next_question(case.triage)
        if following is not None:
            services.message_record_automatic(case_id=case.pk, text=following.text)
    return Outcome("triage", case.pk)


def _answer_button(callback_query_id: Any, text: str) -> None:
    """Stop the button's spinner; Telegram is called from Celery once this transaction commits."""
    if not isinstance(callback_query_id, str) or not callback_query_id:
        return
    queueing.enqueue_on_commit(queueing.ANSWER_BUTTON, callback_query_id, text)


def _reachability(action: Reachability) -> Outcome:
    contact = _contact(action.chat_id)
    if contact is None:
        return Outcome("ignored")
    services.contact_set_reachable(contact_id=contact.pk, reachable=action.reachable, at=action.at, source="telegram")
    case = Case.objects.filter(contact=contact).order_by("-pk").values_list("pk", flat=True).first()
    return Outcome("reachability", case)


def store_unreadable(update: dict[str, Any]) -> Outcome:
    """Last resort when handling an update failed unexpectedly: if it came from a private chat,
    store a request saying so, so an operator writes back instead of the person being lost."""
    update_id = update["update_id"]
    for kind in ("message", "edited_message"):
        message = update.get(kind)
        if not isinstance(message, dict):
            continue
        chat: dict[str, Any] = message["chat"] if isinstance(message.get("chat"), dict) else {}
        chat_id = chat.get("id")
        if chat.get("type") != "private" or not isinstance(chat_id, int) or isinstance(chat_id, bool):
            continue
        received = services.request_receive(
            actor=None, channel=Channel.TELEGRAM, identifier=str(chat_id),
            text=f"[a Telegram message the desk could not read (update {update_id}); ask the person to resend it]",
            intake_key=f"tg:{client.bot_id()}:{update_id}:unreadable:{timezone.now():%Y%m%d}",
        )
        return Outcome("request", received.case.pk, received.message.pk)
    return Outcome("ignored")


def prune_updates() -> int:
    """Forget handled update_ids older than the retention: Telegram may reuse them later.

    An update not yet handled is never pruned, however old: it still holds a request."""
    cutoff = timezone.now() - timedelta(days=settings.TELEGRAM_UPDATE_RETENTION_DAYS)
    deleted, _ = TelegramUpdate.objects.filter(received_at__lt=cutoff, processed_at__isnull=False).delete()
    return deleted
