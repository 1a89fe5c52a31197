"""Outbound delivery of messages to contacts and notices to supervisors.

The Telegram sender is implemented by the intake work (issue 3); until a sender exists for a
channel, a queued message is marked failed with the reason, never silently dropped.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from .models import CaseEvent, Delivery, EventKind, Message

logger = logging.getLogger(__name__)


def _fail(message: Message, reason: str) -> None:
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(delivery=Delivery.FAILED, delivery_error=reason[:200])
        CaseEvent.objects.create(
            case_id=message.case_id, kind=EventKind.DELIVERY_FAILED, created_at=timezone.now(),
            data={"message_id": message.pk, "reason": reason[:200]},
        )
    logger.warning("delivery failed message=%s reason=%s", message.pk, reason)


def deliver_message(message_id: int, attempt: int = 0) -> float | None:
    """Send a queued message. Returns seconds to wait before a retry, or None when done."""
    message = Message.objects.filter(pk=message_id, delivery=Delivery.QUEUED).first()
    if message is None:
        return None  # already sent or failed: a redelivered task does nothing twice
    _fail(message, f"No sender for channel {message.channel}.")
    return None


def notify_supervisors(*, overdue: int, at_risk: int) -> None:
    """One notice per sweep to the supervisors' chat, when one is configured."""
    logger.info("sla sweep flagged overdue=%s at_risk=%s", overdue, at_risk)
