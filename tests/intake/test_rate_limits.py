"""Rate limits on intake: a flood from one Telegram user is stored in full but the bot stops
answering them, without holding back anyone else; an API token over its rate gets 429."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from hotline import identity
from hotline.desk import ownership, services
from hotline.intake.telegram import inbox
from hotline.intake.tokens import api_token_create
from hotline.models import Case, Contact, Message
from tests import telegram

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _flood_limit(settings, telegram_settings):
    settings.TELEGRAM_USER_RATE_PER_MINUTE = 3


def send(client, chat_id: int, text: str):
    response = telegram.post(client, telegram.message_update(chat_id, text=text))
    inbox.process_pending()  # what the woken worker does (the flood limit is applied there)
    return response


def case_of(chat_id: int) -> Case:
    return Case.objects.get(contact=Contact.objects.get(lookup_hash=identity.lookup_hash("telegram", str(chat_id))))


def bot_messages(case: Case) -> int:
    return Message.objects.filter(case=case, is_automatic=True).count()


def test_a_flood_from_one_user_is_stored_whole_and_the_bot_goes_quiet(client, operator):
    flooder, other = 5550001, 5550002
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        answers = [send(client, flooder, f"message {i}") for i in range(8)]
        assert {r.status_code for r in answers} == {200}  # never 429: Telegram would hold the queue
        case = case_of(flooder)
        assert case.messages.filter(direction="inbound").count() == 8  # nothing lost
        assert Case.objects.filter(contact=case.contact).count() == 1  # one case, not eight
        assert bot_messages(case) == 1  # the acknowledgement, sent while under the rate
        # The case is closed; the flood goes on: the request reopens it and is kept, but the bot
        # no longer acknowledges this user.
        ownership.case_take(actor=operator, case_id=case.pk)
        services.case_close(actor=operator, case_id=case.pk, reason="withdrew")
        assert send(client, flooder, "still here").status_code == 200
        case.refresh_from_db()
        assert case.is_open and case.messages.filter(direction="inbound").count() == 9
        assert bot_messages(case) == 1
        # Someone else writing during the flood is answered as usual.
        assert send(client, other, "hello").status_code == 200
        assert bot_messages(case_of(other)) == 1
    # A minute later the flooder is an ordinary sender again.
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        services.case_close(actor=operator, case_id=case.pk, reason="withdrew")
        assert send(client, flooder, "back").status_code == 200
        assert bot_messages(case) == 2


def test_an_api_token_over_its_rate_gets_429_with_retry_after(client, settings, supervisor):
    settings.API_INTAKE_RATE = "2/minute"
    _, raw = api_token_create(actor=supervisor, name="web form")
    body = {"channel": "web", "contact_identifier": "form-1", "language": "uk", "text": "hi"}
    responses = [
        client.post("/api/v1/requests/", {**body, "contact_identifier": f"form-{i}"}, content_type="application/json",
                    headers={"Authorization": f"Bearer {raw}"})
        for i in range(3)
    ]
    assert [r.status_code for r in responses] == [201, 201, 429]
    assert int(responses[2]["Retry-After"]) > 0


def test_the_flood_limit_fails_open_when_its_cache_is_down(client, settings):
    """Redis restarting must not turn an update into a failure: stored, answered, acknowledged."""
    from tests.processes import refused_port

    with refused_port() as port:
        settings.CACHES = {"default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0",
        }}
        response = send(client, 5550003, "Хочу сдаться")
    assert response.status_code == 200 and response.json()["result"] == "accepted"
    case = case_of(5550003)
    assert [m.body for m in case.messages.filter(direction="inbound")] == ["Хочу сдаться"]
    assert bot_messages(case) == 1  # the acknowledgement went out as usual
