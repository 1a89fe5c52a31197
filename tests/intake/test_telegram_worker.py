"""End to end with a REAL Celery worker (a subprocess) on Redis and the test database:
an update arrives over HTTP and is stored, the woken worker applies it, sends the
acknowledgement (after a 429), answers a pressed button and delivers an operator's reply,
all to the local Bot API server."""

from __future__ import annotations

import pytest

from hotline.desk import services
from hotline.models import Case, Message
from tests import telegram
from tests.factories import make_operator
from tests.fake_bot_api import too_many_requests
from tests.processes import wait_until

pytestmark = [
    pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker,
    pytest.mark.django_db(transaction=True),  # committed data, so the worker sees it
]

def test_worker_delivers_acknowledgement_button_answer_and_reply(client, bot_api, worker):
    bot_api.script("sendMessage", too_many_requests(1))  # the first send is flood-controlled
    response = telegram.post(client, telegram.message_update(5550001, update_id=91001, text="Хочу сдаться"))
    assert response.status_code == 200 and response.json()["result"] == "accepted"

    # Nothing else calls the inbox: the webhook's wake-up makes the worker apply the update.
    wait_until(lambda: Message.objects.filter(is_automatic=True).exists(), what="the worker to apply the update")
    ack = Message.objects.get(is_automatic=True)
    wait_until(
        lambda: Message.objects.filter(pk=ack.pk, delivery="sent").exists(), what="the acknowledgement to be sent",
    )
    first, second = bot_api.wait_for("sendMessage", 2)
    assert first == second  # the same message again after Telegram's retry_after
    assert second["chat_id"] == "5550001" and second["text"] == ack.body
    assert second["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "t:mobilised:yes"
    ack.refresh_from_db()
    assert ack.external_id == "7001" and ack.delivered_at is not None

    button = telegram.button_update("t:mobilised:no", 5550001, query_id="cbq-worker", update_id=91002, message_id=7001)
    telegram.post(client, button)
    [answered] = bot_api.wait_for("answerCallbackQuery")
    assert answered == {"callback_query_id": "cbq-worker", "text": "Спасибо, ответ записан."}
    assert Case.objects.get().triage["mobilised"]["answer"] == "no"

    operator = make_operator("dmytro")
    reply = services.case_reply(actor=operator, case_id=Case.objects.get().pk, text="Здравствуйте, это Дмитрий.")
    wait_until(lambda: Message.objects.filter(pk=reply.pk, delivery="sent").exists(), what="the reply to be sent")
    texts = [call["text"] for call in bot_api.calls_of("sendMessage")]
    assert "Здравствуйте, это Дмитрий." in texts and "Где вы сейчас?" in texts
