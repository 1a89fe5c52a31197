"""manage.py api_token_revoke PREFIX: stop an API token working."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.intake.tokens import api_token_revoke
from hotline.models import ApiToken


class Command(BaseCommand):
    help = "Revoke an API token, found by its prefix (shown in the admin and at creation) or id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("token", help="The token's prefix (e.g. 1a2b3c4d), its id, or the whole token.")

    def handle(self, *args: Any, **options: Any) -> None:
        given = options["token"].strip()
        if given.startswith("hd_"):
            given = given[3:].partition("_")[0]
        token = ApiToken.objects.filter(prefix=given).first()
        if token is None and given.isdigit():
            token = ApiToken.objects.filter(pk=int(given)).first()
        if token is None:
            raise CommandError(f"No API token {options['token']!r}.")
        token = api_token_revoke(actor=None, token_id=token.pk)
        self.stdout.write(f"Revoked {token.prefix} ({token.name}) at {token.revoked_at:%Y-%m-%d %H:%M:%S %Z}.")
