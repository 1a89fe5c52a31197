"""Serving a case's file: only after the case's access check, decrypted as it streams.

Anyone who may not see the case gets the same 404 as for a missing file. The answer carries
the type the bytes were sniffed as (only when the page may show it inline; anything else is
an attachment of application/octet-stream), a safe file name, `nosniff`, `no-store` and a
sandboxing CSP, and answers byte ranges (an audio or video element seeks with them).
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hotline.desk import media as desk_media
from hotline.desk.forms import SendFileForm
from hotline.desk.views._common import perform
from hotline.desk.views.case import case_page
from hotline.errors import CaseNotFound
from hotline.models import MessageMedia
from hotline.privacy import files

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _filename(media: MessageMedia) -> str:
    name = desk_media.safe_filename(media.filename or "")
    if name:
        return name
    extension = mimetypes.guess_extension(media.sniffed_mime or "") or ".bin"
    return f"{media.kind}-{media.pk}{extension}"


@require_GET
def case_media(request: HttpRequest, case_id: int, media_id: int) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    try:
        media = desk_media.media_for(actor, case_id, media_id)
    except CaseNotFound:
        raise Http404 from None
    size = media.size or 0
    start, end, status = 0, size - 1, 200
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if match and size:
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        elif last:
            start, end = max(size - int(last), 0), size - 1
        if start > end or start >= size:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return _secure(response)
        status = 206
    desk_media.media_record_read(actor=actor, media=media)
    inline = media.inline
    content_type = media.sniffed_mime if inline else "application/octet-stream"
    body = files.open_plain(media.storage_name, media.file_key, start, end) if size else iter(())
    response = StreamingHttpResponse(body, status=status, content_type=content_type)
    response["Content-Length"] = str(max(end - start + 1, 0))
    response["Accept-Ranges"] = "bytes"
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Disposition"] = content_disposition_header(not inline, _filename(media))
    return _secure(response)


def _secure(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    # Opened on its own (a document in a tab), the file runs nothing and reaches nothing.
    response["Content-Security-Policy"] = "default-src 'none'; media-src 'self'; img-src 'self'; sandbox"
    return response


@require_POST
def case_send_file(request: HttpRequest, case_id: int) -> HttpResponse:
    """An operator sends a photo or a document; a refusal re-renders the case page with the
    error beside the form and the caption kept (a browser never keeps a chosen file)."""
    actor: User = request.user  # type: ignore[assignment]
    form = SendFileForm(request.POST, request.FILES, auto_id="file_%s")

    def send(data: dict[str, Any]) -> Any:
        upload = data["file"]
        return desk_media.case_send_file(
            actor=actor, case_id=case_id, chunks=upload.chunks(64 * 1024), filename=upload.name or "",
            size=upload.size or 0, as_photo=data["send_as"] == "photo", caption=data.get("caption") or "",
        )

    def page(refused: forms.Form, status: int) -> HttpResponse:
        return case_page(request, case_id, bound={"file": refused}, status=status)

    return perform(
        request, form, send, back=reverse("case", args=[case_id]), case_id=case_id,
        done=_("File queued for delivery."), page=page,
    )
