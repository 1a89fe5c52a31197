"""Sending to Telegram, against a local server speaking the Bot API (tests/fake_bot_api.py)."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.management import CommandError, call_command

from hotline.delivery import outbound as delivery
from hotline.desk import services
from hotline.models import CaseEvent, Contact, Message
from tests.factories import make_case, receive
from tests.fake_bot_api import FakeBotApi, bad_request, blocked, server_error, too_many_requests

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot_api(bot_api: FakeBotApi, settings) -> FakeBotApi:
    """The fake Bot API (tests/conftest.py), with the retry schedule these tests count on."""
    settings.TELEGRAM_RETRY_BASE_SECONDS = 2
    settings.TELEGRAM_RETRY_MAX_SECONDS = 600
    settings.TELEGRAM_DELIVERY_MAX_ATTEMPTS = 4
    return bot_api


@pytest.fixture
def reply(operator):
    case = make_case("assigned", owner=operator)
    return services.case_reply(actor=operator, case_id=case.pk, text="Здравствуйте, я оператор Олена.")


def test_a_reply_is_sent_and_marked_sent(bot_api, reply):
    assert delivery.deliver_message(reply.pk) is None
    [call] = bot_api.calls_of("sendMessage")
    assert call == {"chat_id": reply.case.contact.identifier, "text": "Здравствуйте, я оператор Олена."}
    reply.refresh_from_db()
    assert reply.delivery == "sent" and reply.delivered_at is not None
    assert reply.external_id == "7001" and reply.delivery_error == ""


def test_a_sent_message_is_not_sent_again_by_a_redelivered_task(bot_api, reply):
    delivery.deliver_message(reply.pk)
    assert delivery.deliver_message(reply.pk) is None
    assert len(bot_api.calls_of("sendMessage")) == 1


def test_429_waits_as_long_as_telegram_asks_then_sends(bot_api, reply):
    bot_api.script("sendMessage", too_many_requests(7))
    assert delivery.deliver_message(reply.pk) == 7
    reply.refresh_from_db()
    assert reply.delivery == "queued" and "429" in reply.delivery_error
    assert delivery.deliver_message(reply.pk) is None
    reply.refresh_from_db()
    assert reply.delivery == "sent" and reply.delivery_error == ""


def test_5xx_is_retried_with_exponential_backoff_then_fails_with_the_reason(bot_api, reply):
    bot_api.script("sendMessage", *[server_error()] * 4)
    assert [delivery.deliver_message(reply.pk) for _ in range(3)] == [2, 4, 8]
    assert delivery.deliver_message(reply.pk) is None
    reply.refresh_from_db()
    assert reply.delivery == "failed"
    assert reply.delivery_error == "Not sent after 4 attempts; last: HTTP 502: Bad Gateway"
    event = CaseEvent.objects.get(kind="delivery_failed")
    assert event.data == {"message_id": reply.pk, "reason": reply.delivery_error}


def test_the_backoff_is_capped(settings):
    settings.TELEGRAM_RETRY_BASE_SECONDS = 2
    settings.TELEGRAM_RETRY_MAX_SECONDS = 600
    assert delivery.retry_delay(20) == 600
    assert delivery.retry_delay(3, retry_after=0) == 1.0


def test_a_network_error_is_retried(bot_api, reply, settings):
    bot_api.stop()  # nothing listens there any more
    assert delivery.deliver_message(reply.pk) == 2
    reply.refresh_from_db()
    assert reply.delivery == "queued" and "network error" in reply.delivery_error


def test_403_marks_the_contact_unreachable_and_the_message_failed(bot_api, reply):
    bot_api.script("sendMessage", blocked())
    assert delivery.deliver_message(reply.pk) is None
    reply.refresh_from_db()
    assert reply.delivery == "failed"
    assert reply.delivery_error.startswith("Blocked by the user")
    assert Contact.objects.get(pk=reply.case.contact_id).unreachable_since is not None
    assert CaseEvent.objects.filter(kind="contact_updated", data__reachable=False).count() == 1


def test_400_fails_with_telegrams_description(bot_api, reply):
    bot_api.script("sendMessage", bad_request("Bad Request: chat not found"))
    assert delivery.deliver_message(reply.pk) is None
    reply.refresh_from_db()
    assert reply.delivery == "failed"
    assert reply.delivery_error == "Telegram refused the message: HTTP 400: Bad Request: chat not found"


def test_a_wrong_token_fails_the_message(bot_api, reply, settings):
    settings.TELEGRAM_BOT_TOKEN = "123456789:not-the-token"
    delivery.deliver_message(reply.pk)
    reply.refresh_from_db()
    assert reply.delivery == "failed" and "401" in reply.delivery_error


def test_without_a_bot_token_the_message_fails_with_a_clear_reason(settings, reply):
    settings.TELEGRAM_BOT_TOKEN = ""
    assert delivery.deliver_message(reply.pk) is None
    reply.refresh_from_db()
    assert reply.delivery == "failed"
    assert reply.delivery_error.startswith("Telegram is not configured (TELEGRAM_BOT_TOKEN is empty)")


def test_the_acknowledgement_carries_the_first_triage_questions_buttons(bot_api):
    case = receive(identifier="31337").case
    ack = services.message_record_automatic(case_id=case.pk, text="Здравствуйте!\n\nВы уже мобилизованы?")
    delivery.deliver_message(ack.pk)
    [call] = bot_api.calls_of("sendMessage")
    buttons = [row[0] for row in call["reply_markup"]["inline_keyboard"]]
    assert buttons[0] == {"text": "Да", "callback_data": "t:mobilised:yes"}
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)


def test_an_operator_reply_never_carries_buttons(bot_api, operator):
    case = make_case("assigned", owner=operator)
    message = services.case_reply(actor=operator, case_id=case.pk, text="Вы уже мобилизованы?")
    delivery.deliver_message(message.pk)
    assert "reply_markup" not in bot_api.calls_of("sendMessage")[0]


def test_the_bot_token_never_reaches_the_logs(bot_api, reply, caplog):
    caplog.set_level(logging.DEBUG)
    bot_api.script("sendMessage", server_error())
    delivery.deliver_message(reply.pk)
    delivery.deliver_message(reply.pk)
    bot_api.stop()
    delivery.notify_supervisors(overdue=1, at_risk=0)
    assert caplog.records
    assert bot_api.token.split(":")[1] not in caplog.text
    assert reply.body not in caplog.text


def test_supervisors_get_one_notice_per_sweep_with_counts_only(bot_api, settings):
    settings.TELEGRAM_SUPERVISORS_CHAT_ID = "-1001234567890"
    delivery.notify_supervisors(overdue=3, at_risk=2)
    [call] = bot_api.calls_of("sendMessage")
    assert call["chat_id"] == "-1001234567890"
    assert call["text"] == (
        "Hotline Desk: 3 case(s) became overdue (no human answer within 24 h); "
        "2 case(s) are at risk of becoming overdue."
    )


def test_no_supervisors_chat_means_no_notice(bot_api, settings):
    settings.TELEGRAM_SUPERVISORS_CHAT_ID = ""
    delivery.notify_supervisors(overdue=3, at_risk=2)
    assert bot_api.calls_of("sendMessage") == []


def test_a_pressed_button_is_answered(bot_api):
    delivery.answer_button("cbq-9", "Спасибо, ответ записан.")
    [call] = bot_api.calls_of("answerCallbackQuery")
    assert call == {"callback_query_id": "cbq-9", "text": "Спасибо, ответ записан."}


# --- manage.py telegram_set_webhook -----------------------------------------------------------


def test_set_webhook_registers_url_secret_and_update_kinds(bot_api, settings, capsys):
    settings.TELEGRAM_WEBHOOK_SECRET = "s3cret-Token_1"
    call_command("telegram_set_webhook", "https://desk.example.org/telegram/webhook/")
    [call] = bot_api.calls_of("setWebhook")
    assert call["url"] == "https://desk.example.org/telegram/webhook/"
    assert call["secret_token"] == "s3cret-Token_1"
    assert call["allowed_updates"] == ["message", "edited_message", "callback_query", "my_chat_member"]
    assert call["drop_pending_updates"] is False
    first_line = capsys.readouterr().out.splitlines()[0]
    assert json.loads(first_line) == {"ok": True, "result": True, "description": "Webhook was set"}


def test_set_webhook_reports_telegrams_refusal(bot_api, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = "s3cret"
    bot_api.script("setWebhook", bad_request("Bad Request: bad webhook: HTTPS url must be provided for webhook"))
    with pytest.raises(CommandError, match="setWebhook failed: HTTP 400: Bad Request: bad webhook: HTTPS url must"):
        call_command("telegram_set_webhook", "https://desk.example.org/telegram/webhook/")


def test_set_webhook_needs_a_secret(bot_api, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    with pytest.raises(CommandError, match="TELEGRAM_WEBHOOK_SECRET"):
        call_command("telegram_set_webhook", "https://desk.example.org/telegram/webhook/")
    assert bot_api.calls == []


def test_delivery_of_messages_of_other_channels_fails_with_a_reason(operator):
    case = make_case("assigned", owner=operator, channel="phone")
    message = Message.objects.create(
        case=case, direction="outbound", channel="phone", body="x", delivery="queued", created_at=case.received_at,
    )
    delivery.deliver_message(message.pk)
    message.refresh_from_db()
    assert message.delivery == "failed" and message.delivery_error == "No sender for channel phone."
