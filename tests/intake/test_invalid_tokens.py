"""Invalid API tokens are throttled per client address (issue 17, item 8).

Before: unknown or revoked tokens got 401 as fast as they came, with no limit in the app (the
per-token rate only counts a token that exists)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from hotline.intake.tokens import api_token_create, api_token_revoke
from hotline.models import Message

pytestmark = pytest.mark.django_db

URL = "/api/v1/requests/"
BODY = json.dumps({"channel": "web", "contact_identifier": "form-1", "text": "Помогите"})


@pytest.fixture(autouse=True)
def _budget(settings):
    settings.API_INVALID_TOKEN_RATE = "3/minute"
    settings.API_INTAKE_RATE = "1000/minute"


@pytest.fixture
def token(supervisor):
    return api_token_create(actor=supervisor, name="web form")[1]


def submit(client, token: str, address: str = "198.51.100.7"):
    return client.post(
        URL, data=BODY, content_type="application/json", headers={"Authorization": f"Bearer {token}"},
        REMOTE_ADDR=address,
    )


def test_an_address_that_sends_invalid_tokens_is_refused_429_then_let_back(client, token):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        guesses = ["hd_0000_guess", "hd_beef_guess", "not-even-a-token"]
        assert [submit(client, guess).status_code for guess in guesses] == [401, 401, 401]
        refused = submit(client, "hd_cafe_guess")
        assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
        assert "invalid API token from this address" in refused.json()["detail"]
        # The address is refused before its token is looked at, even a good one...
        assert submit(client, token).status_code == 429
        # ...while another address is not.
        assert submit(client, token, address="203.0.113.9").status_code == 201
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert submit(client, token).status_code == 201
    assert Message.objects.count() == 2


def test_a_revoked_token_counts_as_invalid(client, supervisor):
    revoked, raw = api_token_create(actor=supervisor, name="old form")
    api_token_revoke(actor=supervisor, token_id=revoked.pk)
    answers = [submit(client, raw).status_code for _ in range(4)]
    assert answers == [401, 401, 401, 429]


def test_valid_tokens_spend_nothing(client, token):
    assert {submit(client, token).status_code for _ in range(10)} == {201}
    assert submit(client, "hd_0000_guess").status_code == 401  # the whole budget is still there
