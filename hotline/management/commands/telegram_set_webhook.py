"""manage.py telegram_set_webhook URL: point the bot at our webhook (setWebhook)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.delivery import client

# The kinds the desk acts on (docs/telegram.md); Telegram does not send the others.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


class Command(BaseCommand):
    help = "Register the webhook URL with Telegram, with TELEGRAM_WEBHOOK_SECRET as its secret_token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="Public HTTPS URL of /telegram/webhook/.")
        parser.add_argument(
            "--drop-pending-updates", action="store_true",
            help="Discard updates waiting at Telegram (normally: keep them, nothing is lost).",
        )
        parser.add_argument("--max-connections", type=int, default=40)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("TELEGRAM_BOT_TOKEN is not set.")
        secret = settings.TELEGRAM_WEBHOOK_SECRET
        if not secret:
            raise CommandError("TELEGRAM_WEBHOOK_SECRET is not set (1-256 characters A-Z a-z 0-9 _ -).")
        url = options["url"]
        if not url.startswith("https://"):
            raise CommandError("Telegram only delivers to an https:// URL.")
        answer = client.call("setWebhook", {
            "url": url, "secret_token": secret, "allowed_updates": ALLOWED_UPDATES,
            "drop_pending_updates": options["drop_pending_updates"], "max_connections": options["max_connections"],
        })
        if not answer.ok:
            raise CommandError(f"setWebhook failed: {answer.reason}")
        self.stdout.write(json.dumps({"ok": True, "result": answer.result, "description": answer.description}))
        self.stdout.write(self.style.SUCCESS(f"Webhook set to {url}"))
