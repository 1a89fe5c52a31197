"""Build the search keys of contacts stored before search existed (or after a key change)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from hotline.desk.search import index_contacts
from hotline.models import Contact


class Command(BaseCommand):
    help = (
        "Write the blind-index search keys (names, usernames, phone numbers) of every contact, "
        "in batches; run after an upgrade and after changing CONTACT_LOOKUP_KEY."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=1000, help="contacts per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        last, contacts, keys = 0, 0, 0
        while True:
            with transaction.atomic():
                batch = list(
                    Contact.objects.filter(pk__gt=last, erased_at__isnull=True).order_by("pk")
                    .only("pk", "channel", "identifier", "display_name", "username", "erased_at")[:options["batch"]]
                )
                if not batch:
                    break
                keys += index_contacts(batch)
            contacts += len(batch)
            last = batch[-1].pk
        self.stdout.write(f"contacts {contacts}\nkeys {keys}")
