"""Media from Telegram: the file, place or contact card a request carries, kept with it.

The request is stored at once (nothing waits on a download); `attach` adds its MessageMedia:
a place or a contact card is complete as it is, a file starts "fetching" and a Celery task
(`fetch`) downloads it with getFile and the file URL, encrypts it as it streams in
(hotline/privacy/files.py) and marks it ready. Network errors, 5xx and 429 are retried with
the outbound delivery's backoff (429 waits as long as Telegram asks), up to
MEDIA_FETCH_MAX_ATTEMPTS; a file over the Bot API's 20 MB download limit keeps its details
and says why it is not here. One fetcher at a time per file: a conditional UPDATE claims it
(a lease, as outbound delivery does), and `requeue_stranded` re-queues a fetch whose task was
lost.

The file's type is sniffed from its bytes (filetype): the page shows a file inline only when
its bytes agree with the kind Telegram named (MessageMedia.inline).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import filetype
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from hotline import queueing
from hotline.delivery import client
from hotline.delivery.outbound import retry_delay
from hotline.intake.telegram.updates import Media
from hotline.models import FILE_KINDS, MediaState, Message, MessageMedia
from hotline.privacy import files

logger = logging.getLogger(__name__)

# A download of up to 20 MB may take minutes on a poor link: a longer lease than a send's.
CLAIM_SECONDS = 600


def attach(message: Message, media: Media | None) -> MessageMedia | None:
    """Keep what came with a just-stored request; queue the file's fetch after commit."""
    if media is None:
        return None
    now = timezone.now()
    state, reason = MediaState.READY, ""
    if media.kind in FILE_KINDS:
        state = MediaState.FETCHING
        if media.size is not None and media.size > settings.TELEGRAM_DOWNLOAD_MAX_BYTES:
            state, reason = MediaState.TOO_LARGE, _too_large(media.size)
    row = MessageMedia.objects.create(
        message=message, kind=media.kind, state=state, reason=reason, mime=media.mime, size=media.size,
        file_id=media.file_id, file_unique_id=media.file_unique_id, duration=media.duration, width=media.width,
        height=media.height, filename=media.filename, details=media.details, created_at=now,
    )
    if state == MediaState.FETCHING:
        queueing.enqueue_on_commit(queueing.FETCH_MEDIA, row.pk)
    return row


def _too_large(size: int | None) -> str:
    limit = settings.TELEGRAM_DOWNLOAD_MAX_BYTES / (1024 * 1024)
    what = f"The file is {size / (1024 * 1024):.1f} MB" if size else "The file is too large"
    return f"{what}; Telegram lets bots download at most {limit:g} MB. Ask the person to send a smaller one."


def claim(media_id: int, now: datetime | None = None) -> bool:
    """The right to fetch one file: True for exactly one of any number of concurrent callers."""
    now = now or timezone.now()
    claimable = Q(fetch_claimed_at__isnull=True) | Q(fetch_claimed_at__lt=now - timedelta(seconds=CLAIM_SECONDS))
    changed = (
        MessageMedia.objects.filter(pk=media_id, state=MediaState.FETCHING).filter(claimable)
        .update(fetch_claimed_at=now, fetch_attempts=F("fetch_attempts") + 1)
    )
    return changed == 1


def fetch(media_id: int) -> float | None:
    """Download one file. Returns seconds to wait before a retry, or None when done (ready,
    too large, failed for good, or another fetcher holds it)."""
    if not claim(media_id):
        return None
    media = MessageMedia.objects.only("pk", "file_id", "fetch_attempts", "message_id").get(pk=media_id)
    if not client.is_configured():
        _finish(media, MediaState.FAILED, "Telegram is not configured (TELEGRAM_BOT_TOKEN is empty).")
        return None
    limit = settings.TELEGRAM_DOWNLOAD_MAX_BYTES
    answer = client.call("getFile", {"file_id": media.file_id})
    if answer.ok:
        result: dict[str, Any] = answer.result if isinstance(answer.result, dict) else {}
        path, size = result.get("file_path"), result.get("file_size")
        if isinstance(size, int) and size > limit:
            _finish(media, MediaState.TOO_LARGE, _too_large(size))
            return None
        if not isinstance(path, str) or not path:
            _finish(media, MediaState.FAILED, "Telegram gave no file path for the file.")
            return None
        answer, stored = client.download(path, max_bytes=limit, consume=files.store)
        if answer.ok and stored is not None:
            _ready(media, stored)
            return None
        if answer.status == 413:
            _finish(media, MediaState.TOO_LARGE, _too_large(None))
            return None
    if answer.retryable:
        attempts = media.fetch_attempts
        if attempts >= settings.MEDIA_FETCH_MAX_ATTEMPTS:
            _finish(media, MediaState.FAILED, f"Not fetched after {attempts} attempts; last: {answer.reason}")
            return None
        delay = retry_delay(attempts - 1, answer.retry_after if answer.status == 429 else None)
        # The lease is set to run out when the retry is due: the recovery sweep leaves it alone till then.
        due = timezone.now() + timedelta(seconds=delay)
        MessageMedia.objects.filter(pk=media.pk, state=MediaState.FETCHING).update(
            reason=f"Retrying (attempt {attempts} failed: {answer.reason})"[:200],
            fetch_claimed_at=due - timedelta(seconds=CLAIM_SECONDS + 1),
        )
        logger.info("media fetch retry media=%s attempt=%s in=%ss status=%s", media.pk, attempts, delay, answer.status)
        return delay
    if answer.status == 400 and "too big" in answer.description.lower():
        _finish(media, MediaState.TOO_LARGE, _too_large(None))
        return None
    _finish(media, MediaState.FAILED, f"Telegram refused the file: {answer.reason}")
    return None


def _sniff(head: bytes) -> str:
    kind = filetype.guess(head) if head else None
    return kind.mime if kind is not None else "application/octet-stream"


def _ready(media: MessageMedia, stored: files.Stored) -> None:
    changed = MessageMedia.objects.filter(pk=media.pk, state=MediaState.FETCHING).update(
        state=MediaState.READY, reason="", storage_name=stored.name, file_key=stored.key, size=stored.size,
        sniffed_mime=_sniff(stored.head), fetched_at=timezone.now(), fetch_claimed_at=None,
    )
    if not changed:
        # Erased (retention) while it was downloading: the file must not outlive the row's data.
        files.delete(stored.name)
        return
    logger.info("media fetched media=%s bytes=%s", media.pk, stored.size)


def _finish(media: MessageMedia, state: str, reason: str) -> None:
    MessageMedia.objects.filter(pk=media.pk, state=MediaState.FETCHING).update(
        state=state, reason=reason[:200], fetch_claimed_at=None,
    )
    logger.warning("media not fetched media=%s state=%s", media.pk, state)


def requeue_stranded(now: datetime | None = None, *, limit: int = 500) -> list[int]:
    """Periodic: queue again each file still fetching, unclaimed (or its lease over), and
    older than DELIVERY_RECOVER_AFTER_SECONDS since it last had a chance (its task was lost)."""
    now = now or timezone.now()
    period = timedelta(seconds=float(settings.DELIVERY_RECOVER_AFTER_SECONDS))
    with transaction.atomic():
        stranded = list(
            MessageMedia.objects.filter(state=MediaState.FETCHING, created_at__lt=now - period)
            .filter(Q(fetch_claimed_at__isnull=True) | Q(fetch_claimed_at__lt=now - timedelta(seconds=CLAIM_SECONDS)))
            .order_by("created_at").select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit]
        )
        for pk in stranded:
            queueing.enqueue_on_commit(queueing.FETCH_MEDIA, pk)
    if stranded:
        logger.warning("media recovery re-queued files=%s", len(stranded))
    return stranded
