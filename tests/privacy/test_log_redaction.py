"""No contact's identifier, name or words in the logs, on the normal paths and the error paths;
and the redaction filter on the log handlers as defence in depth."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from hotline.intake.telegram import inbox
from hotline.intake.tokens import api_token_create
from hotline.models import Case, Contact
from hotline.privacy.redaction import RedactPersonalData, redact
from tests import telegram
from tests.factories import login

CHAT_ID = 7301234567
TG_NAME, TG_SURNAME = "Афанасий", "Кожемякин"
TG_TEXT = "секретное послание про Кременчуг"
PHONE = "+380 67 765-43-21"
CALLER = "Остап Вишня-Гранд"
CALL_SUMMARY = "обговорили маршрут через Вовчанськ"
API_ID, API_NAME, API_TEXT = "form-9f8e7d6c", "Євлампій", "прошу допомоги біля Купʼянська"
REPLY = "Ми на звʼязку, тримайтеся"

PERSONAL = [
    str(CHAT_ID), TG_NAME, TG_SURNAME, TG_TEXT, PHONE, "380677654321", "765-43-21", CALLER, CALL_SUMMARY,
    API_ID, API_NAME, API_TEXT, REPLY,
]


@pytest.mark.django_db
@pytest.mark.postgres
@pytest.mark.usefixtures("telegram_settings")
def test_intake_reply_call_and_errors_log_nothing_personal(client, caplog, operator, supervisor):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    caplog.set_level(logging.DEBUG, logger="django.request")
    caplog.set_level(logging.DEBUG, logger="hotline")

    # Telegram webhook: a message with text and a name.
    sender = telegram.person(CHAT_ID, first_name=TG_NAME, last_name=TG_SURNAME, language_code=None)
    update = telegram.message_update(CHAT_ID, update_id=880001, text=TG_TEXT, sender=sender)
    assert telegram.post(client, update).status_code == 200
    assert len(inbox.process_pending()) == 1  # the worker's part, which logs too
    # ... and its error paths: a malformed body quoting the words, a wrong secret.
    bad = ('{"update_id": 880002, "message": {"text": "' + TG_TEXT + '", "chat": {"id": ' + str(CHAT_ID)).encode()
    assert telegram.post(client, None, raw=bad).status_code == 400
    assert telegram.post(client, update, secret=None).status_code == 403

    # REST intake, then its error path (a field error quoting the values back to the caller).
    _, raw = api_token_create(actor=supervisor, name="web form")
    auth = {"Authorization": f"Bearer {raw}"}
    body = {"channel": "web", "contact_identifier": API_ID, "contact_name": API_NAME, "language": "uk",
            "text": API_TEXT}
    assert client.post("/api/v1/requests/", body, content_type="application/json", headers=auth).status_code == 201
    wrong = {**body, "channel": f"pigeon {API_ID}", "language": API_NAME}
    assert client.post("/api/v1/requests/", wrong, content_type="application/json", headers=auth).status_code == 400

    # The desk: take the Telegram case, reply; log a phone call; look at a case that is not ours.
    login(client, operator)
    case = Case.objects.get(contact__in=Contact.objects.filter(channel="telegram"))
    assert client.post(reverse("case_take", args=[case.pk])).status_code == 302
    assert client.post(reverse("case_reply", args=[case.pk]), {"text": REPLY}).status_code == 302
    call = {"number": PHONE, "caller_name": CALLER, "language": "uk", "summary": CALL_SUMMARY}
    assert client.post(reverse("call_log"), call).status_code == 302
    assert client.get(reverse("case", args=[987654]) + f"?q={PHONE}").status_code == 404
    assert client.post(reverse("call_log"), {"number": PHONE, "caller_name": CALLER}).status_code == 400  # invalid

    messages = [r.getMessage() for r in caplog.records]
    assert any("telegram update=880001" in m for m in messages)  # the capture works
    assert any("Bad Request" in m for m in messages) and any("Not Found" in m for m in messages)
    everything = "\n".join(messages + [caplog.text] + [r.exc_text or "" for r in caplog.records])
    leaked = [value for value in PERSONAL if value in everything]
    assert leaked == []


def test_redaction_masks_phone_numbers_and_chat_ids_but_keeps_our_ids():
    assert redact("call from +380 (67) 765-43-21 ok") == "call from [redacted] ok"
    assert redact("chat 7301234567 wrote") == "chat [redacted] wrote"
    assert redact("GET /?q=380677654321 HTTP/1.1") == "GET /?q=[redacted] HTTP/1.1"
    assert redact("telegram update=880001234 case=12 message=345") == "telegram update=880001234 case=12 message=345"
    assert redact("took 1500 ms on 2026-03-01 12:00:00") == "took 1500 ms on 2026-03-01 12:00:00"


def test_the_log_handlers_redact_what_slips_through():
    root = logging.getLogger()
    filtered = [h for h in root.handlers if any(isinstance(f, RedactPersonalData) for f in h.filters)]
    assert filtered, "the console handler must carry the redaction filter"
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "lookup failed for %s", (PHONE,), None)
    try:
        raise ValueError(f"duplicate key (identifier)=({CHAT_ID})")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert filtered[0].filter(record)
    formatted = filtered[0].format(record)
    assert "[redacted]" in formatted and "765-43-21" not in formatted and str(CHAT_ID) not in formatted
