"""The Telegram inbox (hotline/intake/telegram/inbox.py): store in the webhook, apply in a worker.

What matters: the webhook's cost is one statement, a stored update is applied exactly once
whoever drains, an update stored while a drain is polling is applied by it, a failing
update never blocks the ones behind it, nothing unapplied is pruned, and the backlog is
visible. The wake-up is published to the real Redis and counted there.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import timedelta

import pytest
import redis
import time_machine
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from hotline.celery import app
from hotline.intake.telegram import apply as intake
from hotline.intake.telegram import inbox
from hotline.models import Case, Message, TelegramUpdate
from tests import telegram
from tests.sessions import another_connection
from tests.telegram import message_update

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.usefixtures("telegram_settings")]


def store(update: dict) -> bool:
    """What the webhook does with an update it accepts."""
    return inbox.accept(update["update_id"], telegram.kind(update), json.dumps(update))


def test_the_webhook_answers_after_one_statement(client, django_assert_num_queries):
    update = message_update(7001, text="привет")
    with django_assert_num_queries(1):  # INSERT ... ON CONFLICT DO NOTHING RETURNING id
        response = telegram.post(client, update)
    assert response.json() == {"ok": True, "result": "accepted"}
    row = TelegramUpdate.objects.get()
    assert row.processed_at is None and json.loads(row.payload)["message"]["text"] == "привет"
    assert Message.objects.count() == 0  # not applied yet: that is the worker's part


@pytest.mark.django_db(transaction=True)  # the late update is committed by another connection
def test_an_update_stored_while_a_drain_polls_is_applied_by_that_drain():
    store(message_update(7002, text="первое"))
    late = message_update(7002, text="второе")

    def store_late() -> None:
        try:
            store(late)
        finally:
            connection.close()

    timer = threading.Timer(0.2, store_late)
    timer.start()
    outcomes = inbox.process_pending(poll_seconds=1.0)
    timer.join()
    assert [o.result for o in outcomes] == ["request", "request"]
    assert not TelegramUpdate.objects.filter(processed_at__isnull=True).exists()


def test_a_failing_update_is_marked_and_does_not_block_the_next(monkeypatch, caplog):
    real = intake.classify

    def classify(update):
        if update["message"]["chat"]["type"] == "group":
            raise ValueError("a bug met by this update only")
        return real(update)

    monkeypatch.setattr(intake, "classify", classify)
    broken, fine = message_update(7003, text="в группе", chat_type="group"), message_update(7004, text="лично")
    store(broken)
    store(fine)
    assert [o.result for o in inbox.process_pending()] == ["failed", "request"]
    results = dict(TelegramUpdate.objects.values_list("update_id", "result"))
    assert results == {broken["update_id"]: "failed", fine["update_id"]: "request"}
    assert not TelegramUpdate.objects.filter(payload__isnull=False).exists()
    assert "в группе" not in caplog.text and "ValueError" in caplog.text


def test_pruning_never_drops_an_update_not_yet_applied():
    store(message_update(7005, text="ждёт"))
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        assert intake.prune_updates() == 0
        assert inbox.backlog().count == 1
    assert [o.result for o in inbox.process_pending()] == ["request"]


def test_the_backlog_counts_unapplied_updates_and_says_when_it_is_late(settings):
    settings.TELEGRAM_INBOX_LATE_SECONDS = 60
    assert inbox.backlog() == inbox.Backlog(count=0, oldest=None)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        store(message_update(7006, text="раз"))
        store(message_update(7007, text="два"))
    backlog = inbox.backlog()
    assert backlog.count == 2 and backlog.oldest == start
    assert not backlog.late(start + timedelta(seconds=60))
    assert backlog.late(start + timedelta(seconds=61))
    inbox.process_pending()
    assert inbox.backlog().count == 0 and Case.objects.count() == 2


@pytest.mark.redis
def test_the_worker_is_woken_once_per_window_across_processes(settings, monkeypatch):
    """Counted in the real broker: the first wake-up of a window publishes; later ones in the
    window do not, in this process (no cache call) or in another (it finds the window's key);
    the first of the next window publishes again."""
    settings.TELEGRAM_INBOX_WINDOW_SECONDS = 1
    queue = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    app.control.purge()
    cache.clear()
    window = time.time() // 1 + 10  # a window of the near future no earlier test has used
    monkeypatch.setattr(inbox, "_covered_window", None)
    with time_machine.travel(window + 0.1, tick=False):
        for _ in range(5):
            inbox.wake()
    assert queue.llen("intake") == 1
    monkeypatch.setattr(inbox, "_covered_window", None)  # another web process, same window
    with time_machine.travel(window + 0.9, tick=False):
        inbox.wake()
    assert queue.llen("intake") == 1
    with time_machine.travel(window + 1.0, tick=False):  # the next window
        inbox.wake()
        inbox.wake()
    assert queue.llen("intake") == 2
    [task, _] = [json.loads(raw) for raw in queue.lrange("intake", 0, -1)]
    assert task["headers"]["task"] == "hotline.tasks.telegram_process_updates_task"
    _args, kwargs, _embed = json.loads(base64.b64decode(task["body"]))
    assert kwargs == {"poll_seconds": 1.5}  # the drain outlives its window
    app.control.purge()


class CountedCache:
    """The project's cache, with its calls counted (each call still reaches it)."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def add(self, *args, **kwargs):
        self.calls += 1
        return self.inner.add(*args, **kwargs)


@pytest.mark.redis
def test_a_process_that_saw_a_window_makes_no_cache_call_in_it(settings, monkeypatch):
    """The webhook's saving: within a window only the first wake-up of a process asks the cache."""
    settings.TELEGRAM_INBOX_WINDOW_SECONDS = 1
    app.control.purge()
    counted = CountedCache(cache)
    monkeypatch.setattr(inbox, "cache", counted)
    monkeypatch.setattr(inbox, "_covered_window", None)
    window = time.time() // 1 + 20
    with time_machine.travel(window + 0.2, tick=False):
        for _ in range(50):
            inbox.wake()
    assert counted.calls == 1
    with time_machine.travel(window + 1.2, tick=False):
        inbox.wake()
    assert counted.calls == 2
    app.control.purge()


@pytest.mark.django_db(transaction=True)
def test_accept_commits_before_the_wake_up():
    """Outside a transaction (as in the webhook) the row is committed when accept returns, so
    a drain woken right after can see it."""
    update = message_update(7008, text="сразу")
    assert store(update) is True
    assert store(update) is False  # the same update_id again: nothing stored
    with another_connection() as conn:
        seen = conn.execute("SELECT count(*) FROM hotline_telegramupdate WHERE update_id = %s",
                            [update["update_id"]]).fetchone()[0]
    assert seen == 1


@pytest.mark.django_db(transaction=True)
def test_a_database_error_on_one_update_is_retried_later_and_given_up_at_the_limit(monkeypatch):
    """A real lock timeout (another transaction holds the person's case) is such an error: the
    drain goes on with the others, a later drain applies the update, and one that keeps failing
    is given up, its encrypted words kept on the row, so it can never block the inbox."""
    store(message_update(7101, text="первое"))
    inbox.process_pending()
    case = Case.objects.get()
    held, other = message_update(7101, text="второе"), message_update(7102, text="другой человек")
    store(held)
    store(other)
    with another_connection() as holder:
        holder.execute("SELECT 1 FROM hotline_case WHERE id = %s FOR UPDATE", [case.pk])
        holder.execute("SELECT 1 FROM hotline_contact WHERE id = %s FOR UPDATE", [case.contact_id])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        assert [o.result for o in inbox.process_pending()] == ["request"]  # the other person's
        row = TelegramUpdate.objects.get(update_id=held["update_id"])
        assert (row.processed_at, row.attempts) == (None, 1)
        holder.rollback()
    assert [o.result for o in inbox.process_pending()] == ["request"]
    row.refresh_from_db()
    assert (row.result, row.attempts, row.payload) == ("request", 1, None)

    monkeypatch.setattr(inbox, "MAX_ATTEMPTS", 2)
    stuck = message_update(7101, text="третье")
    store(stuck)
    with another_connection() as holder:
        holder.execute("SELECT 1 FROM hotline_contact WHERE id = %s FOR UPDATE", [case.contact_id])
        assert inbox.process_pending() == []  # attempt 1: left for later
        assert [o.result for o in inbox.process_pending()] == ["failed"]  # attempt 2: given up
        holder.rollback()
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")
    row = TelegramUpdate.objects.get(update_id=stuck["update_id"])
    assert (row.result, row.attempts) == ("failed", 2) and row.processed_at is not None
    assert json.loads(row.payload)["message"]["text"] == "третье"  # not lost: kept, encrypted
    assert inbox.backlog().count == 0
