"""POST /api/v1/requests/: integrations submit requests with an API token."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from hotline.errors import NotAllowed
from hotline.intake.api import LimitedJSONParser, PayloadTooLarge
from hotline.intake.tokens import api_token_create, api_token_revoke
from hotline.models import ApiToken, Case, Message
from tests.factories import login

pytestmark = pytest.mark.django_db

URL = "/api/v1/requests/"


@pytest.fixture
def token(supervisor):
    return api_token_create(actor=supervisor, name="web form")[1]


def submit(client, body, *, token=None, key=None, **extra):
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key is not None:
        headers["Idempotency-Key"] = key
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", headers=headers, **extra)


def request_body(**overrides):
    return {
        "channel": "web", "contact_identifier": "form-7f3a", "contact_name": "Иван", "language": "ru",
        "text": "Хочу узнать, как сдаться.", **overrides,
    }


def test_a_request_is_stored_and_answered_201_with_the_case(client, token):
    response = submit(client, request_body(), token=token)
    assert response.status_code == 201
    message = Message.objects.get()
    assert response.json() == {
        "case": f"#{message.case_id}", "case_id": message.case_id, "request_id": message.pk, "duplicate": False,
    }
    assert (message.body, message.channel, message.direction) == ("Хочу узнать, как сдаться.", "web", "inbound")
    case = message.case
    assert (case.contact.identifier, case.contact.display_name, case.language) == ("form-7f3a", "Иван", "ru")
    assert case.awaiting_since is not None


def test_a_second_request_from_the_contact_joins_its_case(client, token):
    first = submit(client, request_body(), token=token).json()
    second = submit(client, request_body(text="ещё вопрос"), token=token).json()
    assert first["case_id"] == second["case_id"] and first["request_id"] != second["request_id"]


def test_received_at_with_offset_is_when_the_wait_began(client, token):
    submit(client, request_body(received_at="2025-01-31T10:00:00+02:00"), token=token)
    assert Case.objects.get().awaiting_since.isoformat() == "2025-01-31T08:00:00+00:00"


def test_nul_and_right_to_left_text_is_stored(client, token):
    submit(client, request_body(text="до\x00бро \u202eעברית\u202c"), token=token)
    assert Message.objects.get().body == "добро \u202eעברית\u202c"


# --- authentication -----------------------------------------------------------------------------


def test_no_token_is_401(client):
    response = submit(client, request_body())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert Message.objects.count() == 0


@pytest.mark.parametrize("bad", ["hd_nope_nope", "not-a-token", "hd_", "hd_abc"])
def test_an_unknown_token_is_401(client, token, bad):
    assert submit(client, request_body(), token=bad).status_code == 401


def test_a_token_with_the_right_prefix_but_wrong_secret_is_401(client, token):
    assert submit(client, request_body(), token=token[:-2] + "xx").status_code == 401


def test_a_revoked_token_is_401(client, token, supervisor):
    api_token_revoke(actor=supervisor, token_id=ApiToken.objects.get().pk)
    response = submit(client, request_body(), token=token)
    assert response.status_code == 401
    assert response.json() == {"detail": "This API token has been revoked."}
    assert Message.objects.count() == 0


def test_a_logged_in_operator_cannot_use_the_intake_api(client, operator):
    login(client, operator)
    assert submit(client, request_body()).status_code == 401


def test_the_token_records_its_last_use(client, token):
    assert ApiToken.objects.get().last_used_at is None
    submit(client, request_body(), token=token)
    assert ApiToken.objects.get().last_used_at is not None


def test_a_token_can_do_nothing_but_create_requests(client, token):
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(URL, headers=auth).status_code == 405
    for page in ("/api/schema/", "/api/docs/", "/", "/admin/"):
        response = client.get(page, headers=auth)
        assert response.status_code == 302 and "login" in response.headers["Location"], page


def test_only_supervisors_and_admins_issue_tokens(operator):
    with pytest.raises(NotAllowed):
        api_token_create(actor=operator, name="mine")


def test_only_the_hash_of_a_token_is_stored(token):
    stored = ApiToken.objects.get()
    assert token not in (stored.secret_hash, stored.prefix, stored.name)
    assert token.startswith(f"hd_{stored.prefix}_") and len(token) > 40


def test_management_commands_issue_and_revoke_a_token(client, capsys):
    call_command("api_token_create", "phone system")
    raw = capsys.readouterr().out.strip()
    assert submit(client, request_body(), token=raw).status_code == 201
    call_command("api_token_revoke", ApiToken.objects.get().prefix)
    assert submit(client, request_body(), token=raw).status_code == 401


# --- validation, size, rate -----------------------------------------------------------------------


def test_field_errors_are_400_by_field(client, token):
    response = submit(client, {"channel": "pigeon", "language": "Russian", "text": "  "}, token=token)
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"channel", "contact_identifier", "language", "text"}
    assert errors["text"] == ["The text cannot be empty."]


@pytest.mark.parametrize(
    ("received_at", "message"),
    [
        ("2025-01-31T10:00:00", "Give the time zone offset"),
        ("yesterday", "Datetime has wrong format"),
    ],
)
def test_received_at_must_be_a_past_time_with_offset(client, token, received_at, message):
    response = submit(client, request_body(received_at=received_at), token=token)
    assert response.status_code == 400
    assert message in response.json()["received_at"][0]


@pytest.mark.parametrize("raw", [b"{broken", b"[]", b""])
def test_malformed_bodies_are_400(client, token, raw):
    response = submit(client, raw, token=token)
    assert response.status_code == 400
    assert Message.objects.count() == 0


def test_a_body_that_is_not_json_is_415(client, token):
    response = client.post(URL, data="text=hi", content_type="application/x-www-form-urlencoded",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 415


def test_a_body_over_64_kib_is_413(client, token):
    response = submit(client, request_body(text="я" * 40_000), token=token)  # 80 000 bytes of UTF-8
    assert response.status_code == 413
    assert response.json() == {"detail": "The body can be at most 65536 bytes."}
    assert Message.objects.count() == 0


def test_the_parser_stops_at_the_limit_even_without_a_content_length(settings):
    settings.API_INTAKE_MAX_BYTES = 100
    with pytest.raises(PayloadTooLarge):
        LimitedJSONParser().parse(io.BytesIO(b'{"text": "' + b"x" * 200 + b'"}'))
    assert LimitedJSONParser().parse(io.BytesIO(b'{"text": "ok"}')) == {"text": "ok"}


def test_too_many_requests_from_one_token_is_429(client, token, supervisor, settings):
    settings.API_INTAKE_RATE = "3/minute"
    codes = [submit(client, request_body(text=f"n{n}"), token=token).status_code for n in range(4)]
    assert codes == [201, 201, 201, 429]
    other = api_token_create(actor=supervisor, name="other")[1]
    assert submit(client, request_body(), token=other).status_code == 201  # counted per token


@pytest.mark.redis
def test_the_rate_limit_is_shared_through_redis(client, token, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": settings.REDIS_URL}}
    settings.API_INTAKE_RATE = "2/minute"
    from django.core.cache import cache

    cache.delete(f"throttle_intake_token-{ApiToken.objects.get().pk}")
    codes = [submit(client, request_body(text=f"n{n}"), token=token).status_code for n in range(3)]
    assert codes == [201, 201, 429]
    response = submit(client, request_body(), token=token)
    assert int(response.headers["Retry-After"]) > 0
    cache.delete(f"throttle_intake_token-{ApiToken.objects.get().pk}")


# --- idempotency -------------------------------------------------------------------------------------


def test_a_replay_with_the_same_idempotency_key_answers_200_and_stores_once(client, token):
    first = submit(client, request_body(), token=token, key="order-1")
    again = submit(client, request_body(), token=token, key="order-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "duplicate": True}
    assert Message.objects.count() == 1


def test_idempotency_keys_are_scoped_per_token(client, token, supervisor):
    other = api_token_create(actor=supervisor, name="other")[1]
    assert submit(client, request_body(), token=token, key="k").status_code == 201
    assert submit(client, request_body(), token=other, key="k").status_code == 201
    assert Message.objects.count() == 2


def test_a_key_reused_for_a_different_request_is_422_not_silently_dropped(client, token):
    submit(client, request_body(), token=token, key="k2")
    response = submit(client, request_body(text="совсем другое"), token=token, key="k2")
    assert response.status_code == 422
    response = submit(client, request_body(contact_identifier="someone-else"), token=token, key="k2")
    assert response.status_code == 422


def test_an_idempotency_key_too_long_is_400(client, token):
    response = submit(client, request_body(), token=token, key="x" * 201)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()


# --- schema and docs -------------------------------------------------------------------------------------


def test_schema_and_docs_need_a_login(client):
    for page in ("/api/schema/", "/api/docs/"):
        response = client.get(page)
        assert response.status_code == 302 and "login" in response.headers["Location"]


def test_schema_documents_every_answer_of_the_intake_endpoint(client, operator):
    login(client, operator)
    response = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    operation = schema["paths"]["/api/v1/requests/"]["post"]
    assert set(operation["responses"]) == {"200", "201", "400", "401", "403", "406", "413", "415", "422", "429"}
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    assert operation["security"] == [{"ApiToken": []}]
    assert schema["components"]["securitySchemes"]["ApiToken"]["scheme"] == "bearer"


def test_docs_page_serves_swagger_ui_from_our_own_static_files(client, operator):
    login(client, operator)
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
