"""Intake in batches: the worker claims up to inbox.BATCH stored updates and stores their requests
with set-based statements (desk.services.requests_receive_batch), keeping every guarantee of
the update-at-a-time path: exactly once, each chat's order, one case per private chat, the
flood limit, a failing update not sinking the others, two drains at once.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hotline import identity, queueing
from hotline.desk import services
from hotline.desk.services import IncomingRequest
from hotline.intake.telegram import apply as intake
from hotline.intake.telegram import flood, inbox
from hotline.models import Case, CaseEvent, Contact, Message, TelegramUpdate
from tests import telegram
from tests.factories import receive
from tests.telegram import edited_update, message_update
from tests.threads import run_together

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.usefixtures("telegram_settings")]


def store(*updates: dict) -> None:
    """What the webhook does with each update it accepts."""
    for update in updates:
        assert inbox.accept(update["update_id"], telegram.kind(update), json.dumps(update))


def bodies(chat_id: int) -> list[str]:
    """The chat's requests in the order they were stored."""
    contact = Contact.objects.get(lookup_hash=identity.lookup_hash("telegram", str(chat_id)))
    return [m.body for m in Message.objects.filter(case__contact=contact, direction="inbound").order_by("pk")]


def incoming(identifier: str, text: str, key: str | None = None, **extra) -> IncomingRequest:
    return IncomingRequest(channel="telegram", identifier=identifier, text=text, intake_key=key, **extra)


# --- the service: requests_receive_batch ---------------------------------------------------------


def test_duplicates_inside_a_batch_and_across_batches_are_stored_once():
    before = receive(identifier="61", intake_key="k-old")
    received = services.requests_receive_batch([
        incoming("61", "again, old", "k-old"),  # stored by an earlier batch
        incoming("62", "first", "k-1"),
        incoming("62", "first, redelivered", "k-1"),  # earlier in this batch
        incoming("62", "second", "k-2"),
        incoming("62", "no key"),
    ])
    assert [r.duplicate for r in received] == [True, False, True, False, False]
    assert received[0].message.pk == before.message.pk
    assert received[2].message.pk == received[1].message.pk
    assert bodies(62) == ["first", "second", "no key"]
    assert Message.objects.count() == 4
    case = received[1].case
    assert case.events.filter(kind="request").count() == 3 and case.events.filter(kind="created").count() == 1
    again = services.requests_receive_batch([incoming("62", "x", "k-2"), incoming("62", "y", "k-1")])
    assert [r.duplicate for r in again] == [True, True] and Message.objects.count() == 4


def test_a_new_contact_and_an_existing_one_in_one_batch():
    existing = receive(identifier="71", language="uk")
    start = timezone.now() - timedelta(minutes=5)
    received = services.requests_receive_batch([
        incoming("72", "new person", display_name="Олег", language="ru", received_at=start),
        incoming("71", "joins", received_at=start + timedelta(seconds=1)),
        incoming("72", "new person again", received_at=start + timedelta(seconds=2)),
    ])
    new, joined, again = received
    assert (new.opened, joined.opened, again.opened) == (True, False, False)
    assert joined.case.pk == existing.case.pk and again.case.pk == new.case.pk != existing.case.pk
    assert Case.objects.count() == 2
    case = Case.objects.get(pk=new.case.pk)
    assert (case.stage, case.language, case.received_at, case.awaiting_since) == ("new", "ru", start, start)
    assert case.last_request_at == start + timedelta(seconds=2)
    assert case.contact.display_name == "Олег" and case.contact.identifier == "72"
    timeline = list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("kind", "data"))
    assert timeline == [
        ("created", {"channel": "telegram"}),
        ("request", {"message_id": new.message.pk, "channel": "telegram", "call": False}),
        ("request", {"message_id": again.message.pk, "channel": "telegram", "call": False}),
    ]
    # What callers hooking on each stored message need is attached, without another query.
    assert new.message.case is new.case and new.case.contact.pk == case.contact_id


def test_a_batch_queues_one_assignment_task_for_its_waiting_cases(settings, django_capture_on_commit_callbacks):
    settings.AUTO_ASSIGN = True
    with django_capture_on_commit_callbacks() as callbacks:
        received = services.requests_receive_batch([incoming(str(800 + n), "hi") for n in range(5)])
    tasks = [c.args for c in callbacks if hasattr(c, "args")]
    assert tasks == [(queueing.AUTO_ASSIGN_CASES, (sorted(r.case.pk for r in received),), {})]


def test_bad_input_refuses_the_whole_batch_before_any_write():
    from hotline.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.requests_receive_batch([incoming("1", "fine"), incoming(" ", "no identifier")])
    assert not Contact.objects.exists() and not Message.objects.exists()


def _statements(n: int, first_chat: int) -> int:
    """Statements of one drain of `n` updates: a quarter from new chats, the rest joining open
    cases."""
    for chat in range(first_chat, first_chat + n):
        receive(identifier=str(chat))  # open cases to join
    updates = []
    for n_ in range(n):
        chat = first_chat + n_ if n_ % 4 else first_chat + 10_000 + n_  # every fourth: a new chat
        updates.append(message_update(chat, text=f"update {n_}"))
    store(*updates)
    with CaptureQueriesContext(connection) as captured:
        outcomes = inbox.process_pending()
    assert len(outcomes) == n and {o.result for o in outcomes} == {"request"}
    return len(captured.captured_queries)


def test_a_batch_costs_the_same_statements_for_8_and_for_100_updates():
    """Claim (with its advisory lock), contacts, duplicates, cases, messages, events, case
    updates, acknowledgements and the marking are each one statement per batch; the search keys
    of the contacts created (when the batch is claimed) and of those renamed (here: the open
    cases' contacts, made with another name) two each: 29 with the savepoints (the test's
    transaction turns the batch's own into one), then 5 for the claim that finds nothing left."""
    small = _statements(8, 4000)
    large = _statements(100, 6000)
    assert small == large == 34


# --- the worker: inbox.process_pending -------------------------------------------------------------


def test_each_chat_keeps_its_order_and_an_edit_applies_to_the_message_before_it():
    first = message_update(901, text="раз")
    updates = [
        first, message_update(902, text="a"), message_update(901, text="два"), message_update(902, text="b"),
        edited_update(first, text="раз (исправлено)"), message_update(901, text="три"), message_update(903, text="x"),
    ]
    store(*updates)
    outcomes = inbox.process_pending()
    assert [o.result for o in outcomes] == ["request", "request", "request", "request", "edit", "request", "request"]
    assert bodies(901) == ["раз (исправлено)", "два", "три"]
    assert bodies(902) == ["a", "b"] and bodies(903) == ["x"]
    assert Case.objects.count() == 3 and Message.objects.filter(is_automatic=True).count() == 3
    assert not TelegramUpdate.objects.filter(processed_at__isnull=True).exists()
    assert set(TelegramUpdate.objects.values_list("result", flat=True)) == {"request", "edit"}


def test_one_unreadable_update_in_a_batch_does_not_lose_the_others(monkeypatch, caplog):
    real = intake.classify

    def classify(update):
        if update["message"].get("text") == "bug":
            raise ValueError("a bug met by this update only")
        return real(update)

    monkeypatch.setattr(intake, "classify", classify)
    store(*[message_update(950 + n % 3, text="bug" if n == 4 else f"m{n}") for n in range(9)])
    outcomes = inbox.process_pending()
    assert sorted(o.result for o in outcomes) == ["failed"] + ["request"] * 8
    assert Message.objects.filter(direction="inbound").count() == 9  # eight requests and the trace of the ninth
    traces = [m for m in Message.objects.filter(direction="inbound") if m.body.startswith("[a Telegram message")]
    assert len(traces) == 1
    assert not TelegramUpdate.objects.filter(payload__isnull=False).exists()
    assert "ValueError" in caplog.text


def test_a_batch_that_fails_as_a_whole_is_applied_one_update_at_a_time(monkeypatch):
    real = services.requests_receive_batch

    def only_one_at_a_time(requests, **kwargs):
        if len(requests) > 1:
            raise RuntimeError("a bug of the set-based path")
        return real(requests, **kwargs)

    monkeypatch.setattr(services, "requests_receive_batch", only_one_at_a_time)
    store(*[message_update(970 + n % 2, text=f"m{n}") for n in range(6)])
    assert [o.result for o in inbox.process_pending()] == ["request"] * 6
    assert bodies(970) == ["m0", "m2", "m4"] and bodies(971) == ["m1", "m3", "m5"]
    assert Case.objects.count() == 2


def test_the_flood_limit_counts_a_batch_in_one_round_trip_on_the_same_counter(settings):
    settings.TELEGRAM_USER_RATE_PER_MINUTE = 3
    flooder, other = message_update(5560001, text="x"), message_update(5560002, text="y")
    assert flood.over_limit(flooder) is False  # one hit before the batch
    verdicts = flood.over_limit_many([flooder, other, flooder, flooder, {"update_id": 1}, flooder])
    assert verdicts == [False, False, False, True, False, True]
    assert flood.over_limit(flooder) is True  # the batch counted on the same window


def test_a_flood_in_one_batch_is_stored_whole_and_acknowledged_once(settings):
    settings.TELEGRAM_USER_RATE_PER_MINUTE = 3
    store(*[message_update(5570001, text=f"m{n}") for n in range(8)])
    assert [o.result for o in inbox.process_pending()] == ["request"] * 8
    assert len(bodies(5570001)) == 8 and Case.objects.count() == 1
    assert Message.objects.filter(is_automatic=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_drains_with_small_batches_never_duplicate_nor_reorder_a_chat(monkeypatch):
    monkeypatch.setattr(inbox, "BATCH", 25)
    chats = [9400 + n for n in range(12)]
    updates = [message_update(chats[n % 12] if n % 5 else 9500 + n, text=f"{n}") for n in range(300)]
    store(*updates)
    drained = run_together(inbox.process_pending, inbox.process_pending)
    applied = [o.message_id for outcomes in drained for o in outcomes]
    assert len(applied) == len(set(applied)) == 300
    assert all(outcomes for outcomes in drained)  # both drains took part
    for chat in chats:
        sent = [u["message"]["text"] for u in updates if u["message"]["chat"]["id"] == chat]
        assert bodies(chat) == sent
    assert Case.objects.count() == 12 + 60  # one per chat
    assert not TelegramUpdate.objects.filter(processed_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_claim_that_meets_a_held_contact_falls_back_and_releases_the_claim_lock():
    """A lock timeout while a batch locks its contacts (an operator holds one): each update is
    then tried alone, and the claim lock is free again for the other drains."""
    from tests.sessions import another_connection

    store(message_update(9801, text="первое"))
    inbox.process_pending()
    contact = Contact.objects.get()
    store(message_update(9801, text="второе"), message_update(9802, text="другой человек"))
    with another_connection() as holder:
        holder.execute("SELECT 1 FROM hotline_contact WHERE id = %s FOR UPDATE", [contact.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        assert [o.result for o in inbox.process_pending()] == ["request"]  # the other person's
        with another_connection() as other:
            claimable = other.execute("SELECT pg_try_advisory_lock(%s)", [inbox.CLAIM_LOCK]).fetchone()[0]
        holder.rollback()
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")
    assert claimable is True
    assert [o.result for o in inbox.process_pending()] == ["request"]
    assert bodies(9801) == ["первое", "второе"]
