"""Applying one stored Bot API update: store what it means through the services.

Runs in a worker (hotline/telegram/inbox.py hands each stored update here, inside its own
transaction). Deduplication has two layers (docs/telegram.md, "Idempotency"):
- the TelegramUpdate row per update_id (unique), written by the webhook, so a redelivered
  update is stored, and therefore applied, once; rows are pruned after
  TELEGRAM_UPDATE_RETENTION_DAYS because Telegram may restart update_id after a week;
- each stored request's Message.intake_key "tg:<bot id>:<update_id>:<message date>": the
  same delivery always carries the same message date, a reused update_id weeks later does
  not, so an old key never swallows a new request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from hotline import identity, queueing
from hotline.delivery import client
from hotline.desk import services, triage
from hotline.intake.telegram import flood
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


def apply_update(update: dict[str, Any]) -> Outcome:
    """What one update means for the desk, stored in the caller's transaction."""
    update_id: int = update["update_id"]
    kind = update_kind(update)
    action = classify(update)
    # A flood from one user is stored all the same; only the bot's replies stop (flood.py).
    quiet = flood.over_limit(update)
    if quiet:
        logger.warning("telegram update=%s kind=%s over the per-user rate: bot replies suppressed", update_id, kind)
    if isinstance(action, Ignored):
        logger.info("telegram update=%s kind=%s ignored: %s", update_id, kind, action.reason)
        if isinstance(update.get("callback_query"), dict) and not quiet:
            _answer_button(update["callback_query"].get("id"), "")
        return Outcome("ignored")
    outcome = _apply(action, update_id, quiet=quiet)
    logger.info(
        "telegram update=%s kind=%s -> %s case=%s message=%s",
        update_id, kind, outcome.result, outcome.case_id, outcome.message_id,
    )
    return outcome


def _apply(action: Action, update_id: int, *, quiet: bool = False) -> Outcome:
    if isinstance(action, NewRequest):
        return _new_request(action, update_id, quiet=quiet)
    if isinstance(action, Edit):
        return _edit(action, update_id, quiet=quiet)
    if isinstance(action, ButtonPressed):
        return _button(action, quiet=quiet)
    if isinstance(action, Reachability):
        return _reachability(action)
    return Outcome("ignored")


def intake_key(update_id: int, at_seconds: int) -> str:
    return f"tg:{client.bot_id()}:{update_id}:{at_seconds}"


def _new_request(action: NewRequest, update_id: int, *, body: str | None = None, quiet: bool = False) -> Outcome:
    sender = action.sender
    received = services.request_receive(
        actor=None, channel=Channel.TELEGRAM, identifier=sender.chat_id, text=action.body if body is None else body,
        display_name=sender.display_name, language=sender.language, received_at=action.sent_at,
        intake_key=intake_key(update_id, int(action.sent_at.timestamp())), external_id=action.message_id,
        username=sender.username,
    )
    if received.duplicate:
        return Outcome("duplicate", received.case.pk, received.message.pk)
    if received.opened and not quiet:
        _acknowledge(received.case)
    return Outcome("request", received.case.pk, received.message.pk)


def _acknowledge(case: Case) -> None:
    """A new (or reopened) case: say we heard, and ask the first triage question with it."""
    question = triage.next_question(case.triage)
    text = settings.TELEGRAM_ACK_TEXT.strip()
    if question is not None:
        text = f"{text}\n\n{question.text}" if text else question.text
    if text:
        services.message_record_automatic(case_id=case.pk, text=text)


def _contact(chat_id: str) -> Contact | None:
    digest = identity.lookup_hash(Channel.TELEGRAM, chat_id)
    return Contact.objects.filter(channel=Channel.TELEGRAM, lookup_hash=digest).first()


def _edit(action: Edit, update_id: int, *, quiet: bool = False) -> Outcome:
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
        return _new_request(as_new, update_id, body=f"[edited] {action.body}", quiet=quiet)
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
