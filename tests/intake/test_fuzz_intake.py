"""Fuzzing the two intake endpoints (issue 17): hypothesis-made bodies, deep nesting, NUL and
lone surrogates in keys and values, huge numbers, wrong types. Whatever comes, the answer is
never a 5xx, and a refusal writes nothing: no update, no contact, no case, no message. An
accepted update is stored once and applied by the worker's code without failing.

Bounded and deterministic: a fixed number of examples, derandomized."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.intake.telegram import inbox
from hotline.intake.tokens import api_token_create
from hotline.models import Case, Contact, Message, TelegramUpdate

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

SECRET = "webhook-secret_42"
EXAMPLES = 500  # per endpoint
FUZZ = settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text with everything JSON can carry: NUL, control characters, lone surrogates, astral planes.
texts = st.text(st.characters(exclude_categories=()), max_size=40)
keys = st.one_of(texts, st.sampled_from(["update_id", "message", "edited_message", "callback_query", "text",
                                          "chat", "from", "id", "type", "date", "\x00", "\ud800", "message\x00"]))
numbers = st.one_of(
    st.integers(), st.integers(min_value=-(10**40), max_value=10**40), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2**63, -(2**63) - 1, 10**4000, 0, -1, 1e308]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                      max_leaves=25)


HOLE = "@@nested@@"
_update_ids = itertools.count(1)


def with_nested(outer: Any, inner: Any, depth: int) -> bytes:
    """`outer` as JSON, with `inner` wrapped in `depth` arrays where HOLE stands (written as text:
    Python's encoder itself stops near a thousand levels)."""
    return encoded(outer).replace(json.dumps(HOLE).encode(), b"[" * depth + encoded(inner) + b"]" * depth, 1)


depths = st.one_of(st.integers(0, 70), st.sampled_from([5_000, 20_000]))


def encoded(value: Any) -> bytes:
    """JSON text; a number JSON cannot hold exactly (10**4000) is written as its digits."""
    return json.dumps(value, default=str).encode()


@st.composite
def updates(draw) -> bytes:
    """A believable update with some parts replaced, extra keys and nesting; at times cut short."""

    def mostly(valid: st.SearchStrategy) -> Any:
        return draw(values) if draw(st.integers(0, 3)) == 3 else draw(valid)  # hypothesis leans to 0

    kind = draw(st.sampled_from(["message", "message", "edited_message", "callback_query", "my_chat_member", "other"]))
    chat = mostly(st.integers(1, 10**12))
    message = {"message_id": mostly(st.integers(1, 10**6)), "date": mostly(st.integers(10**9, 2 * 10**9)),
               "chat": {"id": chat, "type": mostly(st.sampled_from(["private", "group", "channel"]))},
               "from": {"id": chat, "is_bot": False, "first_name": draw(texts)}, "text": draw(texts)}
    message.update(draw(st.dictionaries(keys, values, max_size=2)))
    message[draw(st.sampled_from(["entities", "reply_markup", "reply_to_message"]) | keys)] = HOLE
    update: dict[Any, Any] = {"update_id": mostly(st.builds(lambda: next(_update_ids))),
                              kind if kind != "other" else draw(keys): message}
    update.update(draw(st.dictionaries(keys, values, max_size=2)))
    body = with_nested(update, draw(values), draw(depths))
    cut = draw(st.integers(0, 9))
    return body[: len(body) // 2] if cut == 9 else body.replace(b'"', b"'", 1) if cut == 8 else body


@st.composite
def intake_requests(draw) -> bytes:
    """A valid request with some fields replaced or left out, extra fields, deep nesting; or
    any JSON value at all."""
    valid = {"channel": st.sampled_from(["web", "api", "phone", "telegram"]),
             "contact_identifier": st.from_regex(r"[a-z0-9+]{1,12}", fullmatch=True) | texts,
             "contact_name": texts, "language": st.sampled_from(["ru", "UK", "uk", ""]), "text": texts,
             "received_at": st.sampled_from(["2025-01-31T10:00:00+02:00", "4000-01-01T00:00:00Z", None])}
    body: dict[Any, Any] = {name: draw(strategy) for name, strategy in valid.items()}
    for name in draw(st.lists(st.sampled_from(list(valid)), unique=True, max_size=3)):
        replacement = draw(st.one_of(st.none(), values, st.just(HOLE)))
        if replacement is None:
            body.pop(name)
        else:
            body[name] = replacement
    body.update(draw(st.dictionaries(keys, values, max_size=2)))
    if draw(st.booleans()):
        body["extra"] = HOLE
    if draw(st.integers(0, 9)) == 9:
        return encoded(draw(values))
    return with_nested(body, draw(values), draw(depths))


def counts() -> tuple[int, int, int, int]:
    return (TelegramUpdate.objects.count(), Contact.objects.count(), Case.objects.count(), Message.objects.count())


@pytest.fixture
def seen() -> dict[int, int]:
    return {}


def test_the_webhook_never_answers_5xx_and_a_refusal_writes_nothing(client, settings_fixture, seen):
    @FUZZ
    @given(body=updates())
    def run(body: bytes) -> None:
        before = counts()
        response = client.post("/telegram/webhook/", data=body, content_type="application/json",
                               headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        status = response.status_code
        seen[status] = seen.get(status, 0) + 1
        assert status < 500, body[:300]
        if status != 200:
            err = response.json().get("error", "")[:40]
            seen[err] = seen.get(err, 0) + 1
            assert counts() == before, body[:300]
            return
        stored = TelegramUpdate.objects.count() - before[0]
        assert stored == (1 if response.json()["result"] == "accepted" else 0)
        for outcome in inbox.process_pending():  # the worker's part, on the same update
            assert outcome.result != "failed", body[:300]
            seen[outcome.result] = seen.get(outcome.result, 0) + 1

    run()
    print("webhook fuzz:", seen)
    assert sum(n for status, n in seen.items() if isinstance(status, int)) == EXAMPLES
    assert seen.get(200) and seen.get(400) and seen.get("request"), seen  # both sides were reached


def test_the_intake_api_never_answers_5xx_and_a_refusal_writes_nothing(client, settings_fixture, supervisor, seen):
    token = api_token_create(actor=supervisor, name="fuzz")[1]

    @FUZZ
    @given(body=intake_requests())
    def run(body: bytes) -> None:
        before = counts()
        response = client.post("/api/v1/requests/", data=body, content_type="application/json",
                               headers={"Authorization": f"Bearer {token}"})
        status = response.status_code
        seen[status] = seen.get(status, 0) + 1
        assert status < 500, body[:300]
        if status == 201:
            assert Message.objects.count() == before[3] + 1
        else:
            assert counts() == before, (status, body[:300])

    run()
    print("intake API fuzz:", seen)
    assert sum(seen.values()) == EXAMPLES
    assert seen.get(201) and seen.get(400), seen


@pytest.fixture
def settings_fixture(settings):
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.TELEGRAM_BOT_TOKEN = "123456789:TEST-token-abc"
    settings.TELEGRAM_API_URL = "http://127.0.0.1:9"  # nothing is sent from these tests
    settings.TELEGRAM_TRIAGE_ENABLED = False
    settings.API_INTAKE_RATE = "100000/minute"
    settings.AUTO_ASSIGN = False
    return settings
