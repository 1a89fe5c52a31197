"""Media at rest and on the page: encrypted in storage and in the database, served only through
the case's access check (hotline/desk/views/media.py), shown as sent on the case page, erased
by retention, still readable after a key rotation, and sent by operators (sendPhoto /
sendDocument through the delivery pipeline).
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hotline.delivery import outbound
from hotline.desk import services
from hotline.intake.telegram.media import _sniff
from hotline.models import (
    CaseEvent,
    Delivery,
    Direction,
    EventKind,
    MediaKind,
    MediaState,
    Message,
    MessageMedia,
    Stage,
)
from hotline.privacy import files
from hotline.privacy.retention import anonymise_expired
from tests.factories import login, make_case, receive
from tests.fake_bot_api import too_many_requests

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VOICE = (FIXTURES / "voice.ogg").read_bytes()
PHOTO = (FIXTURES / "photo.jpg").read_bytes()
PDF = (FIXTURES / "document.pdf").read_bytes()
MAGIC = {"JPEG": b"\xff\xd8\xff", "OGG": b"OggS", "PDF": b"%PDF", "Opus": b"OpusHead"}

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def media_dir(settings, tmp_path) -> Path:
    folder = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "media": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(folder)}},
    }
    return folder


def add_media(message: Message, kind: str, data: bytes, *, filename: str = "") -> MessageMedia:
    """A file as the fetch task leaves it: encrypted in storage, its row ready."""
    stored = files.store([data])
    return MessageMedia.objects.create(
        message=message, kind=kind, state=MediaState.READY, size=stored.size, sniffed_mime=_sniff(stored.head),
        storage_name=stored.name, file_key=stored.key, filename=filename, created_at=timezone.now(),
    )


def inbound(case) -> Message:
    return receive(identifier=case.contact.identifier, text="[voice message 0:01]").message


def in_english(user) -> None:
    """The desk speaks Ukrainian by default; these tests read its English strings."""
    user.operator.ui_language = "en"
    user.operator.save(update_fields=["ui_language"])


def url(media: MessageMedia) -> str:
    return reverse("case_media", args=[media.message.case_id, media.pk])


def test_the_owner_gets_the_decrypted_file_with_safe_headers(client, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    voice = add_media(inbound(case), MediaKind.VOICE, VOICE)
    login(client, operator)
    response = client.get(url(voice))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == VOICE
    assert response["Content-Type"] == "audio/ogg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"].split(", ")
    assert response["Content-Disposition"] == f'inline; filename="voice-{voice.pk}.oga"'
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Length"] == str(len(VOICE))


def test_another_operator_gets_404_the_same_as_a_missing_file(client, operator, operator2, supervisor):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    photo = add_media(inbound(case), MediaKind.PHOTO, PHOTO)
    other = make_case(Stage.IN_CONTACT, owner=operator2)
    login(client, operator2)
    assert client.get(url(photo)).status_code == 404
    # Their own case's URL with this file's id: still not theirs.
    assert client.get(reverse("case_media", args=[other.pk, photo.pk])).status_code == 404
    assert client.get(reverse("case_media", args=[other.pk, photo.pk + 1000])).status_code == 404
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.VIEWED, actor=operator2).exists()
    login(client, supervisor)
    assert client.get(url(photo)).status_code == 200


def test_a_read_is_audited_once_per_visit(client, operator, supervisor):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    voice = add_media(inbound(case), MediaKind.VOICE, VOICE)
    login(client, operator)
    for _ in range(3):  # an audio element asks several times, in ranges
        assert client.get(url(voice), headers={"Range": "bytes=0-"}).status_code == 206
    reads = CaseEvent.objects.filter(case=case, kind=EventKind.VIEWED, actor=operator, data__via="file")
    assert list(reads.values_list("data__media_id", flat=True)) == [voice.pk]
    login(client, supervisor)
    in_english(supervisor)
    audit = client.get(reverse("case_reads", args=[case.pk])).content.decode()
    assert "A file of the case" in audit


def test_byte_ranges_are_served_from_the_encrypted_frames(client, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    big = bytes(range(256)) * 1000  # 256,000 bytes: four frames
    document = add_media(inbound(case), MediaKind.DOCUMENT, big, filename="../../etc/пароль\".bin")
    login(client, operator)
    response = client.get(url(document), headers={"Range": "bytes=70000-140000"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 70000-140000/{len(big)}"
    assert b"".join(response.streaming_content) == big[70000:140001]
    assert response["Content-Type"] == "application/octet-stream"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "/" not in disposition and '\\"' not in disposition
    suffix = client.get(url(document), headers={"Range": "bytes=-10"})
    assert b"".join(suffix.streaming_content) == big[-10:]
    assert client.get(url(document), headers={"Range": f"bytes={len(big)}-"}).status_code == 416


def test_a_photo_whose_bytes_are_not_an_image_is_served_as_a_download(client, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    fake = add_media(inbound(case), MediaKind.PHOTO, PDF)
    login(client, operator)
    response = client.get(url(fake))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    page = client.get(reverse("case", args=[case.pk])).content.decode()
    assert f'<img src="{url(fake)}"' not in page and f'href="{url(fake)}" download' in page


def test_the_case_page_shows_media_as_sent_with_constant_queries(client, operator, settings):
    settings.CASE_VIEW_VISIT_MINUTES = 0
    case = make_case(Stage.IN_CONTACT, owner=operator)
    in_english(operator)
    login(client, operator)
    page_url = reverse("case", args=[case.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page_url).status_code == 200
        return len(ctx.captured_queries)

    plain = count()
    voice = add_media(inbound(case), MediaKind.VOICE, VOICE)
    photo = add_media(inbound(case), MediaKind.PHOTO, PHOTO)
    place = inbound(case)
    MessageMedia.objects.create(message=place, kind=MediaKind.LOCATION, state=MediaState.READY,
                                details={"latitude": 50.4501, "longitude": 30.5234}, created_at=timezone.now())
    edited = inbound(case)
    services.message_record_edit(message_id=edited.pk, text="исправлено")
    MessageMedia.objects.create(message=inbound(case), kind=MediaKind.VIDEO, state=MediaState.TOO_LARGE,
                                reason="The file is 31.0 MB; Telegram lets bots download at most 20 MB.",
                                size=31 * 1024 * 1024, created_at=timezone.now())
    MessageMedia.objects.create(message=inbound(case), kind=MediaKind.DOCUMENT, state=MediaState.FETCHING,
                                created_at=timezone.now())
    with_media = count()
    assert with_media == plain + 1  # the earlier texts of edited messages; media come with the conversation
    for _ in range(4):
        add_media(inbound(case), MediaKind.PHOTO, PHOTO)
        services.message_record_edit(message_id=inbound(case).pk, text="ещё")
    assert count() == with_media
    page = client.get(page_url).content.decode()
    assert f'<audio controls preload="metadata" src="{url(voice)}"' in page
    assert f'<img src="{url(photo)}"' in page
    assert "50.450100, 30.523400" in page and "openstreetmap.org/?mlat=50.450100&amp;mlon=30.523400" in page
    assert 'rel="noopener noreferrer"' in page
    assert "edited" in page and "[voice message 0:01]" in page and "исправлено" in page
    assert "Too large to fetch" in page and "at most 20 MB" in page
    assert "fetching from Telegram" in page


def test_retention_erases_the_files_with_the_cases_personal_data(
    client, operator, supervisor, media_dir, settings, django_capture_on_commit_callbacks,
):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    voice = add_media(inbound(case), MediaKind.VOICE, VOICE)
    services.case_close(actor=operator, case_id=case.pk, reason="withdrew", comment="")
    stored = media_dir / voice.storage_name
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=True):
        result = anonymise_expired(now=timezone.now() + timedelta(days=settings.RETENTION_DAYS + 1))
    assert result.cases == 1
    voice.refresh_from_db()
    assert voice.state == MediaState.ERASED and voice.storage_name == "" and voice.file_key == ""
    assert not stored.exists()
    login(client, supervisor)
    assert client.get(reverse("case_media", args=[case.pk, voice.pk])).status_code == 404


def test_files_still_read_after_rotating_the_key(settings, operator):
    old_key, new_key = settings.FIELD_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    case = make_case(Stage.IN_CONTACT, owner=operator)
    voice = add_media(inbound(case), MediaKind.VOICE, VOICE)
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_key", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    voice = MessageMedia.objects.get(pk=voice.pk)
    assert files.read_plain(voice.storage_name, voice.file_key) == VOICE


@pytest.mark.django_db(transaction=True)  # pg_dump reads what is committed
def test_no_jpeg_ogg_or_pdf_in_clear_in_storage_or_a_database_dump(operator, media_dir, settings):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    for kind, data in ((MediaKind.VOICE, VOICE), (MediaKind.PHOTO, PHOTO), (MediaKind.DOCUMENT, PDF)):
        add_media(inbound(case), kind, data, filename="справка.pdf")
    stored = b"".join(path.read_bytes() for path in media_dir.rglob("*") if path.is_file())
    assert len(stored) > len(VOICE) + len(PHOTO) + len(PDF)
    database = settings.DATABASES["default"]
    dump = subprocess.run(  # noqa: S603 - our own test database's name
        ["pg_dump",  # noqa: S607 "-h", database["HOST"] or "127.0.0.1", "-p", str(database["PORT"] or 5432),
         "-U", database["USER"] or "postgres", "--data-only", connection.settings_dict["NAME"]],
        capture_output=True, check=True, timeout=120,
    ).stdout
    assert b"hotline_messagemedia" in dump
    for name, magic in MAGIC.items():
        assert magic not in stored, name
        assert magic not in dump, name
    assert "справка".encode() not in dump


# --- operators send a photo or a document ---------------------------------------------------------


def send(client, case, data: bytes, name: str, *, send_as: str = "photo", caption: str = ""):
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(reverse("case_send_file", args=[case.pk]),
                       {"file": upload, "send_as": send_as, "caption": caption})


def test_an_operator_sends_a_photo_through_the_delivery_pipeline(client, operator, bot_api,
                                                                django_capture_on_commit_callbacks):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    with django_capture_on_commit_callbacks(execute=False):
        response = send(client, case, PHOTO, "passport.jpg", caption="Вот схема")
    assert response.status_code == 302
    message = Message.objects.filter(case=case, direction=Direction.OUTBOUND).latest("pk")
    assert message.delivery == Delivery.QUEUED and message.body == "Вот схема"
    sent = message.media.get()
    assert (sent.kind, sent.sniffed_mime, sent.filename) == (MediaKind.PHOTO, "image/jpeg", "passport.jpg")
    bot_api.script("sendPhoto", too_many_requests(3))
    assert outbound.deliver_message(message.pk) == 3.0
    Message.objects.filter(pk=message.pk).update(delivery_claimed_at=None)
    assert outbound.deliver_message(message.pk) is None
    message.refresh_from_db()
    assert message.delivery == Delivery.SENT
    call = bot_api.calls_of("sendPhoto")[-1]
    assert call["photo"] == PHOTO and call["caption"] == "Вот схема"
    assert call["chat_id"] == case.contact.identifier and call["photo_filename"] == "passport.jpg"


def test_a_document_without_a_caption_is_sent_without_one(client, operator, bot_api,
                                                          django_capture_on_commit_callbacks):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    with django_capture_on_commit_callbacks(execute=False):
        assert send(client, case, PDF, "памятка.pdf", send_as="document").status_code == 302
    message = Message.objects.filter(case=case, direction=Direction.OUTBOUND).latest("pk")
    assert message.body == "[document: памятка.pdf]"
    outbound.deliver_message(message.pk)
    call = bot_api.calls_of("sendDocument")[-1]
    assert call["document"] == PDF and "caption" not in call and call["document_filename"] == "памятка.pdf"


def test_too_large_or_not_an_image_is_a_clear_form_error_and_the_caption_is_kept(client, operator, settings):
    settings.MEDIA_SEND_PHOTO_MAX_BYTES = 500
    case = make_case(Stage.IN_CONTACT, owner=operator)
    in_english(operator)
    login(client, operator)
    before = Message.objects.count()
    response = send(client, case, PHOTO, "big.jpg", caption="подпись остаётся")
    assert response.status_code == 400
    page = response.content.decode()
    assert "The file is 946\xa0bytes; at most 500\xa0bytes can be sent as a photo." in page
    assert "подпись остаётся" in page
    settings.MEDIA_SEND_PHOTO_MAX_BYTES = 10 * 1024 * 1024
    response = send(client, case, PDF, "doc.pdf", caption="x")
    assert response.status_code == 400 and "send it as a document" in response.content.decode()
    assert Message.objects.count() == before


def test_another_operator_cannot_send_a_file_on_a_case_not_theirs(client, operator, operator2):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator2)
    assert send(client, case, PHOTO, "a.jpg").status_code == 404


def test_an_upload_may_be_larger_and_slower_than_other_bodies(settings):
    from hotline.intake.bodies import body_limits, largest_body

    assert body_limits("/cases/12/files/send/") == (20 * 1024 * 1024 + 1024 * 1024, 120.0)
    assert body_limits("/cases/12/reply/") == (largest_body(), float(settings.REQUEST_BODY_TIMEOUT_SECONDS))
    assert body_limits("/telegram/webhook/")[0] < 5 * 1024 * 1024
