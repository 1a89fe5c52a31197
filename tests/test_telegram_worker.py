"""End to end with a REAL Celery worker (a subprocess) on Redis and the test database:
an update arrives over HTTP and is stored, the woken worker applies it, sends the
acknowledgement (after a 429), answers a pressed button and delivers an operator's reply,
all to the local Bot API server."""

from __future__ import annotations

import json
import time

import pytest

from hotline import services
from hotline.models import Case, Message
from tests.factories import make_operator
from tests.fake_bot_api import FakeBotApi, too_many_requests
from tests.processes import celery_worker, subprocess_env, wait_until

pytestmark = [
    pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker,
    pytest.mark.django_db(transaction=True),  # committed data, so the worker sees it
]

SECRET = "worker-test-secret"


@pytest.fixture
def bot_api(settings):
    with FakeBotApi() as api:
        settings.TELEGRAM_WEBHOOK_SECRET = SECRET
        settings.TELEGRAM_BOT_TOKEN = api.token
        settings.TELEGRAM_API_URL = api.url
        yield api


@pytest.fixture
def worker(bot_api, tmp_path):
    env = subprocess_env(
        TELEGRAM_BOT_TOKEN=bot_api.token, TELEGRAM_API_URL=bot_api.url, TELEGRAM_RETRY_BASE_SECONDS="1",
    )
    with celery_worker(tmp_path, env) as process:
        yield process


def test_worker_delivers_acknowledgement_button_answer_and_reply(client, bot_api, worker, tmp_path):
    bot_api.script("sendMessage", too_many_requests(1))  # the first send is flood-controlled
    update = {"update_id": 91001, "message": {
        "message_id": 10, "date": int(time.time()), "text": "Хочу сдаться",
        "from": {"id": 5550001, "is_bot": False, "first_name": "Иван", "language_code": "ru"},
        "chat": {"id": 5550001, "type": "private"},
    }}
    response = client.post(
        "/telegram/webhook/", data=json.dumps(update), content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
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

    button = {"update_id": 91002, "callback_query": {
        "id": "cbq-worker", "from": update["message"]["from"], "chat_instance": "x", "data": "t:mobilised:no",
        "message": {"message_id": 7001, "date": int(time.time()), "chat": {"id": 5550001, "type": "private"}},
    }}
    client.post(
        "/telegram/webhook/", data=json.dumps(button), content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    [answered] = bot_api.wait_for("answerCallbackQuery")
    assert answered == {"callback_query_id": "cbq-worker", "text": "Спасибо, ответ записан."}
    assert Case.objects.get().triage["mobilised"]["answer"] == "no"

    operator = make_operator("dmytro")
    reply = services.case_reply(actor=operator, case_id=Case.objects.get().pk, text="Здравствуйте, это Дмитрий.")
    wait_until(lambda: Message.objects.filter(pk=reply.pk, delivery="sent").exists(), what="the reply to be sent")
    texts = [call["text"] for call in bot_api.calls_of("sendMessage")]
    assert "Здравствуйте, это Дмитрий." in texts and "Где вы сейчас?" in texts
