"""Re-encrypt every encrypted column under the first key of FIELD_ENCRYPTION_KEY.

Media files (hotline/privacy/files.py) are covered too: each file is encrypted with its own
key, kept in MessageMedia.file_key, an encrypted column like the others, so rotating re-wraps
every file key and the files themselves need no rewrite.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from hotline.models import MessageMedia
from hotline.privacy import crypto
from hotline.privacy.fields import encrypted_columns


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value under the first (current) key, in batches; values already "
        "under it are left alone, so it is safe to re-run and to interrupt. Old keys may be removed "
        "from FIELD_ENCRYPTION_KEY once it reports nothing left to rotate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, batch_size: int = 500, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        total = 0
        for model, names in encrypted_columns():
            for name in names:
                column = model._meta.get_field(name).column
                try:
                    changed = crypto.rewrite_column(
                        connection, model._meta.db_table, column, crypto.rotate_if_old, batch_size=batch_size,
                    )
                except crypto.DecryptionError as exc:
                    raise CommandError(
                        f"{model._meta.db_table}.{column}: a value no configured key decrypts. Keep every old "
                        "key in FIELD_ENCRYPTION_KEY until rotation has finished."
                    ) from exc
                total += changed
                self.stdout.write(f"{model._meta.db_table}.{column} rotated {changed}")
        files = MessageMedia.objects.exclude(storage_name="").count()
        self.stdout.write(f"media files whose keys are wrapped by the current key: {files} (the files need no rewrite)")
        self.stdout.write(f"total rotated {total}")
