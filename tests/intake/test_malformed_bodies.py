"""Malformed bodies on the two intake endpoints get a clear 4xx, never a 5xx (issue 17, items 3-5).

The webhook once answered 500 to a key holding NUL or a lone surrogate (the first key was
stored as the update's kind) and to arrays nested 5,000 deep (RecursionError); the intake API
to an extra field nested as deep, and 400 to a lone surrogate in `text` that it promised to
replace."""

from __future__ import annotations

import json

import pytest

from hotline.intake.bodies import MAX_JSON_DEPTH, json_depth_exceeds, parse_json
from hotline.intake.telegram import inbox
from hotline.intake.telegram.updates import update_kind
from hotline.intake.tokens import api_token_create
from hotline.models import Message, TelegramUpdate
from tests import telegram

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

SECRET = telegram.WEBHOOK_SECRET
WEBHOOK = "/telegram/webhook/"
INTAKE = "/api/v1/requests/"


@pytest.fixture(autouse=True)
def _telegram(telegram_settings):
    """The webhook's secret and a bot token; nothing is sent from these tests."""


@pytest.fixture
def token(supervisor):
    return api_token_create(actor=supervisor, name="web form")[1]


def webhook(client, body: bytes):
    return client.post(
        WEBHOOK, data=body, content_type="application/json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )


def intake(client, token: str, body: bytes):
    return client.post(INTAKE, data=body, content_type="application/json", headers={"Authorization": f"Bearer {token}"})


def nested(depth: int) -> str:
    """Arrays `depth` levels deep, as JSON text."""
    return "[" * depth + "]" * depth


# --- the webhook -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["\\u0000x", "\\ud800x", "x\\udfff", "message\\u0000"])
def test_a_key_with_nul_or_a_lone_surrogate_is_stored_as_an_unknown_update(client, key):
    body = b'{"update_id": 77, "' + key.encode() + b'": {}}'
    response = webhook(client, body)
    assert (response.status_code, response.json()) == (200, {"ok": True, "result": "accepted"})
    stored = TelegramUpdate.objects.get(update_id=77)
    assert stored.kind == "unknown"
    [outcome] = inbox.process_pending()
    assert outcome.result == "ignored"


def test_only_kinds_the_bot_api_defines_are_stored_as_the_kind():
    assert update_kind({"update_id": 1, "message": {}}) == "message"
    assert update_kind({"update_id": 1, "someone's words": {}, "callback_query": {}}) == "callback_query"
    assert update_kind({"update_id": 1, "a_kind_telegram_adds_next_year": {}}) == "unknown"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, 5_000, 100_000])
def test_an_update_nested_too_deep_is_refused_with_the_limit(client, depth):
    body = f'{{"update_id": 78, "message": {nested(depth)}}}'.encode()
    response = webhook(client, body)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels."}
    assert not TelegramUpdate.objects.exists()


def test_an_update_exactly_at_the_depth_limit_is_stored(client):
    body = f'{{"update_id": 79, "message": {nested(MAX_JSON_DEPTH - 1)}}}'.encode()
    assert webhook(client, body).status_code == 200
    assert TelegramUpdate.objects.filter(update_id=79).exists()


@pytest.mark.parametrize("body", [b"[" * 5000, b'{"update_id": NaN}', b'{"update_id": 1' + b"0" * 5000 + b"}"])
def test_broken_json_is_a_400(client, body):
    response = webhook(client, body)
    assert response.status_code == 400 and response.json()["ok"] is False
    assert not TelegramUpdate.objects.exists()


# --- the intake API ------------------------------------------------------------------------------


def request_body(**extra) -> dict:
    return {"channel": "web", "contact_identifier": "form-1", "language": "ru", "text": "Хочу сдаться", **extra}


def test_an_extra_field_nested_5000_deep_is_a_400_not_a_recursion_error(client, token):
    body = json.dumps(request_body())[:-1] + ', "extra": ' + nested(5_000) + "}"
    response = intake(client, token, body.encode())
    assert response.status_code == 400
    assert response.json() == {"detail": f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels."}
    assert not Message.objects.exists()


def test_a_lone_surrogate_in_text_is_replaced_as_documented(client, token):
    body = json.dumps(request_body(text="Хочу \ud800сдаться", contact_name="Иван\udfff")).encode()
    response = intake(client, token, body)
    assert response.status_code == 201, response.content
    message = Message.objects.select_related("case__contact").get()
    assert message.body == "Хочу \ufffdсдаться"
    assert message.case.contact.display_name == "Иван\ufffd"


def test_nan_and_infinity_are_not_json(client, token):
    for constant in ("NaN", "Infinity", "-Infinity"):
        body = json.dumps(request_body())[:-1] + f', "extra": {constant}}}'
        response = intake(client, token, body.encode())
        assert response.status_code == 400, constant
        assert response.json() == {"detail": f"{constant} is not valid JSON."}
    assert not Message.objects.exists()


# --- the parser itself ------------------------------------------------------------------------------


def test_depth_counts_arrays_and_objects_without_recursion():
    assert not json_depth_exceeds({"a": [1, {"b": 2}]}, 3)
    assert json_depth_exceeds({"a": [1, {"b": []}]}, 3)
    assert not json_depth_exceeds("scalar", 0)
    deep: list = []
    for _ in range(200_000):  # far beyond Python's recursion limit
        deep = [deep]
    assert json_depth_exceeds(deep, MAX_JSON_DEPTH)
    assert parse_json(b'{"a": [1, 2]}') == {"a": [1, 2]}


def test_a_received_at_in_the_future_is_taken_as_now_not_refused(client, token):
    """Schemathesis found it: a well-formed time from a clock running ahead was a 400 the schema
    could not announce. The request is now stored, its wait beginning when it arrived."""
    body = json.dumps(request_body(received_at="4000-12-18T22:02:37Z")).encode()
    response = intake(client, token, body)
    assert response.status_code == 201, response.content
    message = Message.objects.select_related("case").get()
    assert message.created_at.year < 4000 and message.case.awaiting_since == message.created_at
