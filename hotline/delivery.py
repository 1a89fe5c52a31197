"""Outbound delivery of messages to contacts and notices to supervisors.

A queued Telegram message is sent with the Bot API's sendMessage. Network errors, 5xx and
429 are retried with exponential backoff (429 waits as long as Telegram asks), up to
TELEGRAM_DELIVERY_MAX_ATTEMPTS; then, and for any other refusal, the message is marked
failed with the reason, so the operator sees it and can phone or write again. Nothing is
dropped silently. Delivery is at least once: a worker killed between Telegram's answer and
our write sends the message again on redelivery.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import services
from .models import CaseEvent, Channel, Delivery, EventKind, Message
from .telegram import client, triage

logger = logging.getLogger(__name__)


def _fail(message: Message, reason: str) -> None:
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(delivery=Delivery.FAILED, delivery_error=reason[:200])
        CaseEvent.objects.create(
            case_id=message.case_id, kind=EventKind.DELIVERY_FAILED, created_at=timezone.now(),
            data={"message_id": message.pk, "reason": reason[:200]},
        )
    logger.warning("delivery failed message=%s reason=%s", message.pk, reason)


def retry_delay(attempt: int, retry_after: float | None = None) -> float:
    """Seconds before attempt number `attempt + 1`: Telegram's retry_after if it gave one,
    else base * 2**attempt, capped."""
    if retry_after is not None:
        return max(float(retry_after), 1.0)
    base = float(settings.TELEGRAM_RETRY_BASE_SECONDS)
    return min(base * (2 ** min(attempt, 30)), float(settings.TELEGRAM_RETRY_MAX_SECONDS))


def deliver_message(message_id: int, attempt: int = 0) -> float | None:
    """Send a queued message. Returns seconds to wait before a retry, or None when done."""
    message = Message.objects.select_related("case__contact").filter(pk=message_id, delivery=Delivery.QUEUED).first()
    if message is None:
        return None  # already sent or failed: a redelivered task does nothing twice
    if message.channel != Channel.TELEGRAM:
        _fail(message, f"No sender for channel {message.channel}.")
        return None
    if not client.is_configured():
        _fail(message, "Telegram is not configured (TELEGRAM_BOT_TOKEN is empty); the message was not sent.")
        return None
    contact = message.case.contact
    payload: dict = {"chat_id": contact.identifier, "text": message.body}
    markup = triage.keyboard_for(message.body) if message.is_automatic else None
    if markup is not None:
        payload["reply_markup"] = markup
    answer = client.call("sendMessage", payload)
    if answer.ok:
        sent_id = answer.result.get("message_id") if isinstance(answer.result, dict) else None
        Message.objects.filter(pk=message.pk, delivery=Delivery.QUEUED).update(
            delivery=Delivery.SENT, delivered_at=timezone.now(), delivery_error="",
            external_id=str(sent_id) if sent_id is not None else "",
        )
        logger.info("delivery sent message=%s attempt=%s", message.pk, attempt + 1)
        return None
    if answer.retryable:
        attempts = attempt + 1
        if attempts >= settings.TELEGRAM_DELIVERY_MAX_ATTEMPTS:
            _fail(message, f"Not sent after {attempts} attempts; last: {answer.reason}")
            return None
        delay = retry_delay(attempt, answer.retry_after if answer.status == 429 else None)
        # Still queued; say why, so the operator sees a delay rather than silence.
        Message.objects.filter(pk=message.pk, delivery=Delivery.QUEUED).update(
            delivery_error=f"Retrying (attempt {attempts} failed: {answer.reason})"[:200],
        )
        logger.info("delivery retry message=%s attempt=%s in=%ss status=%s", message.pk, attempts, delay, answer.status)
        return delay
    if answer.status == 403:
        services.contact_set_reachable(contact_id=contact.pk, reachable=False, source="telegram")
        _fail(message, f"Blocked by the user ({answer.description})" if answer.description else "Blocked by the user")
        return None
    _fail(message, f"Telegram refused the message: {answer.reason}")
    return None


def notify_supervisors(*, overdue: int, at_risk: int) -> None:
    """One notice per sweep to the supervisors' chat, when one is configured (counts only)."""
    logger.info("sla sweep flagged overdue=%s at_risk=%s", overdue, at_risk)
    chat_id = settings.TELEGRAM_SUPERVISORS_CHAT_ID
    if not chat_id or not client.is_configured() or not (overdue or at_risk):
        return
    parts = []
    if overdue:
        parts.append(f"{overdue} case(s) became overdue (no human answer within {settings.SLA_HOURS:g} h)")
    if at_risk:
        parts.append(f"{at_risk} case(s) are at risk of becoming overdue")
    answer = client.call("sendMessage", {"chat_id": chat_id, "text": "Hotline Desk: " + "; ".join(parts) + "."})
    if not answer.ok:
        logger.warning("supervisors notice not sent: %s", answer.reason)


def answer_button(callback_query_id: str, text: str) -> None:
    """Acknowledge a pressed inline button (stops its spinner). Best effort: it expires soon."""
    payload = {"callback_query_id": callback_query_id}
    if text:
        payload["text"] = text
    answer = client.call("answerCallbackQuery", payload)
    if not answer.ok:
        logger.info("answerCallbackQuery failed: %s", answer.reason)
