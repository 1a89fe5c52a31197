"""Retention: personal data leaves a case RETENTION_DAYS after it closed (or surrendered).

What is erased: every message body of the case (kept as an empty, encrypted value and marked
`erased_at`), its files (deleted from storage, their keys and names emptied), places, contact
cards and the earlier texts of edited messages, its surrender place and triage answers; and
the contact's identifier and name once the contact has no case that is open or closed within
the period, with its lookup hash replaced by "erased:<pk>" so the person's next request
starts a new contact and a new case.

What is kept, so every figure stays exactly right: the rows themselves, every timestamp,
stage, close reason, owner, first responder, equipment and reward, and the timeline. Nothing
is deleted. Each anonymised case gets one ANONYMISED event.

Set-based and batched; safe to run twice at once: a batch locks its contacts then its cases
(the services' lock order) and re-checks under the lock, so a case is anonymised once.
Telegram's TelegramUpdate rows hold no personal data and link to no case (pruned after
TELEGRAM_UPDATE_RETENTION_DAYS anyway).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Count, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from hotline.models import (
    Case,
    CaseEvent,
    Contact,
    ContactSearchKey,
    EventKind,
    MediaState,
    Message,
    MessageMedia,
    MessageRevision,
)
from hotline.privacy import files

logger = logging.getLogger(__name__)

BATCH_SIZE = 200


@dataclass(frozen=True)
class RetentionResult:
    cases: int = 0
    messages: int = 0
    contacts: int = 0

    def __add__(self, other: RetentionResult) -> RetentionResult:
        return RetentionResult(
            self.cases + other.cases, self.messages + other.messages, self.contacts + other.contacts,
        )


def retention_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS)


def anonymise_expired(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> RetentionResult:
    """Erase the personal data of every case closed before the cutoff; return what changed."""
    now = now or timezone.now()
    cutoff = retention_cutoff(now)
    total = RetentionResult()
    while True:
        # Read without locks; each batch locks and re-checks (a case may have been reopened
        # or anonymised by a concurrent run since). Cases that no longer qualify drop out of
        # this query, so the loop ends.
        candidates = list(
            Case.objects.filter(closed_at__lt=cutoff, anonymised_at__isnull=True)
            .order_by("closed_at", "pk").values_list("pk", "contact_id")[:batch_size]
        )
        if not candidates:
            break
        total += _anonymise_batch(
            [pk for pk, _ in candidates], sorted({contact for _, contact in candidates}), cutoff, now,
        )
    if total.cases:
        logger.info("retention anonymised cases=%s messages=%s contacts=%s", total.cases, total.messages,
                    total.contacts)
    return total


@transaction.atomic
def _anonymise_batch(
    case_ids: Sequence[int], contact_ids: Sequence[int], cutoff: datetime, now: datetime,
) -> RetentionResult:
    # Contacts first, then cases: the order request_receive locks them in.
    list(Contact.objects.select_for_update().filter(pk__in=contact_ids).order_by("pk").values_list("pk"))
    cases = list(
        Case.objects.select_for_update()
        .filter(pk__in=case_ids, closed_at__lt=cutoff, anonymised_at__isnull=True)
        .order_by("pk").values_list("pk", "contact_id")
    )
    if not cases:
        return RetentionResult()
    ids = [pk for pk, _ in cases]
    messages = Message.objects.filter(case_id__in=ids, erased_at__isnull=True).update(body="", erased_at=now)
    _erase_media(ids)
    Case.objects.filter(pk__in=ids).update(surrender_place="", triage={}, anonymised_at=now)
    # A contact is still needed while it has a case open or closed within the period.
    needed = Case.objects.filter(contact_id__in=contact_ids).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=cutoff),
    ).values("contact_id")
    erasable = set(
        Contact.objects.filter(pk__in={contact for _, contact in cases}, erased_at__isnull=True)
        .exclude(pk__in=needed).values_list("pk", flat=True)
    )
    if erasable:
        # The search keys go with the values they were made from (hotline.desk.search).
        ContactSearchKey.objects.filter(contact_id__in=erasable).delete()
        Contact.objects.filter(pk__in=erasable).update(
            identifier="", display_name="", username="", erased_at=now,
            lookup_hash=Concat(Value("erased:"), Cast("pk", CharField())),
        )
    erased_messages = dict(
        Message.objects.filter(case_id__in=ids).values_list("case_id").annotate(n=Count("pk")).order_by()
    )
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case_id=pk, kind=EventKind.ANONYMISED, actor=None, created_at=now,
            data={"messages": erased_messages.get(pk, 0), "contact_erased": contact in erasable},
        )
        for pk, contact in cases
    )
    return RetentionResult(cases=len(ids), messages=messages, contacts=len(erasable))


def _erase_media(case_ids: Sequence[int]) -> None:
    """The cases' files, places, contact cards and earlier texts go with their messages. The
    row's file key is erased in this transaction (the file is unreadable from then on, even if
    the storage's delete fails); the files are deleted once it commits."""
    media = MessageMedia.objects.filter(message__case_id__in=case_ids)
    names = list(media.exclude(storage_name="").values_list("storage_name", flat=True))
    media.exclude(state=MediaState.ERASED).update(
        state=MediaState.ERASED, storage_name="", file_key="", filename="", details=None, file_id="",
        file_unique_id="", reason="", fetch_claimed_at=None,
    )
    MessageRevision.objects.filter(message__case_id__in=case_ids).update(body="")
    if names:
        transaction.on_commit(lambda: _delete_files(names), robust=True)


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            files.delete(name)
        except OSError:
            logger.warning("retention could not delete a stored file; its key is already erased")
