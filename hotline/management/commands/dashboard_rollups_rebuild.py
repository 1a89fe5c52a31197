"""Recount the dashboard's response rollups from the cases (hotline/dashboard/rollups.py).

Needed after SLA_HOURS changes (until then the dashboard computes every period exactly from the
cases, which is slower at scale) or to check the triggers' ledger against the cases.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection

from hotline.dashboard import rollups


class Command(BaseCommand):
    help = "Rebuild the dashboard's response rollups from the cases, under the current SLA_HOURS (PostgreSQL)."

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write("Nothing to do: on SQLite the dashboard computes from the cases.")
            return
        rows = rollups.rebuild()
        self.stdout.write(f"rollup_rows {rows}")
