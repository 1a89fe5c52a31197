"""Print a new key for FIELD_ENCRYPTION_KEY (docs/notes/privacy.md, "Key rotation")."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from hotline.privacy import crypto


class Command(BaseCommand):
    help = (
        "Print a new Fernet key. To rotate: put it FIRST in FIELD_ENCRYPTION_KEY (comma-separated, "
        "old keys after it), restart, run rotate_encryption_key, then drop the old keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(crypto.generate_key())
