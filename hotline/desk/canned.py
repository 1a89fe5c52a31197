"""Canned replies: supervisors write them, operators insert one into the reply box and edit it."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext

from hotline.errors import InvalidInput
from hotline.models import CannedReply
from operators.roles import require_supervisor


@transaction.atomic
def canned_reply_save(
    *, actor: User, canned_id: int | None = None, title: str, body: str, language: str = "", active: bool = True,
) -> CannedReply:
    """Create (canned_id None) or change a canned reply; supervisors only."""
    require_supervisor(actor, gettext("Only supervisors manage canned replies."))
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise InvalidInput(gettext("A canned reply needs a title and a text."))
    if len(body) > 4096:
        raise InvalidInput(gettext("A canned reply can be at most 4096 characters (Telegram's limit)."))
    if canned_id is None:
        reply = CannedReply(title=title[:100], body=body, language=language[:8], active=active)
        reply.save()
        return reply
    reply = CannedReply.objects.select_for_update().filter(pk=canned_id).first()
    if reply is None:
        raise InvalidInput(gettext("Canned reply %(id)s does not exist.") % {"id": canned_id})
    reply.title, reply.body, reply.language, reply.active = title[:100], body, language[:8], active
    reply.save(update_fields=["title", "body", "language", "active", "updated_at"])
    return reply
