"""Run the overdue sweep by hand: the same function the periodic task runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from hotline.desk.sla import sla_sweep


class Command(BaseCommand):
    help = "Flag every case at risk or overdue now (or at --at) and tell supervisors once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--at", metavar="ISO-DATETIME",
            help="Sweep as if it were this moment (debugging), e.g. 2026-03-02T09:00:00+00:00. "
            "Without an offset the time is read in TIME_ZONE.",
        )

    def handle(self, *args: Any, at: str | None = None, **options: Any) -> None:
        now = self._moment(at) if at else None
        result = sla_sweep(now)
        self.stdout.write(f"overdue {result.overdue}\nat_risk {result.at_risk}")

    @staticmethod
    def _moment(text: str) -> datetime:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as error:
            raise CommandError(f"--at needs an ISO 8601 date and time, not {text!r}.") from error
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
