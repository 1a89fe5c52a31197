"""POST /telegram/webhook/: every kind of Bot API update, posted over HTTP, and what was stored.

The webhook stores each update and a worker applies it (hotline/intake/telegram/inbox.py). Here the
test plays the worker: `post` sends the update over HTTP, then drains the inbox the way the
woken task does (tests/intake/test_telegram_worker.py runs the real worker)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from functools import partial

import pytest
import time_machine
from django.utils import timezone

from hotline.intake.telegram import apply as intake
from hotline.intake.telegram import inbox
from hotline.models import Case, CaseEvent, Contact, Message, TelegramUpdate
from tests import telegram
from tests.telegram import WEBHOOK_SECRET, WEBHOOK_URL, button_update, membership_update, message_update, next_update_id
from tests.threads import run_together

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.usefixtures("telegram_settings")]


def post(client, update, *, secret: str | None = WEBHOOK_SECRET, raw: bytes | None = None):
    """Deliver like Telegram, then drain the inbox; `response.applied` is what the stored
    update became (None when nothing was stored)."""
    response = telegram.post(client, update, secret=secret, raw=raw)
    outcomes = inbox.process_pending()
    assert len(outcomes) <= 1
    response.applied = outcomes[0].result if outcomes else None
    return response


def queued(callbacks) -> list[str]:
    """What on_commit callbacks will do: a task's name, or the function's (inbox.wake)."""
    return sorted(c.args[0] if hasattr(c, "args") else c.__name__ for c in callbacks)


def inbound(chat_id: int = 4242) -> list[Message]:
    return list(Message.objects.filter(direction="inbound", case__contact__in=_contacts(chat_id)).order_by("pk"))


def _contacts(chat_id: int):
    from hotline import identity

    return Contact.objects.filter(lookup_hash=identity.lookup_hash("telegram", str(chat_id)))


# --- text, acknowledgement, joining the case --------------------------------------------------


def test_text_message_opens_a_case_and_the_bot_acknowledges(client, django_capture_on_commit_callbacks):
    update = message_update(text="Хочу сдаться, что делать?")
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, update)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "result": "accepted"}
    assert response.applied == "request"
    [request] = inbound()
    assert request.body == "Хочу сдаться, что делать?"
    assert request.external_id == str(update["message"]["message_id"])
    contact = request.case.contact
    assert (contact.identifier, contact.display_name, contact.language) == ("4242", "Иван Петров", "ru")
    assert request.case.stage == "new" and request.case.awaiting_since is not None
    [ack] = Message.objects.filter(is_automatic=True)
    assert ack.body.startswith("Здравствуйте!") and ack.body.endswith("Вы уже мобилизованы?")
    assert ack.delivery == "queued" and ack.case_id == request.case_id
    # After commit: the acknowledgement's delivery, and offering the new case to an operator.
    assert queued(callbacks) == ["hotline.tasks.auto_assign_case_task", "hotline.tasks.deliver_message_task", "wake"]
    case = Case.objects.get()
    assert case.first_response_at is None and case.awaiting_since is not None  # the bot is not a human answer


def test_later_messages_join_the_open_case_without_another_acknowledgement(client):
    post(client, message_update(text="первое"))
    post(client, message_update(text="второе"))
    assert [m.body for m in inbound()] == ["первое", "второе"]
    assert Case.objects.count() == 1
    assert Message.objects.filter(is_automatic=True).count() == 1


def test_request_after_a_closed_case_reopens_it_and_acknowledges_again(client, operator):
    from hotline.desk import services

    post(client, message_update(text="привет"))
    case = Case.objects.get()
    services.case_close(actor=operator, case_id=case.pk, reason="lost_contact")
    post(client, message_update(text="я снова здесь"))
    case.refresh_from_db()
    assert case.stage == "new" and case.closed_at is None
    assert Message.objects.filter(is_automatic=True).count() == 2


def test_message_date_is_when_the_wait_began(client):
    sent = int(time.time()) - 3600
    post(client, message_update(text="час назад", date=sent))
    case = Case.objects.get()
    assert int(case.awaiting_since.timestamp()) == sent


# --- content kinds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "body"),
    [
        ({"voice": {"file_id": "v", "file_unique_id": "u", "duration": 12}}, "[voice message 0:12]"),
        ({"video_note": {"file_id": "v", "file_unique_id": "u", "length": 240, "duration": 75}},
         "[video message 1:15]"),
        ({"photo": [{"file_id": "p", "file_unique_id": "u", "width": 90, "height": 90}], "caption": "мой блокпост"},
         "[photo] мой блокпост"),
        ({"document": {"file_id": "d", "file_unique_id": "u", "file_name": "план.pdf"}}, "[document: план.pdf]"),
        ({"sticker": {"file_id": "s", "file_unique_id": "u", "type": "regular", "width": 1, "height": 1,
                      "is_animated": False, "is_video": False, "emoji": "🙏"}}, "[sticker 🙏]"),
        ({"location": {"latitude": 48.0159416, "longitude": 37.8028493}}, "[location 48.015942, 37.802849]"),
        ({"location": {"latitude": 48.5, "longitude": 37.5, "live_period": 900}},
         "[live location 48.500000, 37.500000]"),
        ({"contact": {"phone_number": "+79991234567", "first_name": "Иван", "user_id": 4242}},
         "[shared their own phone number: Иван, +79991234567]"),
        ({"contact": {"phone_number": "+79990000000", "first_name": "Брат"}}, "[shared a contact: Брат, +79990000000]"),
        ({"audio": {"file_id": "a", "file_unique_id": "u", "duration": 3725, "title": "песня"}},
         "[audio 1:02:05: песня]"),
        ({"poll": {"id": "1", "question": "Когда?", "options": []}}, "[poll: Когда?]"),
        ({"some_future_content": {"x": 1}}, "[a message the desk cannot show; ask the person to write it as text]"),
    ],
    ids=["voice", "video_note", "photo", "document", "sticker", "location", "live_location", "own_contact",
         "other_contact", "audio", "poll", "unknown_content"],
)
def test_each_kind_of_private_message_becomes_a_readable_request(client, content, body):
    response = post(client, message_update(**content))
    assert response.status_code == 200
    [request] = inbound()
    assert request.body == body


def test_a_4096_character_message_is_stored_whole(client):
    text = ("Я хочу жить. " * 400)[:4095] + "!"
    assert len(text) == 4096
    post(client, message_update(text=text))
    [request] = inbound()
    assert request.body == text


def test_nul_is_dropped_and_every_other_character_kept(client):
    text = "до\x00бро \u202eעברית\u202c العربية 🇺🇦 \u200f!"
    post(client, message_update(text=text))
    [request] = inbound()
    assert request.body == "добро \u202eעברית\u202c العربية 🇺🇦 \u200f!"


def test_a_lone_surrogate_becomes_a_replacement_character_and_the_rest_is_kept(client):
    raw = json.dumps(message_update(text="placeholder")).replace('"placeholder"', '"a\\ud800b \\ud83d\\ude00"')
    assert post(client, None, raw=raw.encode()).status_code == 200
    [request] = inbound()
    assert request.body == "a\ufffdb 😀"


# --- edits ----------------------------------------------------------------------------------------


def test_an_edited_message_updates_the_stored_request_and_logs_the_edit_without_text(client):
    update = message_update(text="Я в Белгороде")
    post(client, update)
    response = post(client, telegram.edited_update(update, text="Я в Курске"))
    assert response.applied == "edit"
    [request] = inbound()
    assert request.body == "Я в Курске" and request.edited_at is not None
    event = CaseEvent.objects.get(kind="message_edited")
    assert event.data == {"message_id": request.pk}
    assert "Курск" not in json.dumps(event.data, ensure_ascii=False)


def test_an_edit_of_a_message_never_stored_is_kept_as_a_new_request(client):
    post(client, telegram.edited_update(message_update(text="старое"), text="новое", edit_date=1))
    [request] = inbound()
    assert request.body == "[edited] новое"


# --- idempotency ---------------------------------------------------------------------------------


def test_the_same_update_delivered_twice_is_stored_once(client):
    update = message_update(text="один раз")
    first = post(client, update)
    assert (first.json()["result"], first.applied) == ("accepted", "request")
    again = post(client, update)
    assert (again.json()["result"], again.applied) == ("duplicate", None)
    assert len(inbound()) == 1
    assert Message.objects.filter(is_automatic=True).count() == 1


def test_an_update_id_reused_by_telegram_weeks_later_is_a_new_request(client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        post(client, message_update(text="в январе", update_id=77, date=int(start.timestamp())))
    later = start + timedelta(days=9)
    with time_machine.travel(later, tick=False):
        assert intake.prune_updates() == 1
        response = post(client, message_update(text="в феврале", update_id=77, date=int(later.timestamp())))
    assert response.applied == "request"
    assert [m.body for m in inbound()] == ["в январе", "в феврале"]


def test_recent_update_ids_are_kept_by_the_pruning(client):
    post(client, message_update(text="вчера", update_id=88))
    with time_machine.travel(timezone.now() + timedelta(days=6), tick=False):
        assert intake.prune_updates() == 0
    assert TelegramUpdate.objects.filter(update_id=88).exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_deliveries_of_one_update_store_one_request():
    update = message_update(chat_id=9191, text="одновременно")
    stored = run_together(*[partial(inbox.accept, update["update_id"], "message", json.dumps(update))] * 2)
    assert sorted(stored) == [False, True]
    assert [o.result for o in inbox.process_pending()] == ["request"]
    assert len(inbound(9191)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_draining_at_once_apply_each_update_exactly_once():
    updates = [message_update(chat_id=9300 + n % 5, text=f"сообщение {n}") for n in range(40)]
    for update in updates:
        assert inbox.accept(update["update_id"], "message", json.dumps(update))
    applied = [o.message_id for drained in run_together(inbox.process_pending, inbox.process_pending) for o in drained]
    assert len(applied) == len(set(applied)) == 40
    assert Message.objects.filter(direction="inbound").count() == 40
    assert Case.objects.count() == 5  # one per person, however the two drains interleaved
    assert not TelegramUpdate.objects.filter(processed_at__isnull=True).exists()
    assert not TelegramUpdate.objects.filter(payload__isnull=False).exists()


# --- buttons, membership ---------------------------------------------------------------------------


def test_a_triage_button_stores_the_answer_and_asks_the_next_question(client, django_capture_on_commit_callbacks):
    post(client, message_update(text="здравствуйте"))
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, button_update("t:mobilised:yes"))
    assert response.applied == "triage"
    case = Case.objects.get()
    assert case.triage["mobilised"]["answer"] == "yes" and case.triage["mobilised"]["label"] == "Да"
    # The event names the question only: the answer is personal and stays encrypted in Case.triage.
    assert CaseEvent.objects.get(kind="triage_answered").data == {"question": "mobilised"}
    assert list(Message.objects.filter(is_automatic=True).order_by("pk").values_list("body", flat=True))[-1] == (
        "Где вы сейчас?"
    )
    # answerCallbackQuery and the next question's delivery (and waking the worker that applied it)
    assert queued(callbacks) == [
        "hotline.tasks.deliver_message_task", "hotline.tasks.telegram_answer_callback_task", "wake",
    ]
    assert case.awaiting_since is not None and case.first_response_at is None


def test_pressing_the_same_button_again_changes_nothing(client):
    post(client, message_update(text="здравствуйте"))
    post(client, button_update("t:mobilised:yes"))
    post(client, button_update("t:mobilised:yes", query_id="cbq-2"))
    assert CaseEvent.objects.filter(kind="triage_answered").count() == 1
    assert Message.objects.filter(is_automatic=True).count() == 2


def test_an_unknown_button_is_answered_and_ignored(client, django_capture_on_commit_callbacks):
    post(client, message_update(text="здравствуйте"))
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, button_update("t:mobilised:maybe-not"))
    assert response.status_code == 200 and response.applied == "ignored"
    assert Case.objects.get().triage == {}
    assert queued(callbacks) == ["hotline.tasks.telegram_answer_callback_task", "wake"]  # the spinner still stops


def test_blocking_and_unblocking_the_bot_marks_the_contact_unreachable_then_reachable(client):
    post(client, message_update(text="привет"))
    assert post(client, membership_update("kicked")).applied == "reachability"
    contact = Contact.objects.get()
    assert contact.unreachable_since is not None
    post(client, membership_update("member"))
    contact.refresh_from_db()
    assert contact.unreachable_since is None
    events = list(CaseEvent.objects.filter(kind="contact_updated").order_by("pk").values_list("data", flat=True))
    assert events == [{"reachable": False, "source": "telegram"}, {"reachable": True, "source": "telegram"}]


def test_blocking_by_someone_who_never_wrote_stores_nothing(client):
    assert post(client, membership_update("kicked", chat_id=777)).applied == "ignored"
    assert Contact.objects.count() == 0


# --- no-ops -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "update",
    [
        {"message": {"message_id": 1, "date": 1, "chat": {"id": -100123, "type": "supergroup"}, "text": "hi"}},
        {"message": {"message_id": 1, "date": 1, "chat": {"id": -5, "type": "group"}, "voice": {"duration": 1}}},
        {"channel_post": {"message_id": 1, "date": 1, "chat": {"id": -100, "type": "channel"}, "text": "news"}},
        {"edited_channel_post": {"message_id": 1, "date": 1, "chat": {"id": -100, "type": "channel"}, "text": "x"}},
        {"my_chat_member": {"chat": {"id": -100, "type": "supergroup"}, "date": 1,
                            "new_chat_member": {"status": "kicked"}}},
        {"message": {"message_id": 1, "date": 1, "chat": {"id": 4242, "type": "private"}, "pinned_message": {}}},
        {"inline_query": {"id": "1", "from": {"id": 1}, "query": "x", "offset": ""}},
        {"a_kind_telegram_adds_next_year": {"anything": [1, 2, 3]}},
        {},
        {"message": "not an object"},
        {"message": {"chat": {"id": "4242", "type": "private"}, "text": "id is a string"}},
    ],
    ids=["supergroup", "group_voice", "channel_post", "edited_channel_post", "group_membership",
         "service_message", "inline_query", "unknown_kind", "no_kind", "message_not_object", "chat_id_string"],
)
def test_updates_the_hotline_does_not_use_are_answered_200_and_store_nothing(client, update):
    response = post(client, {"update_id": next_update_id(), **update})
    assert response.status_code == 200
    assert (response.json(), response.applied) == ({"ok": True, "result": "accepted"}, "ignored")
    assert Message.objects.count() == 0 and Case.objects.count() == 0
    # Only the record that the update_id was seen is kept: not a word of what it held.
    stored = TelegramUpdate.objects.get()
    assert (stored.payload, stored.result) == (None, "ignored") and stored.processed_at is not None


def test_an_unexpected_failure_still_keeps_a_trace_of_the_request(client, monkeypatch):
    def broken(update):
        raise KeyError("a bug")

    monkeypatch.setattr(intake, "classify", broken)
    response = post(client, message_update(text="что-то необычное"))
    assert response.status_code == 200 and response.applied == "failed"
    [request] = inbound()
    assert request.body.startswith("[a Telegram message the desk could not read")


# --- refused -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "", "wrong", WEBHOOK_SECRET + "x", WEBHOOK_SECRET[:-1]])
def test_a_wrong_or_missing_secret_is_refused_and_nothing_stored(client, secret):
    response = post(client, message_update(text="подделка"), secret=secret)
    assert response.status_code == 403
    assert Message.objects.count() == 0 and TelegramUpdate.objects.count() == 0


def test_without_a_configured_secret_everything_is_refused(client, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    assert post(client, message_update(text="x"), secret="").status_code == 403
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"{not json", "The body is not valid JSON."),
        (b"\xff\xfe", "The body is not valid JSON."),
        (b"", "The body is not valid JSON."),
        (b"[1, 2]", "An update must be a JSON object."),
        (b'"text"', "An update must be a JSON object."),
        (b'{"message": {"text": "no id"}}', "The update has no integer update_id."),
        (b'{"update_id": "12", "message": {}}', "The update has no integer update_id."),
        (b'{"update_id": true}', "The update has no integer update_id."),
        (b'{"update_id": 1e400}', "The update has no integer update_id."),
    ],
)
def test_malformed_updates_get_400_with_a_clear_message(client, raw, error):
    response = post(client, None, raw=raw)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": error}
    assert Message.objects.count() == 0


def test_the_webhook_needs_no_login_and_only_accepts_post(client):
    assert client.get(WEBHOOK_URL, headers=telegram.headers()).status_code == 405
    assert post(client, message_update(text="без логина")).status_code == 200


def test_an_oversized_update_is_refused(client, settings):
    settings.TELEGRAM_MAX_UPDATE_BYTES = 1000
    response = post(client, message_update(text="x" * 2000))
    assert response.status_code == 413
    assert Message.objects.count() == 0
