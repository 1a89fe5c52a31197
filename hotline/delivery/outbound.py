"""Outbound delivery of messages to contacts and notices to supervisors.

A queued Telegram message is sent with the Bot API's sendMessage. Network errors, 5xx and
429 are retried with exponential backoff (429 waits as long as Telegram asks), up to
TELEGRAM_DELIVERY_MAX_ATTEMPTS; then, and for any other refusal, the message is marked
failed with the reason, so the operator sees it and can phone or write again. Nothing is
dropped silently.

Exactly one sender at a time: before calling Telegram a sender claims the message with one
conditional UPDATE (still queued, and not claimed, or claimed longer ago than the lease
DELIVERY_CLAIM_SECONDS); only the sender whose UPDATE changed the row goes on. So two tasks
for the same message (a redelivered task, a recovery re-queue, two beats) send it once.
A sender that dies holding a claim blocks nobody for longer than the lease.

Nothing queued is lost: `requeue_stranded` (periodic) queues again every message still
`queued` and neither claimed nor due later, DELIVERY_RECOVER_AFTER_SECONDS after it was due
(the task was lost with Redis's data, never published while Redis was down, or died with
its worker).

What remains is at least once, not exactly once: a sender killed after Telegram accepted
the message and before our UPDATE recorded it leaves a claim that expires, and the message
is sent again. Telegram offers no idempotency key for sendMessage, so this window (the
length of one HTTP answer plus one UPDATE) cannot be closed from our side.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from hotline import queueing
from hotline.delivery import client
from hotline.desk import live, services, triage
from hotline.desk.media import outbound_label
from hotline.models import (
    CaseEvent,
    Channel,
    Delivery,
    Direction,
    EventKind,
    MediaKind,
    MediaState,
    Message,
    MessageMedia,
)
from hotline.privacy import files

logger = logging.getLogger(__name__)


def _fail(message: Message, reason: str) -> None:
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(
            delivery=Delivery.FAILED, delivery_error=reason[:200], delivery_claimed_at=None,
        )
        CaseEvent.objects.create(
            case_id=message.case_id, kind=EventKind.DELIVERY_FAILED, created_at=timezone.now(),
            data={"message_id": message.pk, "reason": reason[:200]},
        )
        live.bump_after_commit([message.case_id])
    logger.warning("delivery failed message=%s reason=%s", message.pk, reason)


def retry_delay(attempt: int, retry_after: float | None = None) -> float:
    """Seconds before attempt number `attempt + 1`: Telegram's retry_after if it gave one,
    else base * 2**attempt, capped."""
    if retry_after is not None:
        return max(float(retry_after), 1.0)
    base = float(settings.TELEGRAM_RETRY_BASE_SECONDS)
    return min(base * (2 ** min(attempt, 30)), float(settings.TELEGRAM_RETRY_MAX_SECONDS))


def _lease() -> timedelta:
    return timedelta(seconds=float(settings.DELIVERY_CLAIM_SECONDS))


def claim(message_id: int, now: datetime | None = None) -> bool:
    """Take the right to send one queued message: True for exactly one of any number of
    concurrent callers. Counts the attempt. One statement, so it is atomic by itself."""
    now = now or timezone.now()
    claimable = Q(delivery_claimed_at__isnull=True) | Q(delivery_claimed_at__lt=now - _lease())
    changed = (
        Message.objects.filter(pk=message_id, delivery=Delivery.QUEUED)
        .filter(claimable)
        .update(delivery_claimed_at=now, delivery_attempts=F("delivery_attempts") + 1)
    )
    return changed == 1


def deliver_message(message_id: int) -> float | None:
    """Send a queued message. Returns seconds to wait before a retry, or None when done
    (sent, failed for good, or another sender holds it or finished it)."""
    if not claim(message_id):
        return None  # sent, failed, or being sent by someone else: nothing to do twice
    message = Message.objects.select_related("case__contact").get(pk=message_id)
    if message.channel != Channel.TELEGRAM:
        _fail(message, f"No sender for channel {message.channel}.")
        return None
    if not client.is_configured():
        _fail(message, "Telegram is not configured (TELEGRAM_BOT_TOKEN is empty); the message was not sent.")
        return None
    contact = message.case.contact
    attached = MessageMedia.objects.filter(message=message, state=MediaState.READY).exclude(storage_name="").first()
    if attached is not None:
        answer = _send_file(contact.identifier, message, attached)
        if answer is None:
            _fail(message, "The file to send cannot be read (erased, or its key is gone).")
            return None
    else:
        payload: dict = {"chat_id": contact.identifier, "text": message.body}
        markup = triage.keyboard_for(message.body) if message.is_automatic else None
        if markup is not None:
            payload["reply_markup"] = markup
        answer = client.call("sendMessage", payload)
    attempts = message.delivery_attempts
    if answer.ok:
        sent_id = answer.result.get("message_id") if isinstance(answer.result, dict) else None
        Message.objects.filter(pk=message.pk, delivery=Delivery.QUEUED).update(
            delivery=Delivery.SENT, delivered_at=timezone.now(), delivery_error="", delivery_claimed_at=None,
            external_id=str(sent_id) if sent_id is not None else "",
        )
        live.bump_after_commit([message.case_id])  # the open case page shows "Sent"
        logger.info("delivery sent message=%s attempt=%s", message.pk, attempts)
        return None
    if answer.retryable:
        if attempts >= settings.TELEGRAM_DELIVERY_MAX_ATTEMPTS:
            _fail(message, f"Not sent after {attempts} attempts; last: {answer.reason}")
            return None
        delay = retry_delay(attempts - 1, answer.retry_after if answer.status == 429 else None)
        # Still queued; say why, so the operator sees a delay rather than silence. The claim
        # is released and the due time recorded, so recovery waits for the retry's turn.
        Message.objects.filter(pk=message.pk, delivery=Delivery.QUEUED).update(
            delivery_error=f"Retrying (attempt {attempts} failed: {answer.reason})"[:200],
            delivery_claimed_at=None, delivery_next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        live.bump_after_commit([message.case_id])
        logger.info("delivery retry message=%s attempt=%s in=%ss status=%s", message.pk, attempts, delay, answer.status)
        return delay
    if answer.status == 403:
        services.contact_set_reachable(contact_id=contact.pk, reachable=False, source="telegram")
        _fail(message, f"Blocked by the user ({answer.description})" if answer.description else "Blocked by the user")
        return None
    _fail(message, f"Telegram refused the message: {answer.reason}")
    return None


def _send_file(chat_id: str, message: Message, media: MessageMedia) -> client.BotAnswer | None:
    """sendPhoto or sendDocument: the file decrypted into a temporary spool (memory, or disk
    past 1 MiB) for the upload, never into storage; the caption unless the body is only the label."""
    method, field = ("sendPhoto", "photo") if media.kind == MediaKind.PHOTO else ("sendDocument", "document")
    fields = {"chat_id": chat_id}
    if message.body and message.body != outbound_label(media.kind, media.filename):
        fields["caption"] = message.body
    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
        try:
            for chunk in files.open_plain(media.storage_name, media.file_key):
                spool.write(chunk)
        except (files.FileDecryptionError, OSError):
            return None
        spool.seek(0)
        return client.call_multipart(method, fields, {field: (media.filename or "file", spool, media.sniffed_mime)})


def requeue_stranded(now: datetime | None = None, *, limit: int = 500) -> list[int]:
    """The safety net under Redis and the workers: queue again each outbound message still
    `queued`, not claimed (or its claim expired), and due for longer than
    DELIVERY_RECOVER_AFTER_SECONDS. Returns their ids.

    A re-queued message is next considered after a wait as long as it has been waiting so far
    (at most 8 periods): a message re-queued into a long backlog is most likely still in it,
    and re-queueing it every period would grow the backlog it is stuck in. Rows another sweep
    holds are skipped (two beats are harmless). A message re-queued while its first task is
    merely slow is still sent once: see `claim`.
    """
    now = now or timezone.now()
    period = timedelta(seconds=float(settings.DELIVERY_RECOVER_AFTER_SECONDS))
    with transaction.atomic():
        stranded = list(
            Message.objects.filter(delivery=Delivery.QUEUED, direction=Direction.OUTBOUND)
            .filter(Q(delivery_claimed_at__isnull=True) | Q(delivery_claimed_at__lt=now - _lease()))
            .alias(due=Coalesce("delivery_next_attempt_at", "created_at"))
            .filter(due__lt=now - period)
            .order_by("created_at")
            .select_for_update(skip_locked=True)
            .only("pk", "created_at")[:limit]
        )
        if not stranded:
            return []
        for message in stranded:
            message.delivery_next_attempt_at = now + min(max(now - message.created_at, period), 8 * period) - period
        Message.objects.bulk_update(stranded, ["delivery_next_attempt_at"])
        for message in stranded:
            queueing.enqueue_on_commit(queueing.DELIVER_MESSAGE, message.pk)
    logger.warning("delivery recovery re-queued messages=%s first=%s", len(stranded), stranded[0].pk)
    return [message.pk for message in stranded]


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
