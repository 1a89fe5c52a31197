"""Telegram for tests: the webhook's settings, Bot API updates built the way Telegram posts them,
and posting them to the webhook.

Plain functions without Django imports: tests/scale/run.py builds its updates here too. The
fixtures `telegram_settings` and `bot_api` (tests/conftest.py) apply the settings for a test.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any, Protocol

WEBHOOK_URL = "/telegram/webhook/"
WEBHOOK_SECRET = "webhook-secret_42"
BOT_TOKEN = "123456789:TEST-token-abc"  # the fake Bot API's default token (tests/fake_bot_api.py)
NOWHERE = "http://127.0.0.1:9"  # the discard port: a test without the fake Bot API sends nothing

_update_ids = itertools.count(500_000)
_message_ids = itertools.count(1)


class BotApi(Protocol):
    token: str

    @property
    def url(self) -> str: ...


# --- settings ----------------------------------------------------------------------------------


def settings_for(api: BotApi | None = None, *, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    """The TELEGRAM_* settings: the webhook's secret, and the bot's token and Bot API address
    (the fake Bot API's when given, else a token and an address where nothing answers). As a
    dict, so a subprocess gets the same values through its environment."""
    return {
        "TELEGRAM_WEBHOOK_SECRET": secret,
        "TELEGRAM_BOT_TOKEN": api.token if api is not None else BOT_TOKEN,
        "TELEGRAM_API_URL": api.url if api is not None else NOWHERE,
    }


def configure(settings: Any, api: BotApi | None = None, *, secret: str = WEBHOOK_SECRET) -> None:
    """Apply `settings_for` to pytest-django's `settings` fixture (undone after the test)."""
    for name, value in settings_for(api, secret=secret).items():
        setattr(settings, name, value)


def headers(secret: str | None = WEBHOOK_SECRET) -> dict[str, str]:
    """The header Telegram sends with each update (none when `secret` is None)."""
    return {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}


# --- updates -----------------------------------------------------------------------------------


def next_update_id() -> int:
    return next(_update_ids)


def person(
    chat_id: int, *, first_name: str = "Иван", last_name: str | None = "Петров", language_code: str | None = "ru",
) -> dict[str, Any]:
    """A Telegram user (`from`); a None part is left out, as Telegram leaves it out."""
    user: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": first_name}
    if last_name is not None:
        user["last_name"] = last_name
    if language_code is not None:
        user["language_code"] = language_code
    return user


def message_update(
    chat_id: int = 4242, *, update_id: int | None = None, message_id: int | None = None, date: int | None = None,
    chat_type: str = "private", sender: dict[str, Any] | None = None, **content: Any,
) -> dict[str, Any]:
    """A message in a chat (`content`: text=..., voice=..., photo=..., ...); by default a private
    chat with `person(chat_id)`, written now."""
    sender = sender if sender is not None else person(chat_id)
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = sender["first_name"]
    message = {
        "message_id": message_id if message_id is not None else next(_message_ids),
        "date": date if date is not None else int(time.time()), "from": sender, "chat": chat, **content,
    }
    return {"update_id": update_id if update_id is not None else next(_update_ids), "message": message}


def edited_update(update: dict[str, Any], *, update_id: int | None = None, **changes: Any) -> dict[str, Any]:
    """The edit of `update`'s message (`changes`: text=..., edit_date=...; edit_date defaults to now)."""
    edited = {**update["message"], "edit_date": int(time.time()), **changes}
    return {"update_id": update_id if update_id is not None else next(_update_ids), "edited_message": edited}


def button_update(
    data: str, chat_id: int = 4242, *, query_id: str = "cbq-1", update_id: int | None = None,
    sender: dict[str, Any] | None = None, chat_instance: str = "ci", message_id: int = 1,
) -> dict[str, Any]:
    """A pressed inline button (`callback_query`) under the bot's message `message_id`."""
    return {"update_id": update_id if update_id is not None else next(_update_ids), "callback_query": {
        "id": query_id, "from": sender if sender is not None else person(chat_id), "chat_instance": chat_instance,
        "data": data,
        "message": {"message_id": message_id, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"}},
    }}


def membership_update(status: str, chat_id: int = 4242, *, update_id: int | None = None) -> dict[str, Any]:
    """The person blocked (`kicked`) or unblocked (`member`) the bot (`my_chat_member`)."""
    bot = {"id": 1, "is_bot": True, "first_name": "bot"}
    return {"update_id": update_id if update_id is not None else next(_update_ids), "my_chat_member": {
        "chat": {"id": chat_id, "type": "private"}, "from": person(chat_id), "date": int(time.time()),
        "old_chat_member": {"status": "member", "user": bot},
        "new_chat_member": {"status": status, "user": bot},
    }}


def kind(update: dict[str, Any]) -> str:
    """The update's kind: its one key besides update_id."""
    return next(key for key in update if key != "update_id")


# --- the webhook ---------------------------------------------------------------------------------


def post(client: Any, update: dict[str, Any] | None, *, secret: str | None = WEBHOOK_SECRET,
         raw: bytes | None = None) -> Any:
    """POST `update` (or the `raw` body) to the webhook with Django's test client, as Telegram does."""
    body = raw if raw is not None else json.dumps(update)
    return client.post(WEBHOOK_URL, data=body, content_type="application/json", headers=headers(secret))
