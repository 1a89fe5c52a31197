"""Queueing Celery tasks by name, after commit, without ever failing the write that asked.

Every task the desk queues is a consequence of data already committed to PostgreSQL (a
reply to send, a case to assign, a button to answer). If Redis is down or slow, the request
that stored the data must still succeed and answer quickly: the publish is tried a few
times within about a second (CELERY_TASK_PUBLISH_RETRY_POLICY, broker socket timeouts in
settings), then given up with one log line. What was not queued is not lost: the periodic
sweeps find it in the database (delivery recovery re-queues outbound messages still
`queued`, the auto-assignment sweep offers waiting cases, the SLA sweep needs no queueing).
Only best-effort side effects are dropped for good: answering a pressed button
(answerCallbackQuery expires within seconds anyway) and the supervisors' chat notice (its
in-app Notification row is already stored).

Tasks are named here, once, and queued by name: the rooms that queue work never import
`hotline.tasks` (which imports them), so imports run one way. `hotline/tasks.py` registers
each function under the name given here; a test checks that every name has its task.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction

from hotline.celery import app

logger = logging.getLogger(__name__)

_PREFIX = "hotline.tasks."
SLA_SWEEP = _PREFIX + "sla_sweep_task"
DELIVER_MESSAGE = _PREFIX + "deliver_message_task"
DELIVERY_RECOVER = _PREFIX + "delivery_recover_task"
NOTIFY_SUPERVISORS = _PREFIX + "notify_supervisors_task"
ANSWER_BUTTON = _PREFIX + "telegram_answer_callback_task"
PROCESS_UPDATES = _PREFIX + "telegram_process_updates_task"
PRUNE_UPDATES = _PREFIX + "telegram_prune_updates_task"
AUTO_ASSIGN_CASE = _PREFIX + "auto_assign_case_task"
AUTO_ASSIGN_CASES = _PREFIX + "auto_assign_cases_task"
AUTO_ASSIGN_OPERATOR = _PREFIX + "auto_assign_operator_task"
AUTO_ASSIGN_SWEEP = _PREFIX + "auto_assign_sweep_task"
CASE_COUNTS_COMPACT = _PREFIX + "case_counts_compact_task"
RETENTION = _PREFIX + "retention_task"
FETCH_MEDIA = _PREFIX + "telegram_fetch_media_task"
MEDIA_RECOVER = _PREFIX + "media_recover_task"

TASK_NAMES = (
    SLA_SWEEP, DELIVER_MESSAGE, DELIVERY_RECOVER, NOTIFY_SUPERVISORS, ANSWER_BUTTON, PROCESS_UPDATES, PRUNE_UPDATES,
    AUTO_ASSIGN_CASE, AUTO_ASSIGN_OPERATOR, AUTO_ASSIGN_SWEEP, CASE_COUNTS_COMPACT, RETENTION, FETCH_MEDIA,
    MEDIA_RECOVER, AUTO_ASSIGN_CASES,
)


def enqueue_on_commit(task_name: str, *args: Any, **kwargs: Any) -> None:
    """Queue task `task_name(*args, **kwargs)` once the current transaction commits (at once
    outside one). Never raises into the caller: a publish that fails is logged and left to
    the periodic recovery. Arguments must be ids and flags only (they may reach the log)."""
    # publish_safely logs and swallows broker errors; robust=True is the second net, for
    # anything else (Django logs it and runs the remaining callbacks).
    transaction.on_commit(partial(publish_safely, task_name, args, kwargs), robust=True)


def publish_safely(task_name: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> bool:
    """Publish one task now; False (and a log line naming the task, no arguments) if the
    broker could not be reached within the publish retry policy."""
    try:
        app.send_task(task_name, args, kwargs or {})
    except Exception as exc:
        logger.error(
            "enqueue failed task=%s (%s); the periodic recovery will pick the work up", task_name, type(exc).__name__,
        )
        return False
    return True


def enqueue_each_on_commit(task_name: str, calls: list[tuple[Any, ...]]) -> None:
    """Queue one task `task_name(*args)` per tuple of `calls` once the current transaction
    commits, all over one broker connection (a batch of messages to deliver). Never raises
    into the caller, as enqueue_on_commit."""
    if calls:
        transaction.on_commit(partial(publish_each, task_name, calls), robust=True)


def publish_each(task_name: str, calls: list[tuple[Any, ...]]) -> int:
    """Publish one task per tuple of arguments, sharing one producer; returns how many were
    published (a broker error is logged once, as in publish_safely, and ends the run)."""
    published = 0
    try:
        with app.producer_or_acquire() as producer:
            for args in calls:
                app.send_task(task_name, args, producer=producer)
                published += 1
    except Exception as exc:
        logger.error(
            "enqueue failed task=%s (%s); the periodic recovery will pick the work up", task_name, type(exc).__name__,
        )
    return published
