"""Queueing Celery tasks after commit without ever failing the write that asked for them.

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
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Queue `task(*args, **kwargs)` once the current transaction commits (at once outside
    one). Never raises into the caller: a publish that fails is logged and left to the
    periodic recovery. Arguments must be ids and flags only (they may reach the log)."""
    # publish_safely logs and swallows broker errors; robust=True is the second net, for
    # anything else (Django logs it and runs the remaining callbacks).
    transaction.on_commit(partial(publish_safely, task, args, kwargs), robust=True)


def publish_safely(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Publish one task now; False (and a log line naming the task, no arguments) if the
    broker could not be reached within the publish retry policy."""
    try:
        task.apply_async(args, kwargs)
    except Exception as exc:
        logger.error(
            "enqueue failed task=%s (%s); the periodic recovery will pick the work up",
            task.name, type(exc).__name__,
        )
        return False
    return True
