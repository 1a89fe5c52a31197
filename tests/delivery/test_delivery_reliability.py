"""Nothing is lost when Redis or a worker dies, and nothing is sent twice by a race.

- enqueueing after commit never fails the write (a web server whose broker is unreachable
  still stores and answers);
- outbound messages are claimed before Telegram is called: one sender per message;
- the periodic recovery queues again what was stranded, and a real worker sends it once.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import httpx
import pytest
import time_machine
from django.utils import timezone

from hotline.celery import app
from hotline.delivery import outbound as delivery
from hotline.desk import services
from hotline.intake.tokens import api_token_create
from hotline.models import Case, Message, TelegramUpdate
from tests import telegram
from tests.factories import make_case, make_operator, receive
from tests.fake_bot_api import FakeBotApi
from tests.processes import SlowBotApi, celery_worker, refused_port, subprocess_env, wait_until, web_server
from tests.threads import run_together

T0 = timezone.now().replace(microsecond=0)


# --- claims ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_one_of_two_claims_wins_and_a_sent_message_cannot_be_claimed(bot_api, operator):
    reply = services.case_reply(actor=operator, case_id=make_case("assigned", owner=operator).pk, text="Добрый день")
    assert delivery.claim(reply.pk) is True
    assert delivery.claim(reply.pk) is False  # the first sender holds it
    assert delivery.deliver_message(reply.pk) is None  # a second task does nothing
    assert bot_api.calls_of("sendMessage") == []
    Message.objects.filter(pk=reply.pk).update(delivery="sent")
    assert delivery.claim(reply.pk, now=timezone.now() + timedelta(days=1)) is False


@pytest.mark.django_db
def test_a_claim_of_a_crashed_sender_expires_after_the_lease(bot_api, operator, settings):
    settings.DELIVERY_CLAIM_SECONDS = 120
    reply = services.case_reply(actor=operator, case_id=make_case("assigned", owner=operator).pk, text="Добрый день")
    with time_machine.travel(T0, tick=False):
        assert delivery.claim(reply.pk)  # and the sender dies here
    with time_machine.travel(T0 + timedelta(seconds=119), tick=False):
        assert delivery.deliver_message(reply.pk) is None
        assert bot_api.calls_of("sendMessage") == []
    with time_machine.travel(T0 + timedelta(seconds=121), tick=False):
        assert delivery.deliver_message(reply.pk) is None
    [call] = bot_api.calls_of("sendMessage")
    assert call["text"] == "Добрый день"
    reply.refresh_from_db()
    assert (reply.delivery, reply.delivery_attempts, reply.delivery_claimed_at) == ("sent", 2, None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_racing_for_one_message_send_it_once(operator, settings):
    """Threads with their own database connections, Telegram slow enough that both are in
    flight together: without the claim both would call sendMessage."""
    with SlowBotApi(latency=0.5) as api:
        telegram.configure(settings, api)
        case = make_case("assigned", owner=operator)
        reply = services.case_reply(actor=operator, case_id=case.pk, text="Одно сообщение")
        assert run_together(*[partial(delivery.deliver_message, reply.pk)] * 4, timeout=30) == [None] * 4
        assert [c["text"] for c in api.calls_of("sendMessage")].count("Одно сообщение") == 1
    reply.refresh_from_db()
    assert (reply.delivery, reply.delivery_attempts) == ("sent", 1)


@pytest.mark.django_db
def test_a_retry_releases_the_claim_and_records_when_it_is_due(bot_api, operator, settings):
    from tests.fake_bot_api import server_error

    settings.TELEGRAM_RETRY_BASE_SECONDS = 2
    bot_api.script("sendMessage", server_error())
    reply = services.case_reply(actor=operator, case_id=make_case("assigned", owner=operator).pk, text="Добрый день")
    with time_machine.travel(T0, tick=False):
        assert delivery.deliver_message(reply.pk) == 2
    reply.refresh_from_db()
    assert reply.delivery == "queued" and reply.delivery_claimed_at is None
    assert reply.delivery_next_attempt_at == T0 + timedelta(seconds=2)


# --- recovery -------------------------------------------------------------------------------


def _queued_reply(operator, *, at):
    with time_machine.travel(at, tick=False):
        case = make_case("assigned", owner=operator)
        return services.case_reply(actor=operator, case_id=case.pk, text="Добрый день")


@pytest.mark.django_db
def test_recovery_requeues_only_stranded_messages_once_per_period(
    operator, settings, django_capture_on_commit_callbacks,
):
    settings.DELIVERY_RECOVER_AFTER_SECONDS = 120
    settings.DELIVERY_CLAIM_SECONDS = 120
    stranded = _queued_reply(operator, at=T0 - timedelta(minutes=10))
    fresh = _queued_reply(operator, at=T0 - timedelta(seconds=60))  # its task is surely still coming
    being_sent = _queued_reply(operator, at=T0 - timedelta(minutes=10))
    Message.objects.filter(pk=being_sent.pk).update(delivery_claimed_at=T0 - timedelta(seconds=30))
    crashed = _queued_reply(operator, at=T0 - timedelta(minutes=10))
    Message.objects.filter(pk=crashed.pk).update(delivery_claimed_at=T0 - timedelta(minutes=5))
    retry_later = _queued_reply(operator, at=T0 - timedelta(minutes=10))
    Message.objects.filter(pk=retry_later.pk).update(delivery_next_attempt_at=T0 + timedelta(minutes=5))
    sent = _queued_reply(operator, at=T0 - timedelta(minutes=10))
    Message.objects.filter(pk=sent.pk).update(delivery="sent")
    inbound = receive(at=T0 - timedelta(hours=1)).message  # requests are never "delivered"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        requeued = delivery.requeue_stranded(T0)
    assert sorted(requeued) == sorted([stranded.pk, crashed.pk])
    assert [(c.args[0], c.args[1]) for c in callbacks] == [
        ("hotline.tasks.deliver_message_task", (pk,)) for pk in requeued
    ]
    assert inbound.pk not in requeued
    assert delivery.requeue_stranded(T0 + timedelta(seconds=60)) == []
    # Then the fresh one is stranded too, and the one whose sender held it past the lease.
    assert sorted(delivery.requeue_stranded(T0 + timedelta(seconds=121))) == sorted([fresh.pk, being_sent.pk])
    # A re-queued message is left alone as long as it had waited (a backlog is not multiplied):
    # the fresh one had waited 181 s when re-queued, the stranded ones 600 s.
    assert delivery.requeue_stranded(T0 + timedelta(seconds=302)) == []
    assert delivery.requeue_stranded(T0 + timedelta(seconds=303)) == [fresh.pk]
    # The retry due at T0 + 300 s never came (lost with its worker's memory).
    assert delivery.requeue_stranded(T0 + timedelta(seconds=421)) == [retry_later.pk]
    assert delivery.requeue_stranded(T0 + timedelta(seconds=599)) == []
    assert sorted(delivery.requeue_stranded(T0 + timedelta(seconds=601))) == sorted([stranded.pk, crashed.pk])


@pytest.mark.django_db
def test_the_api_answers_when_the_rate_limit_cache_is_unreachable(client, supervisor, settings):
    token = api_token_create(actor=supervisor, name="web form")[1]
    with refused_port() as port:
        settings.CACHES = {"default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0",
        }}
        response = client.post(
            "/api/v1/requests/", content_type="application/json", headers={"Authorization": f"Bearer {token}"},
            data={"channel": "web", "contact_identifier": "form-1", "text": "Хочу сдаться"},
        )
    assert response.status_code == 201
    [stored] = Message.objects.filter(direction="inbound")  # bodies are encrypted: compare decrypted
    assert stored.body == "Хочу сдаться"


# --- with real processes ----------------------------------------------------------------------
# Committed data (the subprocesses read it); the seeded roles are restored afterwards.
with_processes = pytest.mark.django_db(transaction=True)


def _succeeded(log: str, task: str) -> int:
    """How many runs of `task` the worker's log reports finished."""
    return sum(1 for line in log.splitlines() if f"Task hotline.tasks.{task}[" in line and " succeeded in " in line)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.worker
@with_processes
def test_with_the_broker_down_the_web_stores_and_answers_then_recovery_sends_once(tmp_path, supervisor):
    """A web server whose broker (and cache) is an unreachable Redis: the webhook and the API
    still answer 200/201 and store. The worker was never woken for the Telegram update; later
    a worker with its beat, on the real Redis, applies it through the periodic inbox drain
    and sends the acknowledgement exactly once, however many sweeps follow."""
    token = api_token_create(actor=supervisor, name="web form")[1]
    with FakeBotApi() as api, refused_port() as port:
        nowhere = f"redis://127.0.0.1:{port}/0"
        web_env = subprocess_env(TEST_REDIS_URL=nowhere, REDIS_URL=nowhere, **telegram.settings_for(api))
        with web_server(tmp_path, web_env) as url:
            answer = httpx.post(
                url + telegram.WEBHOOK_URL, json=telegram.message_update(4400001, update_id=7001, text="Хочу сдаться"),
                headers=telegram.headers(), timeout=30,
            )
            api_answer = httpx.post(
                f"{url}/api/v1/requests/", json={"channel": "web", "contact_identifier": "form-9", "text": "Помогите"},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k-1"}, timeout=30,
            )
            log = (tmp_path / "web.log").read_text()
        assert answer.status_code == 200 and answer.json() == {"ok": True, "result": "accepted"}
        assert api_answer.status_code == 201
        assert TelegramUpdate.objects.filter(update_id=7001, processed_at__isnull=True).exists()
        assert Message.objects.filter(direction="inbound").count() == 1  # the API's; Telegram's is stored raw
        assert "enqueue failed task=hotline.tasks.telegram_process_updates_task (OperationalError)" in log
        assert "Хочу" not in log and "4400001" not in log  # ids only in logs

        app.control.purge()  # what earlier tests left in this Redis database is not ours
        worker_env = subprocess_env(
            **telegram.settings_for(api), AUTO_ASSIGN="false",
            TELEGRAM_INBOX_SWEEP_SECONDS="1", DELIVERY_RECOVER_AFTER_SECONDS="1", DELIVERY_RECOVER_SWEEP_SECONDS="1",
        )
        with celery_worker(tmp_path, worker_env, beat=True) as worker:
            ack = wait_until(lambda: Message.objects.filter(is_automatic=True, delivery="sent").first(),
                             what="the update applied and its acknowledgement sent")
            assert Message.objects.filter(direction="inbound").count() == 2
            assert not TelegramUpdate.objects.filter(processed_at__isnull=True).exists()
            # A few more sweeps after the send: a sent message is never queued again.
            swept = _succeeded(worker.log(), "delivery_recover_task")
            wait_until(lambda: _succeeded(worker.log(), "delivery_recover_task") >= swept + 3, what="more sweeps")
            worker_log = worker.log()
    assert [c["text"] for c in api.calls_of("sendMessage")] == [ack.body]
    assert "hotline.tasks.delivery_recover_task" in worker_log
    assert "raised unexpected" not in worker_log


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.worker
@with_processes
def test_the_same_message_queued_twice_to_a_real_worker_is_sent_once(tmp_path):
    """Two tasks for one message (a redelivery and a recovery re-queue, say) run at the same
    moment in two worker processes; Telegram is slow, so both are in flight together."""
    operator = make_operator("dmytro")
    case = Case.objects.get(pk=make_case("assigned", owner=operator).pk)
    app.control.purge()
    with SlowBotApi(latency=1.0) as api:
        env = subprocess_env(**telegram.settings_for(api), AUTO_ASSIGN="false")
        with celery_worker(tmp_path, env, concurrency=2) as worker:
            reply = services.case_reply(actor=operator, case_id=case.pk, text="Только один раз")  # queued once...
            from hotline.tasks import deliver_message_task

            deliver_message_task.delay(reply.pk)  # ...and once more
            wait_until(
                lambda: _succeeded(worker.log(), "deliver_message_task") == 2, what="both tasks to finish",
            )
        assert [c["text"] for c in api.calls_of("sendMessage")] == ["Только один раз"]
    reply.refresh_from_db()
    assert reply.delivery_attempts == 1
