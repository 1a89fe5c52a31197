"""Run retention by hand: the same function the daily task runs (hotline/retention.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from hotline.privacy.retention import anonymise_expired, retention_cutoff


class Command(BaseCommand):
    help = "Erase the personal data of cases closed more than RETENTION_DAYS ago (figures are kept)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"cutoff {retention_cutoff().isoformat()}")
        result = anonymise_expired()
        self.stdout.write(f"cases {result.cases}\nmessages {result.messages}\ncontacts {result.contacts}")
