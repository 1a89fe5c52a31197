"""Media from Telegram (hotline/intake/telegram/media.py): the request at once, the file fetched
after, encrypted before storage, over real HTTP from the fake Bot API, with real bytes.

What matters: nothing waits on a download; the largest photo within the limit is chosen; a
file over the Bot API's 20 MB limit keeps its details and says why; 429, 5xx and network
errors are retried with backoff, then fail with the reason; a file whose bytes disagree with
its kind is never shown inline; places and contact cards are kept (encrypted); an edit keeps
the earlier text.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from hotline import queueing
from hotline.intake.telegram import apply as intake
from hotline.intake.telegram import media
from hotline.intake.telegram.updates import media_of
from hotline.models import MediaKind, MediaState, Message, MessageMedia, MessageRevision
from hotline.privacy import files
from tests.fake_bot_api import DOWNLOAD, FakeBotApi, server_error, too_many_requests
from tests.telegram import edited_update, message_update

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VOICE = (FIXTURES / "voice.ogg").read_bytes()
PHOTO = (FIXTURES / "photo.jpg").read_bytes()
PDF = (FIXTURES / "document.pdf").read_bytes()

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def media_dir(settings, tmp_path) -> Path:
    """Encrypted media in this test's own folder."""
    folder = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "media": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(folder)}},
    }
    settings.TELEGRAM_RETRY_BASE_SECONDS = 1
    return folder


def apply(update: dict, capture) -> tuple[Message, list]:
    """Apply an update as the inbox worker does; returns the message and the tasks it queued."""
    with capture(execute=False) as callbacks:
        outcome = intake.apply_update(update)
    queued = []
    for callback in callbacks:
        task_name = callback.args[0] if getattr(callback, "args", None) else None
        queued.append((task_name, callback.args[1] if task_name else None))
    return Message.objects.get(pk=outcome.message_id), queued


def fetches(queued: list) -> list[int]:
    return [args[0] for name, args in queued if name == queueing.FETCH_MEDIA]


def test_a_voice_message_is_stored_at_once_and_fetched_encrypted(
    bot_api: FakeBotApi, media_dir, django_capture_on_commit_callbacks,
):
    fields = bot_api.add_file("voice-1", VOICE, path="voice/file_1.oga")
    message, queued = apply(message_update(5101, voice={**fields, "duration": 1, "mime_type": "audio/ogg"}),
                            django_capture_on_commit_callbacks)
    attached = message.media.get()
    assert message.body == "[voice message 0:01]"
    assert (attached.kind, attached.state, attached.duration) == (MediaKind.VOICE, MediaState.FETCHING, 1)
    assert fetches(queued) == [attached.pk]
    assert bot_api.calls_of("getFile") == []  # nothing was fetched while the request was stored

    assert media.fetch(attached.pk) is None
    attached.refresh_from_db()
    assert attached.state == MediaState.READY and attached.size == len(VOICE)
    assert attached.sniffed_mime == "audio/ogg" and attached.inline == "audio"
    assert bot_api.calls_of(DOWNLOAD) == [{"path": "voice/file_1.oga"}]
    assert files.read_plain(attached.storage_name, attached.file_key) == VOICE
    stored = (media_dir / attached.storage_name).read_bytes()
    assert b"OggS" not in stored and b"Opus" not in stored and len(stored) > len(VOICE)
    # A second task for the same file (redelivered) downloads nothing.
    assert media.fetch(attached.pk) is None
    assert len(bot_api.calls_of(DOWNLOAD)) == 1


def test_the_largest_photo_within_the_limit_is_fetched(bot_api, settings, django_capture_on_commit_callbacks):
    settings.TELEGRAM_DOWNLOAD_MAX_BYTES = 5000
    small = bot_api.add_file("p-small", PHOTO[:100], path="photos/s.jpg")
    fits = bot_api.add_file("p-fits", PHOTO, path="photos/m.jpg")
    huge = {"file_id": "p-huge", "file_unique_id": "u-huge", "file_size": 9000}
    sizes = [{**small, "width": 90, "height": 67}, {**fits, "width": 320, "height": 240},
             {**huge, "width": 1280, "height": 960}]
    message, _ = apply(message_update(5102, photo=sizes, caption="мой паспорт"), django_capture_on_commit_callbacks)
    attached = message.media.get()
    assert attached.file_id == "p-fits" and (attached.width, attached.height) == (320, 240)
    assert message.body == "[photo] мой паспорт"
    media.fetch(attached.pk)
    attached.refresh_from_db()
    assert attached.state == MediaState.READY and attached.inline == "image" and attached.sniffed_mime == "image/jpeg"


def test_a_file_over_the_download_limit_keeps_its_details_and_says_why(bot_api, django_capture_on_commit_callbacks):
    video = {"file_id": "v-big", "file_unique_id": "u-big", "file_size": 31 * 1024 * 1024, "duration": 95,
             "width": 1280, "height": 720, "mime_type": "video/mp4"}
    message, queued = apply(message_update(5103, video=video), django_capture_on_commit_callbacks)
    attached = message.media.get()
    assert attached.state == MediaState.TOO_LARGE and fetches(queued) == []
    assert "31.0 MB" in attached.reason and "20 MB" in attached.reason
    assert (attached.duration, attached.width, attached.size) == (95, 1280, 31 * 1024 * 1024)


def test_getfile_refusing_a_too_big_file_marks_it_too_large(bot_api, django_capture_on_commit_callbacks):
    # Telegram did not say the size in the update; getFile refuses.
    bot_api.add_file("d-big", b"x", size=25 * 1024 * 1024)
    message, _ = apply(message_update(5104, document={"file_id": "d-big", "file_name": "big.zip"}),
                       django_capture_on_commit_callbacks)
    attached = message.media.get()
    assert media.fetch(attached.pk) is None
    attached.refresh_from_db()
    assert attached.state == MediaState.TOO_LARGE and "20 MB" in attached.reason
    assert attached.filename == "big.zip"


def test_429_waits_as_long_as_telegram_asks_then_fetches(bot_api, django_capture_on_commit_callbacks):
    fields = bot_api.add_file("doc-1", PDF, path="documents/a.pdf")
    message, _ = apply(message_update(5105, document={**fields, "file_name": "справка.pdf"}),
                       django_capture_on_commit_callbacks)
    attached = message.media.get()
    bot_api.script("getFile", too_many_requests(7))
    assert media.fetch(attached.pk) == 7.0
    attached.refresh_from_db()
    assert attached.state == MediaState.FETCHING and attached.reason.startswith("Retrying (attempt 1 failed: HTTP 429")
    # The lease runs until the retry is due: a recovery sweep or a stray task does not jump the queue.
    assert media.claim(attached.pk) is False
    attached.fetch_claimed_at = None
    attached.save(update_fields=["fetch_claimed_at"])
    assert media.fetch(attached.pk) is None
    attached.refresh_from_db()
    assert attached.state == MediaState.READY and attached.sniffed_mime == "application/pdf"
    assert files.read_plain(attached.storage_name, attached.file_key) == PDF


def test_5xx_downloads_are_retried_with_backoff_then_fail_with_the_reason(bot_api, settings,
                                                                           django_capture_on_commit_callbacks):
    settings.MEDIA_FETCH_MAX_ATTEMPTS = 3
    fields = bot_api.add_file("voice-5xx", VOICE)
    message, _ = apply(message_update(5106, voice=fields), django_capture_on_commit_callbacks)
    attached = message.media.get()
    bot_api.script(DOWNLOAD, server_error(), server_error(), server_error())
    delays = []
    for _ in range(3):
        delays.append(media.fetch(attached.pk))
        MessageMedia.objects.filter(pk=attached.pk).update(fetch_claimed_at=None)
    assert delays == [1.0, 2.0, None]
    attached.refresh_from_db()
    assert attached.state == MediaState.FAILED
    assert attached.reason == "Not fetched after 3 attempts; last: HTTP 502: Bad Gateway"
    assert attached.storage_name == ""


def test_a_network_error_is_retried(settings, django_capture_on_commit_callbacks, telegram_settings):
    message, _ = apply(message_update(5107, voice={"file_id": "v-net", "file_unique_id": "u"}),
                       django_capture_on_commit_callbacks)
    attached = message.media.get()
    assert media.fetch(attached.pk) == 1.0  # the discard port: no answer
    attached.refresh_from_db()
    assert attached.state == MediaState.FETCHING and "network error" in attached.reason


def test_a_photo_whose_bytes_are_a_pdf_is_only_a_download(bot_api, django_capture_on_commit_callbacks):
    fields = bot_api.add_file("p-pdf", PDF)
    message, _ = apply(message_update(5108, photo=[{**fields, "width": 10, "height": 10}]),
                       django_capture_on_commit_callbacks)
    attached = message.media.get()
    media.fetch(attached.pk)
    attached.refresh_from_db()
    assert attached.state == MediaState.READY and attached.sniffed_mime == "application/pdf"
    assert attached.inline == ""


def test_a_voice_note_whose_bytes_are_an_image_is_not_played(bot_api, django_capture_on_commit_callbacks):
    fields = bot_api.add_file("v-jpg", PHOTO)
    message, _ = apply(message_update(5109, voice=fields), django_capture_on_commit_callbacks)
    attached = message.media.get()
    media.fetch(attached.pk)
    attached.refresh_from_db()
    assert attached.sniffed_mime == "image/jpeg" and attached.inline == ""


@pytest.mark.usefixtures("telegram_settings")
def test_places_and_contact_cards_are_kept_encrypted(django_capture_on_commit_callbacks):
    venue = {"location": {"latitude": 50.4501, "longitude": 30.5234}, "title": "Вокзал", "address": "Киев"}
    placed, queued = apply(message_update(5110, venue=venue), django_capture_on_commit_callbacks)
    place = placed.media.get()
    assert place.kind == MediaKind.VENUE and place.state == MediaState.READY and fetches(queued) == []
    assert place.details == {"latitude": 50.4501, "longitude": 30.5234, "title": "Вокзал", "address": "Киев"}
    contact = {"phone_number": "+380501234567", "first_name": "Иван", "user_id": 5110}
    shared, _ = apply(message_update(5110, contact=contact), django_capture_on_commit_callbacks)
    card = shared.media.get()
    assert card.details["phone_number"] == "+380501234567" and card.details["own"] is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT details FROM hotline_messagemedia WHERE id IN (%s, %s)", [place.pk, card.pk])
        raw = " ".join(row[0] for row in cursor.fetchall())
    assert "380501234567" not in raw and "50.4501" not in raw and raw.startswith("gAAAAA")
    located, _ = apply(message_update(5110, location={"latitude": 48.5, "longitude": 35.0, "live_period": 60}),
                       django_capture_on_commit_callbacks)
    assert located.media.get().details == {"latitude": 48.5, "longitude": 35.0, "live": True}


@pytest.mark.usefixtures("telegram_settings")
def test_an_edit_keeps_the_earlier_text(django_capture_on_commit_callbacks):
    first = message_update(5111, text="я в Харькове")
    message, _ = apply(first, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        intake.apply_update(edited_update(first, text="я в Изюме"))
    message.refresh_from_db()
    assert message.body == "я в Изюме" and message.edited_at is not None
    assert list(MessageRevision.objects.filter(message=message).values_list("body", flat=True)) == ["я в Харькове"]


@pytest.mark.usefixtures("telegram_settings")
def test_a_lost_fetch_task_is_queued_again(django_capture_on_commit_callbacks):
    message, _ = apply(message_update(5112, voice={"file_id": "v-lost"}), django_capture_on_commit_callbacks)
    attached = message.media.get()
    assert media.requeue_stranded() == []  # not late yet
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert media.requeue_stranded(timezone.now() + timedelta(minutes=5)) == [attached.pk]
    assert len(callbacks) == 1


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("video", {"file_id": "a", "file_unique_id": "ua", "duration": 30, "width": 640, "height": 360,
               "mime_type": "video/mp4", "file_size": 1000},
     {"kind": "video", "duration": 30, "width": 640, "height": 360, "mime": "video/mp4", "size": 1000}),
    ("video_note", {"file_id": "b", "length": 240, "duration": 12},
     {"kind": "video_note", "width": 240, "height": 240, "duration": 12}),
    ("animation", {"file_id": "c", "file_name": "cat.mp4", "mime_type": "video/mp4"},
     {"kind": "animation", "filename": "cat.mp4"}),
    ("sticker", {"file_id": "d", "width": 512, "height": 512, "emoji": "🙏"}, {"kind": "sticker", "width": 512}),
    ("audio", {"file_id": "e", "duration": 185, "title": "song", "file_name": "song.mp3"},
     {"kind": "audio", "duration": 185, "filename": "song.mp3"}),
    ("document", {"file_id": "f", "file_name": "справка.pdf", "mime_type": "application/pdf", "file_size": -5},
     {"kind": "document", "filename": "справка.pdf", "size": None}),
])
def test_every_file_kind_is_read_from_the_update(field, value, expected):
    found = media_of({field: value})
    assert found is not None and found.file_id == value["file_id"]
    assert {key: getattr(found, key) for key in expected} == expected


@pytest.mark.parametrize("message", [
    {"voice": {"duration": 3}},  # no file_id
    {"photo": "not a list"},
    {"photo": []},
    {"location": {"latitude": 91.0, "longitude": 10.0}},
    {"location": {"latitude": "50", "longitude": 30}},
    {"venue": {"title": "x"}},
    {"text": "just words"},
])
def test_malformed_or_absent_media_is_none(message):
    assert media_of(message) is None
