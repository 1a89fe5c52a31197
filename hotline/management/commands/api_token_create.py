"""manage.py api_token_create NAME: issue an API token; the token is printed once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.errors import DomainError
from hotline.intake.tokens import api_token_create


class Command(BaseCommand):
    help = "Issue an API token for one integration. The token is shown once; only its hash is kept."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The integration the token is for, e.g. 'web form'.")
        parser.add_argument("--by", help="Username of the supervisor issuing it (recorded as created_by).")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["by"]:
            actor = get_user_model().objects.filter(username=options["by"]).first()
            if actor is None:
                raise CommandError(f"No user {options['by']!r}.")
        try:
            token, raw = api_token_create(actor=actor, name=options["name"])
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"Issued token {token.prefix} for {token.name!r} (id {token.pk}). Copy it now:")
        self.stdout.write(raw)
