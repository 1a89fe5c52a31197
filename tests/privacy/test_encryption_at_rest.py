"""Encryption at rest: after realistic use, no table of the database holds a contact's
identifier, name or words in clear; the data migration and key rotation keep every value."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from django.contrib.sessions.models import Session
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from hotline.desk import services
from hotline.intake.telegram import inbox
from hotline.intake.tokens import api_token_create
from hotline.models import Case, Contact, Message, Stage, TelegramUpdate
from hotline.privacy import crypto
from hotline.privacy.fields import encrypted_columns
from tests import telegram
from tests.factories import make_case, receive
from tests.pages import login

pytestmark = pytest.mark.django_db

CHAT_ID = 7412589630
TG_FIRST, TG_LAST = "Vasylko", "Zaporizhets"
TG_TEXT = "I am Vasylko from the 41st regiment and I want to live"
API_ID, API_NAME, API_TEXT = "form-sender-QX81", "Hryhoriy Zakhidnyi", "Please call me back after dark"
PHONE, PHONE_NAME, PHONE_TEXT = "+380 67 555 12 34", "Mykola Phoneman", "Called from the trench near the mill"
REPLY = "Dear Vasylko, stay where you are tonight"
NOTE = "Mother's name is Halyna Secretova"
CLOSE_COMMENT = "Hryhoriy moved to his cousin in Kursk-secret"
PLACE = "Behind the old grain silo at Pisky-77"
NEEDLES = [
    str(CHAT_ID), TG_FIRST, TG_LAST, TG_TEXT, "edited words of Vasylko", API_ID, API_NAME, API_TEXT,
    "+380675551234", "555 12 34", PHONE_NAME, PHONE_TEXT, REPLY, NOTE, CLOSE_COMMENT, PLACE, "Kursk-secret",
    "\"front\"",  # a triage answer code
]


def _scan_database() -> list[str]:
    """Every value of every table, as text, with session payloads decoded."""
    found: list[str] = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 - names from the database itself
            for row in cursor.fetchall():
                found.extend(
                    value.decode("utf-8", "replace") if isinstance(value, bytes | memoryview) else str(value)
                    for value in row
                )
    for session in Session.objects.all():
        found.append(json.dumps(session.get_decoded(), default=str))
    return found


@pytest.mark.postgres
@pytest.mark.usefixtures("telegram_settings")
def test_no_identity_or_words_in_clear_anywhere_after_realistic_use(client, operator, supervisor):
    # Telegram: a message, its edit, a triage answer.
    sender = telegram.person(CHAT_ID, first_name=TG_FIRST, last_name=TG_LAST)
    first = telegram.message_update(CHAT_ID, text="first words", sender=sender)
    assert telegram.post(client, first).status_code == 200
    for update in [
        telegram.edited_update(first, text="edited words of Vasylko"),
        telegram.message_update(CHAT_ID, text=TG_TEXT, sender=sender),
        telegram.button_update("t:where:front", CHAT_ID, sender=sender),
    ]:
        assert telegram.post(client, update).status_code == 200
    # Stored by the webhook, not yet applied: the raw updates (names, words) are encrypted too.
    assert TelegramUpdate.objects.filter(processed_at__isnull=True).count() == 4
    dump = "\n".join(_scan_database())
    assert [needle for needle in NEEDLES if needle.lower() in dump.lower()] == []
    assert len(inbox.process_pending()) == 4  # the worker's part; it clears the raw updates
    assert not TelegramUpdate.objects.filter(payload__isnull=False).exists()
    telegram_case = Case.objects.get(channel="telegram")
    assert telegram_case.triage["where"]["answer"] == "front"

    # The REST intake API.
    token = api_token_create(actor=supervisor, name="web form")[1]
    response = client.post(
        "/api/v1/requests/", {"channel": "web", "contact_identifier": API_ID, "contact_name": API_NAME,
                              "language": "uk", "text": API_TEXT},
        content_type="application/json", headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    api_case_id = response.json()["case_id"]

    # The desk: an inbound phone call logged, a reply, a note, a close with a comment, a surrender.
    login(client, operator)
    response = client.post("/calls/", {"number": PHONE, "caller_name": PHONE_NAME, "language": "uk",
                                       "summary": PHONE_TEXT})
    assert response.status_code == 302
    client.post(f"/cases/{telegram_case.pk}/take/")
    client.post(f"/cases/{telegram_case.pk}/reply/", {"text": REPLY})
    client.post(f"/cases/{telegram_case.pk}/note/", {"text": NOTE})
    client.post(f"/cases/{api_case_id}/take/")
    client.post(f"/cases/{api_case_id}/call/", {"direction": "outbound", "summary": "ok", "duration_minutes": 3})
    client.post(f"/cases/{api_case_id}/close/", {"reason": "referred", "comment": CLOSE_COMMENT})
    assert client.get(f"/cases/{telegram_case.pk}/").status_code == 200
    for step in ("verified", "planning"):
        services.case_advance(actor=operator, case_id=telegram_case.pk, to_stage=step)
    services.case_record_surrender(
        actor=operator, case_id=telegram_case.pk, surrendered_at=timezone.now(),
        place=PLACE, equipment={},
    )

    # Everything is readable through the models...
    telegram_case.refresh_from_db()
    assert (telegram_case.stage, telegram_case.surrender_place) == (Stage.SURRENDERED, PLACE)
    assert Contact.objects.get(channel="phone").identifier == "+380675551234"
    assert Message.objects.filter(body__isnull=False).count() >= 8
    bodies = {m.body for m in Message.objects.all()}
    assert {TG_TEXT, API_TEXT, PHONE_TEXT, REPLY, NOTE, CLOSE_COMMENT} <= bodies
    # ...and nothing of it is in the database in clear.
    dump = "\n".join(_scan_database())
    assert "olena" in dump and "referred" in dump and "t:where" not in dump  # the scan sees plain data
    leaks = [needle for needle in NEEDLES if needle.lower() in dump.lower()]
    assert leaks == []


def test_encrypted_columns_refuse_to_be_searched():
    with pytest.raises(FieldError, match="encrypted"):
        list(Message.objects.filter(body="x"))
    with pytest.raises(FieldError, match="encrypted"):
        list(Contact.objects.filter(identifier__icontains="380"))
    assert Contact.objects.filter(display_name__isnull=True).count() == 0


def test_every_personal_column_is_encrypted():
    """What is encrypted, in one place: a new personal column must be added here consciously."""
    columns = {(model._meta.db_table, name) for model, names in encrypted_columns() for name in names}
    assert columns == {
        ("hotline_contact", "identifier"), ("hotline_contact", "display_name"), ("hotline_contact", "username"),
        ("hotline_message", "body"),
        ("hotline_case", "surrender_place"), ("hotline_case", "triage"),
        ("hotline_telegramupdate", "payload"),  # a raw update, kept only until it is applied
        ("operators_authenticatordevice", "key"),  # a staff member's TOTP secret (SECURITY.md)
        # Media (issue 15): a document's name, a place's coordinates or a contact card, the file's own key
        ("hotline_messagemedia", "filename"), ("hotline_messagemedia", "details"),
        ("hotline_messagemedia", "file_key"),
        ("hotline_messagerevision", "body"),  # the earlier text of an edited message
    }


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - test constants
        return cursor.fetchone()[0]


def _write_raw(table: str, column: str, pk: int, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608


def test_rotation_reencrypts_every_column_under_the_new_key_and_is_safe_to_rerun(settings, operator):
    old_key, new_key = settings.FIELD_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    case = make_case(Stage.SURRENDERED, owner=operator)
    services_text = {m.pk: m.body for m in Message.objects.filter(case=case)}
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_key", batch_size=2, stdout=(out := _Out()))
    assert "total rotated" in out.text and " 0\n" not in out.text.split("total rotated")[1]
    again = _Out()
    call_command("rotate_encryption_key", stdout=again)
    assert again.text.strip().endswith("total rotated 0")
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone: everything still reads
    case = Case.objects.select_related("contact").get(pk=case.pk)
    assert case.surrender_place == "Sector 4" and case.contact.identifier
    assert {m.pk: m.body for m in Message.objects.filter(case=case)} == services_text


def test_rotation_stops_clearly_when_a_value_needs_a_key_that_was_dropped(settings, operator):
    from django.core.management.base import CommandError

    receive()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="Keep every old key"):
        call_command("rotate_encryption_key", stdout=_Out())


def test_generate_encryption_key_prints_a_usable_key(settings):
    out = _Out()
    call_command("generate_encryption_key", stdout=out)
    settings.FIELD_ENCRYPTION_KEYS = [out.text.strip()]
    assert crypto.decrypt(crypto.encrypt("x")) == "x"


class _Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass
