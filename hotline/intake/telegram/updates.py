"""What a Bot API update means for the desk, decided without touching the database.

Every private-chat message from a person becomes a request (its body is the text, or a
readable description such as "[voice message 0:12]"), so nothing a person sends is lost.
Group and channel traffic, service messages and kinds the desk does not use are no-ops.
The table in docs/telegram.md lists each kind. Parsing is defensive: a field of an
unexpected type is treated as missing, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

_SURROGATES = re.compile("[\ud800-\udfff]")

# Message fields that are events in a chat, not something the person wrote to the hotline.
SERVICE_FIELDS = frozenset({
    "new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo", "delete_chat_photo",
    "group_chat_created", "supergroup_chat_created", "channel_chat_created", "message_auto_delete_timer_changed",
    "migrate_to_chat_id", "migrate_from_chat_id", "pinned_message", "successful_payment", "refunded_payment",
    "users_shared", "chat_shared", "write_access_allowed", "connected_website", "proximity_alert_triggered",
    "boost_added", "chat_background_set", "forum_topic_created", "forum_topic_edited", "forum_topic_closed",
    "forum_topic_reopened", "general_forum_topic_hidden", "general_forum_topic_unhidden", "giveaway_created",
    "giveaway_completed", "video_chat_scheduled", "video_chat_started", "video_chat_ended",
    "video_chat_participants_invited", "passport_data",
})
# Update kinds that mean nothing to a private-chat hotline.
NO_OP_KINDS = frozenset({
    "channel_post", "edited_channel_post", "inline_query", "chosen_inline_result", "shipping_query",
    "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer", "chat_member", "chat_join_request",
    "chat_boost", "removed_chat_boost", "message_reaction", "message_reaction_count", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages",
})


@dataclass(frozen=True)
class Sender:
    chat_id: str
    display_name: str
    language: str
    username: str = ""  # the @username, without the @ (search finds people by it)


@dataclass(frozen=True)
class Media:
    """What came with a message besides words: a file to fetch, a place, a contact card.

    `kind` is a MediaKind value; `details` holds coordinates or a contact (personal data,
    stored encrypted). `size` is Telegram's file_size, when it gave one."""

    kind: str
    file_id: str = ""
    file_unique_id: str = ""
    size: int | None = None
    mime: str = ""
    duration: int | None = None
    width: int | None = None
    height: int | None = None
    filename: str = ""
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class NewRequest:
    sender: Sender
    message_id: str
    body: str
    sent_at: datetime
    media: Media | None = None


@dataclass(frozen=True)
class Edit:
    sender: Sender
    message_id: str
    body: str
    edited_at: datetime
    media: Media | None = None


@dataclass(frozen=True)
class ButtonPressed:
    callback_query_id: str
    chat_id: str | None  # None when the button was not in a private chat with the bot
    data: str


@dataclass(frozen=True)
class Reachability:
    chat_id: str
    reachable: bool
    at: datetime


@dataclass(frozen=True)
class Ignored:
    reason: str


Action = NewRequest | Edit | ButtonPressed | Reachability | Ignored


# Every kind the desk recognises: only these names are ever stored or logged as a kind.
KNOWN_KINDS = frozenset({"message", "edited_message", "callback_query", "my_chat_member"}) | NO_OP_KINDS


def update_kind(update: dict[str, Any]) -> str:
    """The update's one optional field ("message", "callback_query", ...), or "unknown".

    Only a kind from KNOWN_KINDS is returned: a key is whatever the sender wrote (NUL, a lone
    surrogate, someone's words), and the kind is stored in a plain text column and logged."""
    return next((key for key in update if key in KNOWN_KINDS), "unknown")


def classify(update: dict[str, Any]) -> Action:
    kind = update_kind(update)
    payload = _obj(update.get(kind))
    if kind == "message":
        return _message(payload, edited=False)
    if kind == "edited_message":
        return _message(payload, edited=True)
    if kind == "callback_query":
        return _callback(payload)
    if kind == "my_chat_member":
        return _membership(payload)
    if kind in NO_OP_KINDS:
        return Ignored(f"{kind}: not used by the hotline")
    return Ignored(f"{kind}: unknown update kind")


def clean(value: Any) -> str:
    """A string field as text we can store: lone UTF-16 surrogates (valid JSON, not storable
    in PostgreSQL) become U+FFFD; every other character is kept (NUL is dropped by the service)."""
    return _SURROGATES.sub("\ufffd", value) if isinstance(value, str) else ""


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _when(value: Any) -> datetime:
    """A Telegram unix time, never later than now (a skewed clock must not shorten a wait)."""
    now = timezone.now()
    seconds = _int(value)
    if seconds is None or seconds <= 0:
        return now
    try:
        return min(datetime.fromtimestamp(seconds, tz=UTC), now)
    except (OverflowError, OSError, ValueError):
        return now


def _private_chat_id(message: dict[str, Any]) -> str | None:
    chat = _obj(message.get("chat"))
    chat_id = _int(chat.get("id"))
    if chat.get("type") != "private" or chat_id is None:
        return None
    return str(chat_id)


def _sender(chat_id: str, user: dict[str, Any]) -> Sender:
    name = " ".join(part for part in (clean(user.get("first_name")), clean(user.get("last_name"))) if part)
    if not name and clean(user.get("username")):
        name = "@" + clean(user.get("username"))
    language = clean(user.get("language_code")).split("-")[0].lower()[:8]
    return Sender(
        chat_id=chat_id, display_name=name[:200], language=language if language.isalpha() else "",
        username=clean(user.get("username"))[:64],
    )


def _message(message: dict[str, Any], *, edited: bool) -> Action:
    chat_id = _private_chat_id(message)
    if chat_id is None:
        chat_type = clean(_obj(message.get("chat")).get("type")) or "unknown"
        return Ignored(f"{'edited ' if edited else ''}message in a {chat_type[:16]} chat: private chats only")
    if not edited and SERVICE_FIELDS.intersection(message) and "text" not in message:
        return Ignored("service message")
    sender = _sender(chat_id, _obj(message.get("from")))
    message_id = str(_int(message.get("message_id")) or "")
    body = describe(message)
    media = media_of(message)
    if edited:
        return Edit(
            sender=sender, message_id=message_id, body=body, edited_at=_when(message.get("edit_date")), media=media,
        )
    return NewRequest(sender=sender, message_id=message_id, body=body, sent_at=_when(message.get("date")), media=media)


def _duration(value: Any) -> str:
    seconds = _int(value)
    if seconds is None or seconds < 0:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f" {hours}:{minutes:02}:{seconds:02}" if hours else f" {minutes}:{seconds:02}"


def _coordinates(location: dict[str, Any]) -> str:
    lat, lon = _number(location.get("latitude")), _number(location.get("longitude"))
    return f"{lat:.6f}, {lon:.6f}" if lat is not None and lon is not None else "?"


def describe(message: dict[str, Any]) -> str:
    """The request's body: the text itself, or a readable description of what was sent."""
    if "text" in message:
        return clean(message.get("text"))
    caption = clean(message.get("caption"))
    label = _label(message)
    return f"{label} {caption}" if caption else label


def _label(message: dict[str, Any]) -> str:
    if "voice" in message:
        return f"[voice message{_duration(_obj(message['voice']).get('duration'))}]"
    if "video_note" in message:
        return f"[video message{_duration(_obj(message['video_note']).get('duration'))}]"
    if "audio" in message:
        audio = _obj(message["audio"])
        title = clean(audio.get("title"))
        return f"[audio{_duration(audio.get('duration'))}{': ' + title if title else ''}]"
    if "video" in message:
        return f"[video{_duration(_obj(message['video']).get('duration'))}]"
    if "animation" in message:
        return "[animation]"
    if "photo" in message:
        return "[photo]"
    if "document" in message:
        name = clean(_obj(message["document"]).get("file_name"))
        return f"[document{': ' + name if name else ''}]"
    if "sticker" in message:
        emoji = clean(_obj(message["sticker"]).get("emoji"))
        return f"[sticker{' ' + emoji if emoji else ''}]"
    if "venue" in message:
        venue = _obj(message["venue"])
        where = ", ".join(p for p in (clean(venue.get("title")), clean(venue.get("address"))) if p)
        return f"[place: {where}; {_coordinates(_obj(venue.get('location')))}]"
    if "location" in message:
        location = _obj(message["location"])
        live = "live location" if _int(location.get("live_period")) else "location"
        return f"[{live} {_coordinates(location)}]"
    if "contact" in message:
        return _shared_contact(_obj(message["contact"]), _obj(message.get("from")))
    if "poll" in message:
        return f"[poll: {clean(_obj(message['poll']).get('question'))}]"
    if "dice" in message:
        dice = _obj(message["dice"])
        return f"[dice {clean(dice.get('emoji'))} {_int(dice.get('value'))}]"
    for kind in ("story", "game", "invoice", "paid_media", "giveaway", "web_app_data", "checklist"):
        if kind in message:
            return f"[{kind.replace('_', ' ')}]"
    return "[a message the desk cannot show; ask the person to write it as text]"


def _shared_contact(contact: dict[str, Any], sender: dict[str, Any]) -> str:
    name = " ".join(p for p in (clean(contact.get("first_name")), clean(contact.get("last_name"))) if p)
    phone = clean(contact.get("phone_number"))
    own = _int(contact.get("user_id")) is not None and contact.get("user_id") == sender.get("id")
    what = "shared their own phone number" if own else "shared a contact"
    return f"[{what}: {', '.join(p for p in (name, phone) if p)}]"


# The file kinds, in the order _label describes them (a message carries one).
_FILE_FIELDS = ("voice", "video_note", "audio", "video", "animation", "photo", "document", "sticker")


def media_of(message: dict[str, Any]) -> Media | None:
    """The file, place or contact card the message carries, if any (its description is the body)."""
    for field in _FILE_FIELDS:
        if field in message:
            return _file(field, message[field])
    if "venue" in message:
        venue = _obj(message["venue"])
        details = _place(_obj(venue.get("location")))
        if details is None:
            return None
        details.update(title=clean(venue.get("title"))[:200], address=clean(venue.get("address"))[:300])
        return Media(kind="venue", details=details)
    if "location" in message:
        details = _place(_obj(message["location"]))
        return Media(kind="location", details=details) if details is not None else None
    if "contact" in message:
        contact = _obj(message["contact"])
        sender = _obj(message.get("from"))
        user_id = _int(contact.get("user_id"))
        return Media(kind="contact", details={
            "first_name": clean(contact.get("first_name"))[:200], "last_name": clean(contact.get("last_name"))[:200],
            "phone_number": clean(contact.get("phone_number"))[:64],
            "user_id": str(user_id) if user_id is not None else "",
            "own": user_id is not None and user_id == sender.get("id"),
        })
    return None


def _place(location: dict[str, Any]) -> dict[str, Any] | None:
    lat, lon = _number(location.get("latitude")), _number(location.get("longitude"))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    place: dict[str, Any] = {"latitude": round(lat, 6), "longitude": round(lon, 6)}
    if _int(location.get("live_period")):
        place["live"] = True
    accuracy = _number(location.get("horizontal_accuracy"))
    if accuracy is not None:
        place["accuracy"] = accuracy
    return place


def _file(field: str, value: Any) -> Media | None:
    if field == "photo":
        value = _largest_photo(value)
    item = _obj(value)
    file_id = clean(item.get("file_id"))
    if not file_id:
        return None
    size = _int(item.get("file_size"))
    duration, width, height = _int(item.get("duration")), _int(item.get("width")), _int(item.get("height"))
    if field == "video_note":  # a square: its side is `length`
        width = height = _int(item.get("length"))
    return Media(
        kind=field, file_id=file_id[:255], file_unique_id=clean(item.get("file_unique_id"))[:64],
        size=size if size is not None and size >= 0 else None, mime=clean(item.get("mime_type"))[:100],
        duration=duration if duration is not None and duration >= 0 else None,
        width=width if width is not None and width >= 0 else None,
        height=height if height is not None and height >= 0 else None,
        filename=clean(item.get("file_name"))[:255],
    )


def _largest_photo(sizes: Any) -> dict[str, Any]:
    """Telegram sends a photo in several sizes: the largest within the download limit, or, when
    all are over it, the largest (kept as too large)."""
    candidates = [_obj(size) for size in sizes if isinstance(size, dict)] if isinstance(sizes, list) else []
    if not candidates:
        return {}

    def area(size: dict[str, Any]) -> int:
        return (_int(size.get("width")) or 0) * (_int(size.get("height")) or 0) or (_int(size.get("file_size")) or 0)

    limit = settings.TELEGRAM_DOWNLOAD_MAX_BYTES
    within = [size for size in candidates if (_int(size.get("file_size")) or 0) <= limit]
    return max(within or candidates, key=area)


def _callback(query: dict[str, Any]) -> Action:
    query_id = clean(query.get("id"))
    if not query_id:
        return Ignored("callback_query without id")
    message = _obj(query.get("message"))
    chat_id = _private_chat_id(message) if message else None
    if chat_id is None and not message:
        # The message with the button is too old to be included: in a private chat the
        # person's user id is the chat id.
        user_id = _int(_obj(query.get("from")).get("id"))
        chat_id = str(user_id) if user_id is not None else None
    return ButtonPressed(callback_query_id=query_id, chat_id=chat_id, data=clean(query.get("data"))[:64])


def _membership(update: dict[str, Any]) -> Action:
    chat = _obj(update.get("chat"))
    chat_id = _int(chat.get("id"))
    if chat.get("type") != "private" or chat_id is None:
        return Ignored("bot membership changed in a group or channel")
    status = _obj(update.get("new_chat_member")).get("status")
    if status == "kicked":
        return Reachability(chat_id=str(chat_id), reachable=False, at=_when(update.get("date")))
    if status == "member":
        return Reachability(chat_id=str(chat_id), reachable=True, at=_when(update.get("date")))
    return Ignored(f"bot membership status {clean(status)[:16] or 'unknown'}")
