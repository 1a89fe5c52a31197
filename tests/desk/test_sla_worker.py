"""The periodic sweep end to end: a real Celery worker with its embedded beat, on Redis and the
test's PostgreSQL database, flags a case with nothing else calling the task."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hotline.models import Case, CaseEvent
from tests.factories import receive
from tests.processes import celery_worker, subprocess_env

WAIT_SECONDS = 60

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker]


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


@pytest.fixture
def beat_worker(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """`celery -A hotline worker --beat` with a 1-second sweep and a 1.8-second SLA, on the
    test database (already created by pytest-django). Yields a function returning its log."""
    env = subprocess_env(SLA_SWEEP_SECONDS="1", SLA_HOURS="0.0005", SLA_WARNING_HOURS="0.0003")
    with celery_worker(tmp_path, env, beat=True) as worker:
        yield worker.log


@pytest.mark.django_db(transaction=True)
def test_the_beat_schedule_flags_a_waiting_case_with_no_one_calling_the_sweep(beat_worker):
    case = receive().case
    answered = receive().case
    Case.objects.filter(pk=answered.pk).update(awaiting_since=None)  # as if answered at once

    def flagged() -> bool:
        return CaseEvent.objects.filter(case=case, kind="overdue").exists()

    if not _wait_for(flagged, WAIT_SECONDS):
        pytest.fail(f"No overdue flag within {WAIT_SECONDS} s. Worker log:\n{beat_worker()[-6000:]}")
    case.refresh_from_db()
    # Warned on the way, or (a sweep first saw it past the SLA) flagged overdue only.
    assert CaseEvent.objects.filter(case=case, kind="at_risk").count() <= 1
    overdue = CaseEvent.objects.get(case=case, kind="overdue")
    assert overdue.sla_wait == case.awaiting_since and overdue.created_at >= case.awaiting_since
    assert not CaseEvent.objects.filter(case=answered, kind__in=["at_risk", "overdue"]).exists()
    assert "hotline.tasks.sla_sweep_task" in beat_worker()
