"""Media on a case: finding a file one may see, auditing who read it, and sending one.

A file is reached only through its case (`media_for` runs the case's access check, and a
file of a case one may not see is the same 404 as a missing one). Reading a file is an
audited read of the case: one VIEWED event (via "file") per person, file and visit, however
many requests the browser makes for it (an audio element asks in ranges). An operator sends
a photo or a document as a reply (`case_send_file`): the same delivery pipeline, states and
retries as a text reply (hotline/delivery/outbound.py uses sendPhoto or sendDocument).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import filetype
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext

from hotline.desk import services
from hotline.desk.access import case_for
from hotline.desk.guards import record_event
from hotline.errors import CaseNotFound, InvalidInput
from hotline.models import CaseEvent, EventKind, MediaKind, MediaState, Message, MessageMedia
from hotline.privacy import files

# What an operator may send as a photo (Telegram re-encodes it; these it accepts).
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


def media_for(actor: User, case_id: int, media_id: int) -> MessageMedia:
    """A ready file of a case the actor may see; CaseNotFound (404) for anything else."""
    case = case_for(actor, case_id)
    media = (
        MessageMedia.objects.filter(pk=media_id, message__case_id=case.pk, state=MediaState.READY)
        .exclude(storage_name="").select_related("message__case").first()
    )
    if media is None:
        raise CaseNotFound(gettext("File not found."))
    return media


def media_record_read(*, actor: User, media: MessageMedia) -> bool:
    """Audit a read of a file: once per person, file and visit (CASE_VIEW_VISIT_MINUTES)."""
    now = timezone.now()
    case = media.message.case
    if CaseEvent.objects.filter(
        actor=actor, created_at__gte=now - timedelta(minutes=settings.CASE_VIEW_VISIT_MINUTES),
        case=case, kind=EventKind.VIEWED, data__via="file", data__media_id=media.pk,
    ).exists():
        return False
    record_event(case, EventKind.VIEWED, actor, now, via="file", media_id=media.pk)
    return True


def safe_filename(filename: str) -> str:
    """A file name fit for a header and a page: printable, no path or quote, at most 120
    characters (the end, where the extension is); "" when nothing is left."""
    return "".join(ch for ch in filename if ch.isprintable() and ch not in '/\\"')[-120:].strip()


def outbound_label(kind: str, filename: str) -> str:
    """The body of a file sent without a caption: what the timeline shows; never sent as a caption."""
    return f"[{'photo' if kind == MediaKind.PHOTO else 'document'}: {filename}]"


@transaction.atomic
def case_send_file(
    *, actor: User, case_id: int, chunks: Iterable[bytes], filename: str, size: int, as_photo: bool,
    caption: str = "",
) -> Message:
    """Send a photo or a document to the contact, with an optional caption (a reply).

    Checked before anything is stored: the size (Telegram's limits, MEDIA_SEND_*_MAX_BYTES) and,
    for a photo, that the bytes are an image Telegram takes. The file is encrypted like every
    other (hotline/privacy/files.py); delivery runs in Celery after commit."""
    limit = settings.MEDIA_SEND_PHOTO_MAX_BYTES if as_photo else settings.MEDIA_SEND_DOCUMENT_MAX_BYTES
    if size <= 0:
        raise InvalidInput(gettext("The file is empty."), field="file")
    if size > limit:
        raise InvalidInput(
            gettext("The file is %(size)s; at most %(limit)s can be sent as a %(what)s.") % {
                "size": filesizeformat(size), "limit": filesizeformat(limit),
                "what": gettext("photo") if as_photo else gettext("document"),
            },
            field="file",
        )
    caption = caption.strip()
    if len(caption) > 1024:
        raise InvalidInput(gettext("A caption can be at most 1024 characters (Telegram's limit)."), field="caption")
    name = safe_filename(filename) or "file"
    stored = files.store(chunks, folder="sent")
    sniffed = filetype.guess(stored.head) if stored.head else None
    mime = sniffed.mime if sniffed is not None else "application/octet-stream"
    if as_photo and mime not in PHOTO_TYPES:
        files.delete(stored.name)
        raise InvalidInput(gettext("This file is not a JPEG, PNG or WebP image: send it as a document."), field="file")
    kind = MediaKind.PHOTO if as_photo else MediaKind.DOCUMENT
    try:
        message = services.case_reply(actor=actor, case_id=case_id, text=caption or outbound_label(kind, name))
    except Exception:
        files.delete(stored.name)
        raise
    MessageMedia.objects.create(
        message=message, kind=kind, state=MediaState.READY, mime=mime, sniffed_mime=mime, size=stored.size,
        filename=name, storage_name=stored.name, file_key=stored.key, created_at=message.created_at,
        fetched_at=message.created_at,
    )
    return message
